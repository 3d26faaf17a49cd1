"""The counter session protocol, without I/O.

The shell feeds every WebSocket message in and carries out the action that comes back:

- before auth, the first message must be ``{"comando": "auth", "api_key": ...}``; text that
  is not JSON we accept (:mod:`balto.core.json_input`) → ``Close`` with 1007, anything else →
  ``Close`` with 1008; a valid one → ``Authenticate`` (the shell looks the key up, then calls
  ``authenticated``, ``auth_failed`` or ``auth_unavailable``);
- after auth, binary frames → ``Audio`` (PCM reassembled and resampled to 16 kHz), a
  ``feedback`` → ``Feedback``; any bad text → ``Reply`` with an ``ErrorMessage`` and the
  socket stays.

Every phase change goes through :data:`TRANSITIONS`, one ``(phase, trigger) → phase`` table as
in h11's ``_state.py``. A call the current phase does not allow raises
:class:`LocalProtocolError`: a bug in the shell, never the peer's fault.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from balto.core.errors import BaltoError, ClientError
from balto.core.json_input import InvalidJson, JsonLimits, decode_json, decode_json_object
from balto.counter.audio.pcm import PcmDecoder
from balto.counter.ws.events import AuthOk, CloseReason, ErrorCode, ErrorMessage, OutgoingEvent

RESULTS = ("venda_realizada", "venda_perdida")
AUTH_FIELDS = {"comando", "api_key", "sample_rate"}
MAX_INTERACTION_ID = 100
MAX_AUDIO_DETAIL = 120
#: Commands are small; audio travels in binary frames.
COMMAND_LIMITS = JsonLimits(max_bytes=16 * 1024, max_depth=8)


class LocalProtocolError(BaltoError):
    """This side called the protocol in a phase that forbids the call (a shell bug).

    Distinct from the peer's errors (:class:`balto.core.errors.ClientError`): those come back
    as ``Close`` or ``Reply`` actions and never raise.
    """


class Phase(enum.Enum):
    AWAITING_AUTH = "awaiting_auth"
    AUTHENTICATING = "authenticating"  # the shell is looking the key up
    ACTIVE = "active"
    CLOSED = "closed"


class Trigger(enum.Enum):
    """What moves a session: a call of the shell, or what the peer's message turned out to be."""

    AUTH_REQUEST = "auth_request"  # a valid auth command
    KEY_ACCEPTED = "key_accepted"  # authenticated()
    KEY_REFUSED = "key_refused"  # auth_failed()
    STORE_UNAVAILABLE = "store_unavailable"  # auth_unavailable()
    AUTH_TIMEOUT = "auth_timeout"  # auth_timed_out()
    TEXT = "text"  # a text message of the active session
    AUDIO = "audio"  # a binary message of the active session
    PEER_VIOLATION = "peer_violation"  # the peer broke the protocol: we close
    SHUTDOWN = "shutdown"  # going_away()
    REVOKED = "revoked"  # revoked(), key_replaced(): the chain revoked or replaced the key


TRANSITIONS: Final[Mapping[tuple[Phase, Trigger], Phase]] = {
    (Phase.AWAITING_AUTH, Trigger.AUTH_REQUEST): Phase.AUTHENTICATING,
    (Phase.AWAITING_AUTH, Trigger.PEER_VIOLATION): Phase.CLOSED,
    (Phase.AWAITING_AUTH, Trigger.AUTH_TIMEOUT): Phase.CLOSED,
    (Phase.AWAITING_AUTH, Trigger.SHUTDOWN): Phase.CLOSED,
    (Phase.AUTHENTICATING, Trigger.KEY_ACCEPTED): Phase.ACTIVE,
    (Phase.AUTHENTICATING, Trigger.KEY_REFUSED): Phase.CLOSED,
    (Phase.AUTHENTICATING, Trigger.STORE_UNAVAILABLE): Phase.CLOSED,
    (Phase.ACTIVE, Trigger.TEXT): Phase.ACTIVE,
    (Phase.ACTIVE, Trigger.AUDIO): Phase.ACTIVE,
    (Phase.ACTIVE, Trigger.PEER_VIOLATION): Phase.CLOSED,  # PCM the decoder refuses
    (Phase.ACTIVE, Trigger.SHUTDOWN): Phase.CLOSED,
    (Phase.ACTIVE, Trigger.REVOKED): Phase.CLOSED,
}


@dataclasses.dataclass(frozen=True, slots=True)
class Authenticate:
    api_key: str
    sample_rate_hz: int


@dataclasses.dataclass(frozen=True, slots=True)
class Feedback:
    interaction_id: str
    result: str


@dataclasses.dataclass(frozen=True, slots=True)
class Audio:
    samples: npt.NDArray[np.float32]
    bytes_received: int


@dataclasses.dataclass(frozen=True, slots=True)
class Reply:
    event: OutgoingEvent


@dataclasses.dataclass(frozen=True, slots=True)
class Close:
    cause: CloseReason
    detail: str = ""

    @property
    def code(self) -> int:
        return self.cause.code

    @property
    def reason(self) -> str:
        """The close frame's reason: the cause's text, then the detail if any."""
        return f"{self.cause.text}: {self.detail}" if self.detail else self.cause.text


Action = Authenticate | Feedback | Audio | Reply | Close


