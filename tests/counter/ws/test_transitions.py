"""The counter protocol's phase table: every call goes through it; forbidden calls raise."""

from collections.abc import Callable

import pytest

from balto.core.errors import ClientError
from balto.counter.ws import protocol as p
from balto.counter.ws.events import CloseReason

AUTH = '{"comando": "auth", "api_key": "k"}'
FEEDBACK = '{"comando": "feedback", "id_interacao": "i", "resultado": "venda_perdida"}'


def in_phase(phase: p.Phase) -> p.CounterProtocol:
    proto = p.CounterProtocol()
    if phase is p.Phase.CLOSED:
        proto.auth_timed_out()
    if phase in (p.Phase.AUTHENTICATING, p.Phase.ACTIVE):
        assert isinstance(proto.receive_text(AUTH), p.Authenticate)
    if phase is p.Phase.ACTIVE:
        proto.authenticated("Loja")
    assert proto.phase is phase
    return proto


CALLS: dict[str, tuple[p.Trigger, Callable[[p.CounterProtocol], object]]] = {
    "authenticated": (p.Trigger.KEY_ACCEPTED, lambda proto: proto.authenticated("Loja")),
    "auth_failed": (p.Trigger.KEY_REFUSED, lambda proto: proto.auth_failed()),
    "auth_unavailable": (p.Trigger.STORE_UNAVAILABLE, lambda proto: proto.auth_unavailable()),
    "auth_timed_out": (p.Trigger.AUTH_TIMEOUT, lambda proto: proto.auth_timed_out()),
    "going_away": (p.Trigger.SHUTDOWN, lambda proto: proto.going_away()),
    "feedback": (p.Trigger.TEXT, lambda proto: proto.receive_text(FEEDBACK)),
    "audio": (p.Trigger.AUDIO, lambda proto: proto.receive_binary(b"\x00\x00")),
}


@pytest.mark.parametrize("phase", [ph for ph in p.Phase if ph is not p.Phase.AWAITING_AUTH])
@pytest.mark.parametrize("call", sorted(CALLS))
def test_every_call_follows_the_table(phase, call):
    """Allowed: the phase moves as the table says. Forbidden: raises, phase unchanged."""
    trigger, invoke = CALLS[call]
    proto = in_phase(phase)
    expected = p.TRANSITIONS.get((phase, trigger))
    if expected is None:
        with pytest.raises(p.LocalProtocolError):
            invoke(proto)
        assert proto.phase is phase
    else:
        invoke(proto)
        assert proto.phase is expected


@pytest.mark.parametrize("call", ["auth_timed_out", "going_away"])
def test_calls_allowed_before_auth(call):
    trigger, invoke = CALLS[call]
    proto = p.CounterProtocol()
    assert isinstance(invoke(proto), p.Close)
    assert proto.phase is p.TRANSITIONS[p.Phase.AWAITING_AUTH, trigger] is p.Phase.CLOSED


@pytest.mark.parametrize("call", ["authenticated", "auth_failed", "auth_unavailable"])
def test_verdict_without_an_auth_request_raises(call):
    proto = p.CounterProtocol()
    with pytest.raises(p.LocalProtocolError):
        CALLS[call][1](proto)
    assert proto.phase is p.Phase.AWAITING_AUTH


def test_a_closed_session_cannot_be_reopened():
    proto = in_phase(p.Phase.AUTHENTICATING)
    proto.auth_failed()
    with pytest.raises(p.LocalProtocolError, match="key_accepted"):
        proto.authenticated("Loja")
    assert proto.phase is p.Phase.CLOSED


def test_a_session_authenticates_once():
    proto = in_phase(p.Phase.ACTIVE)
    with pytest.raises(p.LocalProtocolError):
        proto.authenticated("Loja")
    # the peer's second auth is the peer's mistake: an erro reply, not an exception
    assert isinstance(proto.receive_text(AUTH), p.Reply)


def test_closed_session_reads_nothing():
    proto = in_phase(p.Phase.CLOSED)
    with pytest.raises(p.LocalProtocolError):
        proto.receive_text(AUTH)
    with pytest.raises(p.LocalProtocolError):
        proto.receive_binary(b"\x00\x00")


def test_local_errors_are_not_the_peers():
    assert not issubclass(p.LocalProtocolError, ClientError)


def test_only_closed_is_terminal():
    sources = {phase for phase, _ in p.TRANSITIONS}
    assert sources == set(p.Phase) - {p.Phase.CLOSED}


def test_bad_audio_closes_with_its_reason(monkeypatch):
    proto = in_phase(p.Phase.ACTIVE)

    def refuse(data: bytes) -> None:
        raise ClientError("x" * 500)

    monkeypatch.setattr(proto._decoder, "feed", refuse)
    action = proto.receive_binary(b"\x00\x00")
    assert isinstance(action, p.Close) and action.cause is CloseReason.BAD_AUDIO
    assert action.code == 1008 and action.reason == "Áudio inválido: " + "x" * 120
    assert proto.phase is p.Phase.CLOSED
