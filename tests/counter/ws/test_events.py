"""The one encoder of outgoing counter events, and the close reasons."""

import json

import pytest

from balto.core.errors import BadRequest, Conflict, NotFound, StorageError
from balto.counter.ws import events as e
from balto.counter.ws import protocol as p


@pytest.mark.parametrize(
    ("event", "wire"),
    [
        (
            e.AuthOk(sample_rate=8000, counter_name="Balcão 1"),
            '{"comando": "auth_ok", "sample_rate": 8000, "balcao": "Balcão 1"}',
        ),
        (
            e.Recommendation(
                interaction_id="i-1",
                message="Sugerir Dorflex",
                product="Dorflex",
                category="dor",
                trigger="dor nas costas",
            ),
            '{"comando": "recomendar", "mensagem": "Sugerir Dorflex", "id_interacao": "i-1",'
            ' "produto": "Dorflex", "categoria": "dor", "gatilho": "dor nas costas",'
            ' "tipo": "sugerir"}',
        ),
        (
            e.Recommendation(
                interaction_id="i-2",
                message="Encaminhar ao farmacêutico: dor no peito",
                product="",
                category="alerta",
                trigger="dor peito",
                kind="encaminhar",
            ),
            '{"comando": "recomendar", "mensagem": "Encaminhar ao farmacêutico: dor no peito",'
            ' "id_interacao": "i-2", "produto": "", "categoria": "alerta",'
            ' "gatilho": "dor peito", "tipo": "encaminhar"}',
        ),
        (
            e.FeedbackOk(interaction_id="i-1", result="venda_realizada"),
            '{"comando": "feedback_ok", "id_interacao": "i-1", "resultado": "venda_realizada"}',
        ),
        (
            e.ErrorMessage("Sessão já autenticada", e.ErrorCode.ALREADY_AUTHENTICATED),
            '{"comando": "erro", "mensagem": "Sessão já autenticada", "codigo": "ja_autenticado"}',
        ),
    ],
    ids=["auth_ok", "recomendar", "encaminhar", "feedback_ok", "erro"],
)
def test_exact_wire_json(event, wire):
    assert e.encode(event) == wire


def test_encoded_text_is_json_with_quotes_escaped():
    text = e.encode(e.ErrorMessage('Comando desconhecido: "x"\n', e.ErrorCode.UNKNOWN_COMMAND))
    assert json.loads(text) == {
        "comando": "erro",
        "mensagem": 'Comando desconhecido: "x"\n',
        "codigo": "comando_desconhecido",
    }


def test_error_codes_are_unique_lowercase_words():
    codes = [code.value for code in e.ErrorCode]
    assert len(set(codes)) == len(codes)
    assert all(code.isascii() and code == code.lower() and " " not in code for code in codes)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (Conflict("Feedback já registrado para a interação i-1"), "feedback_ja_registrado"),
        (BadRequest("Interação desconhecida: i-1"), "feedback_recusado"),
        (NotFound("Interação desconhecida: i-1"), "feedback_recusado"),
        (StorageError("Falha ao gravar o feedback: disco cheio"), "falha_no_servidor"),
    ],
)
def test_a_refused_feedback_keeps_the_stores_text_and_gets_a_code(error, code):
    assert e.feedback_refused(error) == e.ErrorMessage(error.message, e.ErrorCode(code))


def test_events_are_frozen():
    event = e.FeedbackOk("i", "venda_perdida")
    with pytest.raises(AttributeError):
        event.result = "venda_realizada"  # type: ignore[misc]


def test_close_reasons_have_unique_labels_and_texts():
    reasons = list(e.CloseReason)
    assert len({r.label for r in reasons}) == len({r.text for r in reasons}) == len(reasons)
    assert all(r.label == r.name.lower() and len(r.text.encode()) < 100 for r in reasons)
    assert e.CloseReason.INVALID_JSON.code == 1007
    assert e.CloseReason.STORAGE_UNAVAILABLE.code == 1013
    assert e.CloseReason.GOING_AWAY.code == 1001


def test_close_reason_text_on_the_wire():
    proto = p.CounterProtocol()
    action = proto.receive_text('{"comando": "auth", "api_key": "k", "b": 1, "a": 2}')
    assert isinstance(action, p.Close) and action.cause is e.CloseReason.UNKNOWN_FIELDS
    assert action.reason == "Campo(s) desconhecido(s): a, b"
    assert p.CounterProtocol().auth_timed_out().reason == "Tempo esgotado aguardando autenticação"