class CounterProtocol:
    def __init__(self) -> None:
        self.phase = Phase.AWAITING_AUTH
        self._decoder: PcmDecoder | None = None
        self._sample_rate_hz = 16_000

    # -- input ----------------------------------------------------------------------------

    def receive_text(self, text: str) -> Action:
        if self.phase is Phase.AWAITING_AUTH:
            return self._first_message(text)
        self._process(Trigger.TEXT)
        return self._command(text)

    def receive_binary(self, data: bytes) -> Audio | Close:
        if self.phase is Phase.AWAITING_AUTH:
            return self._close(Trigger.PEER_VIOLATION, CloseReason.AUDIO_BEFORE_AUTH)
        self._process(Trigger.AUDIO)
        assert self._decoder is not None  # made on entering ACTIVE
        try:
            samples = self._decoder.feed(data)
        except ClientError as exc:
            detail = exc.message[:MAX_AUDIO_DETAIL]
            return self._close(Trigger.PEER_VIOLATION, CloseReason.BAD_AUDIO, detail)
        return Audio(samples, len(data))

    # -- the shell's verdicts -------------------------------------------------------------

    def authenticated(self, counter_name: str) -> AuthOk:
        self._process(Trigger.KEY_ACCEPTED)
        self._decoder = PcmDecoder(self._sample_rate_hz)
        return AuthOk(self._sample_rate_hz, counter_name)

    def auth_failed(self) -> Close:
        return self._close(Trigger.KEY_REFUSED, CloseReason.WRONG_API_KEY)

    def auth_unavailable(self) -> Close:
        return self._close(Trigger.STORE_UNAVAILABLE, CloseReason.STORAGE_UNAVAILABLE)

    def auth_timed_out(self) -> Close:
        return self._close(Trigger.AUTH_TIMEOUT, CloseReason.AUTH_TIMEOUT)

    def going_away(self) -> Close:
        return self._close(Trigger.SHUTDOWN, CloseReason.GOING_AWAY)

    def revoked(self) -> Close:
        return self._close(Trigger.REVOKED, CloseReason.REVOKED)

    def key_replaced(self) -> Close:
        """The chain rotated this counter's api_key: the old one's session ends (1008)."""
        return self._close(Trigger.REVOKED, CloseReason.KEY_REPLACED)

    # -- internals ------------------------------------------------------------------------

    def _process(self, trigger: Trigger) -> None:
        try:
            self.phase = TRANSITIONS[self.phase, trigger]
        except KeyError:
            raise LocalProtocolError(
                f"{trigger.value} is not allowed in phase {self.phase.value}"
            ) from None

    def _close(self, trigger: Trigger, cause: CloseReason, detail: str = "") -> Close:
        self._process(trigger)
        return Close(cause, detail)

    def _first_message(self, text: str) -> Authenticate | Close:
        violation = Trigger.PEER_VIOLATION
        try:
            message = decode_json(text, COMMAND_LIMITS)
        except InvalidJson as exc:
            return self._close(violation, CloseReason.INVALID_JSON, exc.message)
        if not isinstance(message, dict):
            return self._close(violation, CloseReason.NOT_AN_OBJECT)
        if message.get("comando") != "auth":
            return self._close(violation, CloseReason.NOT_AUTH)
        unknown = sorted(set(message) - AUTH_FIELDS)
        if unknown:
            return self._close(violation, CloseReason.UNKNOWN_FIELDS, ", ".join(unknown))
        api_key = message.get("api_key")
        if not isinstance(api_key, str) or not api_key.strip() or len(api_key) > 100:
            return self._close(violation, CloseReason.BAD_API_KEY)
        rate = message.get("sample_rate", 16_000)
        if isinstance(rate, bool) or not isinstance(rate, int) or not 8_000 <= rate <= 48_000:
            return self._close(violation, CloseReason.BAD_SAMPLE_RATE)
        self._process(Trigger.AUTH_REQUEST)
        self._sample_rate_hz = rate
        return Authenticate(api_key.strip(), rate)

    def _command(self, text: str) -> Reply | Feedback:
        try:
            message = decode_json_object(text, COMMAND_LIMITS)
        except InvalidJson as exc:
            return _refuse(ErrorCode.INVALID_JSON, exc.message)
        command = message.get("comando")
        if command == "feedback":
            return self._feedback(message)
        if command == "auth":
            return _refuse(ErrorCode.ALREADY_AUTHENTICATED, "Sessão já autenticada")
        if not isinstance(command, str):
            return _refuse(ErrorCode.BAD_COMMAND, "Campo 'comando' ausente ou inválido")
        return _refuse(ErrorCode.UNKNOWN_COMMAND, f"Comando desconhecido: {command}")

    def _feedback(self, message: dict[str, Any]) -> Reply | Feedback:
        interaction_id = message.get("id_interacao")
        if (
            not isinstance(interaction_id, str)
            or not interaction_id.strip()
            or len(interaction_id) > MAX_INTERACTION_ID
        ):
            return _refuse(ErrorCode.BAD_INTERACTION_ID, "Campo 'id_interacao' ausente ou inválido")
        result = message.get("resultado")
        if result not in RESULTS:
            return _refuse(
                ErrorCode.BAD_RESULT, "Resultado inválido: use venda_realizada ou venda_perdida"
            )
        return Feedback(interaction_id.strip(), str(result))


def _refuse(code: ErrorCode, message: str) -> Reply:
    return Reply(ErrorMessage(message, code))
