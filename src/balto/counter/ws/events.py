"""What the server sends a counter, without I/O: typed outgoing events and close reasons.

Every text message the server writes is one of the frozen events below, and :func:`encode` is
the only place that knows the wire spelling. The wire keeps the seed's field names
(``comando``, ``mensagem``, ``id_interacao``, ``produto``, ``categoria``, ``gatilho``,
``resultado``, ``sample_rate``, ``balcao``), plus ``tipo`` on ``recomendar`` ("sugerir" or
"encaminhar"; a referral's ``produto`` is "") and ``codigo`` on ``erro`` (an
:class:`ErrorCode`'s value: what a client tests, never the Portuguese ``mensagem``); the events
use English names.

A socket the server closes carries a :class:`CloseReason`: the close code, a stable machine
name (the member's ``label``: metric labels, logs) and the Portuguese text the peer reads.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from typing import Any

from balto.core.errors import BaltoError, ClientError, Conflict

__all__ = [
    "GOING_AWAY",
    "INVALID_DATA",
    "POLICY_VIOLATION",
    "TRY_AGAIN_LATER",
    "AuthOk",
    "CloseReason",
    "ErrorCode",
    "ErrorMessage",
    "FeedbackOk",
    "OutgoingEvent",
    "Recommendation",
    "encode",
    "feedback_refused",
]

GOING_AWAY = 1001
INVALID_DATA = 1007
POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013


class CloseReason(enum.Enum):
    """Why the server closes a counter socket: ``(code, text)``; ``label`` is the name."""

    INVALID_JSON = (INVALID_DATA, "Primeira mensagem inválida")
    NOT_AN_OBJECT = (POLICY_VIOLATION, "A primeira mensagem deve ser um objeto JSON")
    NOT_AUTH = (POLICY_VIOLATION, "A primeira mensagem deve ser o comando auth")
    UNKNOWN_FIELDS = (POLICY_VIOLATION, "Campo(s) desconhecido(s)")
    BAD_API_KEY = (POLICY_VIOLATION, "Campo 'api_key' ausente ou inválido")
    BAD_SAMPLE_RATE = (POLICY_VIOLATION, "sample_rate deve ser um inteiro entre 8000 e 48000")
    AUDIO_BEFORE_AUTH = (POLICY_VIOLATION, "Autentique-se antes de enviar áudio")
    WRONG_API_KEY = (POLICY_VIOLATION, "api_key inválida")
    AUTH_TIMEOUT = (POLICY_VIOLATION, "Tempo esgotado aguardando autenticação")
    STORAGE_UNAVAILABLE = (TRY_AGAIN_LATER, "Banco de dados indisponível")
    BAD_AUDIO = (POLICY_VIOLATION, "Áudio inválido")
    REVOKED = (POLICY_VIOLATION, "api_key revogada")
    KEY_REPLACED = (POLICY_VIOLATION, "api_key substituída por uma nova")
    GOING_AWAY = (GOING_AWAY, "Servidor encerrando")

    def __init__(self, code: int, text: str) -> None:
        self.code = code
        self.text = text

    @property
    def label(self) -> str:
        """The stable machine name: ``wrong_api_key``, ``auth_timeout``..."""
        return self.name.lower()


@dataclasses.dataclass(frozen=True, slots=True)
class AuthOk:
    """The key was accepted: the rate the server will read audio at, and the counter's name."""

    sample_rate: int
    counter_name: str


@dataclasses.dataclass(frozen=True, slots=True)
class Recommendation:
    interaction_id: str
    message: str
    product: str
    category: str
    trigger: str
    kind: str = "sugerir"  # "encaminhar": refer to the pharmacist, ``product`` is ""


@dataclasses.dataclass(frozen=True, slots=True)
class FeedbackOk:
    interaction_id: str
    result: str


class ErrorCode(enum.Enum):
    """Why a command was refused: the ``codigo`` of an ``erro``, stable across versions."""

    INVALID_JSON = "json_invalido"
    ALREADY_AUTHENTICATED = "ja_autenticado"
    BAD_COMMAND = "comando_invalido"
    UNKNOWN_COMMAND = "comando_desconhecido"
    BAD_INTERACTION_ID = "id_interacao_invalido"
    BAD_RESULT = "resultado_invalido"
    #: Unknown id, or another counter's: the feedback names nothing this counter may answer.
    FEEDBACK_REFUSED = "feedback_recusado"
    #: The interaction already has a result: a resent feedback (its answer was lost) lands here.
    FEEDBACK_ALREADY_RECORDED = "feedback_ja_registrado"
    #: The server could not store it now; sending it again later may work.
    SERVER_FAULT = "falha_no_servidor"


@dataclasses.dataclass(frozen=True, slots=True)
class ErrorMessage:
    """A command was refused; the session stays open."""

    message: str
    code: ErrorCode


def feedback_refused(exc: BaltoError) -> ErrorMessage:
    """The ``erro`` for a feedback the store refused (``Conflict``: it already has one)."""
    if isinstance(exc, Conflict):
        code = ErrorCode.FEEDBACK_ALREADY_RECORDED
    elif isinstance(exc, ClientError):
        code = ErrorCode.FEEDBACK_REFUSED
    else:  # a ServerFault (storage unavailable), or any error of ours that is not the peer's
        code = ErrorCode.SERVER_FAULT
    return ErrorMessage(exc.message, code)


OutgoingEvent = AuthOk | Recommendation | FeedbackOk | ErrorMessage


def encode(event: OutgoingEvent) -> str:
    """The wire JSON of ``event``: one text message, UTF-8 as is (no ``\\u`` escapes)."""
    return json.dumps(_wire(event), ensure_ascii=False)


def _wire(event: OutgoingEvent) -> dict[str, Any]:
    match event:
        case AuthOk():
            return {
                "comando": "auth_ok",
                "sample_rate": event.sample_rate,
                "balcao": event.counter_name,
            }
        case Recommendation():
            return {
                "comando": "recomendar",
                "mensagem": event.message,
                "id_interacao": event.interaction_id,
                "produto": event.product,
                "categoria": event.category,
                "gatilho": event.trigger,
                "tipo": event.kind,
            }
        case FeedbackOk():
            return {
                "comando": "feedback_ok",
                "id_interacao": event.interaction_id,
                "resultado": event.result,
            }
        case ErrorMessage():
            return {"comando": "erro", "mensagem": event.message, "codigo": event.code.value}
