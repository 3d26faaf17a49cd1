import json

import numpy as np
import pytest

from balto.counter.ws import events as e
from balto.counter.ws import protocol as p


def authed(rate: int = 16000) -> p.CounterProtocol:
    proto = p.CounterProtocol()
    action = proto.receive_text(
        json.dumps({"comando": "auth", "api_key": "k", "sample_rate": rate})
    )
    assert isinstance(action, p.Authenticate)
    assert proto.authenticated("Loja 01") == e.AuthOk(rate, "Loja 01")
    return proto


@pytest.mark.parametrize(
    ("first", "fragment"),
    [
        ("[1]", "objeto JSON"),
        ('{"comando": "feedback"}', "auth"),
        ('{"comando": "auth"}', "api_key"),
        ('{"comando": "auth", "api_key": 7}', "api_key"),
        ('{"comando": "auth", "api_key": "k", "sample_rate": 100}', "sample_rate"),
        ('{"comando": "auth", "api_key": "k", "sample_rate": true}', "sample_rate"),
        ('{"comando": "auth", "api_key": "k", "outro": 1}', "outro"),
    ],
)
def test_bad_first_message_closes_1008(first, fragment):
    proto = p.CounterProtocol()
    action = proto.receive_text(first)
    assert isinstance(action, p.Close)
    assert action.code == 1008 and fragment in action.reason
    assert proto.phase is p.Phase.CLOSED


@pytest.mark.parametrize(
    "first",
    [
        "não é json",
        '{"comando": "auth", "api_key": "\\ud800"}',  # a lone surrogate escape
        '{"comando": "auth", "api_key": "k", "sample_rate": ' + "1" * 5000 + "}",
        "[" * 100_000 + "]" * 100_000,
        '{"comando": "auth", "api_key": "k", "sample_rate": NaN}',
    ],
    ids=["not-json", "surrogate", "long-int", "deep", "nan"],
)
def test_first_message_that_is_not_acceptable_json_closes_1007(first):
    proto = p.CounterProtocol()
    action = proto.receive_text(first)
    assert isinstance(action, p.Close) and action.code == 1007
    assert action.reason.startswith("Primeira mensagem inválida")
    assert proto.phase is p.Phase.CLOSED


@pytest.mark.parametrize(
    "text",
    [
        '{"comando": "feedback", "id_interacao": "\\udc00", "resultado": "venda_perdida"}',
        '{"comando": "feedback", "id_interacao": ' + "9" * 5000 + "}",
        json.dumps(
            {"comando": "feedback", "id_interacao": "x" * 101, "resultado": "venda_perdida"}
        ),
    ],
    ids=["surrogate", "long-int", "long-id"],
)
def test_bad_feedback_after_auth_is_an_erro_reply(text):
    proto = authed()
    action = proto.receive_text(text)
    assert isinstance(action, p.Reply) and isinstance(action.event, e.ErrorMessage)
    assert proto.phase is p.Phase.ACTIVE


def test_audio_before_auth_closes_1008():
    action = p.CounterProtocol().receive_binary(b"\x00\x00")
    assert isinstance(action, p.Close) and action.code == 1008


def test_wrong_key_and_timeout_close_1008():
    proto = p.CounterProtocol()
    proto.receive_text('{"comando": "auth", "api_key": "k"}')
    assert proto.auth_failed().code == 1008
    assert "Tempo" in p.CounterProtocol().auth_timed_out().reason


def test_odd_frames_reassemble_into_exact_samples():
    proto = authed()
    pcm = np.array([1000, -2000, 32767, -32768, 5], dtype="<i2").tobytes()
    got = []
    for piece in (pcm[:3], pcm[3:4], pcm[4:9], pcm[9:]):
        action = proto.receive_binary(piece)
        assert isinstance(action, p.Audio)
        got.append(action.samples)
    samples = np.concatenate(got)
    assert len(samples) == 5
    assert np.allclose(samples * 32768, [1000, -2000, 32767, -32768, 5])


def test_declared_rate_is_resampled_to_16k():
    proto = authed(8000)
    action = proto.receive_binary(np.zeros(8000, dtype="<i2").tobytes())
    assert isinstance(action, p.Audio)
    assert 14000 < len(action.samples) <= 16000  # the stream resampler holds back a few


@pytest.mark.parametrize(
    ("text", "fragment", "code"),
    [
        ("{", "JSON", "json_invalido"),
        ('"x"', "objeto", "json_invalido"),
        ('{"comando": "dançar"}', "Comando desconhecido", "comando_desconhecido"),
        ('{"sem": "comando"}', "comando", "comando_invalido"),
        ('{"comando": "auth", "api_key": "k"}', "já autenticada", "ja_autenticado"),
        (
            '{"comando": "feedback", "resultado": "venda_realizada"}',
            "id_interacao",
            "id_interacao_invalido",
        ),
        (
            '{"comando": "feedback", "id_interacao": "x", "resultado": "talvez"}',
            "Resultado inválido",
            "resultado_invalido",
        ),
    ],
)
def test_bad_text_after_auth_is_an_error_reply_and_session_stays(text, fragment, code):
    proto = authed()
    action = proto.receive_text(text)
    assert isinstance(action, p.Reply) and isinstance(action.event, e.ErrorMessage)
    assert fragment in action.event.message and action.event.code.value == code
    assert proto.phase is p.Phase.ACTIVE


def test_feedback_parsed():
    proto = authed()
    action = proto.receive_text(
        json.dumps({"comando": "feedback", "id_interacao": " abc ", "resultado": "venda_perdida"})
    )
    assert action == p.Feedback("abc", "venda_perdida")


def test_revocation_closes_an_active_session_1008_once():
    proto = authed()
    close = proto.revoked()
    assert close.cause is e.CloseReason.REVOKED and close.code == 1008
    assert close.reason == "api_key revogada" and proto.phase is p.Phase.CLOSED
    with pytest.raises(p.LocalProtocolError):
        proto.revoked()  # the shell checks the phase first; a second close is its bug
    with pytest.raises(p.LocalProtocolError):
        p.CounterProtocol().revoked()  # no session to revoke before auth


def test_a_replaced_key_closes_an_active_session_1008_with_its_own_reason():
    proto = authed()
    close = proto.key_replaced()
    assert close.cause is e.CloseReason.KEY_REPLACED and close.code == 1008
    assert close.reason == "api_key substituída por uma nova" and proto.phase is p.Phase.CLOSED
    assert close.cause.label == "key_replaced"
    with pytest.raises(p.LocalProtocolError):
        proto.revoked()
