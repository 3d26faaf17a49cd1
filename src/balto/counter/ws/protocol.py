"""The counter session protocol, without I/O.

The shell feeds every WebSocket message in and carries out the action that comes back:

- before auth, the first message must be ``{"comando": "auth", "api_key": ...}``; text that
  is not JSON we accept (:mod:`balto.core.json_input`) → ``Close(1007, reason)``, anything else →
  ``Close(1008, reason)``; a valid one → ``Authenticate`` (the shell looks the
  key up, then calls ``authenticated`` or ``auth_failed``);
- after auth, binary frames → ``Audio`` (PCM reassembled and resampled to 16 kHz), a
  ``feedback`` → ``Feedback``; any bad text → ``Reply`` with an ``erro`` and the socket stays.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

import numpy as np
import numpy.typing as npt

from balto.core.json_input import InvalidJson, JsonLimits, decode_json, decode_json_object
from balto.counter.audio.pcm import PcmDecoder

INVALID_DATA = 1007
POLICY_VIOLATION = 1008
GOING_AWAY = 1001
RESULTADOS = ("venda_realizada", "venda_perdida")
AUTH_FIELDS = {"comando", "api_key", "sample_rate"}
MAX_ID_INTERACAO = 100
#: Commands are small; audio travels in binary frames.
COMMAND_LIMITS = JsonLimits(max_bytes=16 * 1024, max_depth=8)


class Phase(enum.Enum):
    AWAITING_AUTH = "awaiting_auth"
    ACTIVE = "active"
    CLOSED = "closed"


@dataclasses.dataclass(frozen=True, slots=True)
class Authenticate:
    api_key: str
    sample_rate_hz: int


@dataclasses.dataclass(frozen=True, slots=True)
class Feedback:
    id_interacao: str
    resultado: str


@dataclasses.dataclass(frozen=True, slots=True)
class Audio:
    samples: npt.NDArray[np.float32]
    bytes_received: int


@dataclasses.dataclass(frozen=True, slots=True)
class Reply:
    message: dict[str, Any]


@dataclasses.dataclass(frozen=True, slots=True)
class Close:
    code: int
    reason: str


Action = Authenticate | Feedback | Audio | Reply | Close


def error(mensagem: str) -> dict[str, Any]:
    return {"comando": "erro", "mensagem": mensagem}


def recommendation(
    id_interacao: str, mensagem: str, *, produto: str, categoria: str, gatilho: str
) -> dict[str, Any]:
    return {
        "comando": "recomendar",
        "mensagem": mensagem,
        "id_interacao": id_interacao,
        "produto": produto,
        "categoria": categoria,
        "gatilho": gatilho,
    }


def feedback_ok(id_interacao: str, resultado: str) -> dict[str, Any]:
    return {"comando": "feedback_ok", "id_interacao": id_interacao, "resultado": resultado}


class CounterProtocol:
    def __init__(self) -> None:
        self.phase = Phase.AWAITING_AUTH
        self._decoder: PcmDecoder | None = None
        self._pending_rate = 16_000

    # -- input ----------------------------------------------------------------------------

    def receive_text(self, text: str) -> Action:
        if self.phase is Phase.AWAITING_AUTH:
            return self._auth(text)
        if self.phase is Phase.CLOSED:
            return Close(POLICY_VIOLATION, "Sessão encerrada")
        try:
            message = decode_json_object(text, COMMAND_LIMITS)
        except InvalidJson as exc:
            return Reply(error(exc.message))
        comando = message.get("comando")
        if comando == "feedback":
            return self._feedback(message)
        if comando == "auth":
            return Reply(error("Sessão já autenticada"))
        if not isinstance(comando, str):
            return Reply(error("Campo 'comando' ausente ou inválido"))
        return Reply(error(f"Comando desconhecido: {comando}"))

    def receive_binary(self, data: bytes) -> Action:
        if self.phase is Phase.AWAITING_AUTH:
            return self._close(POLICY_VIOLATION, "Autentique-se antes de enviar áudio")
        if self.phase is Phase.CLOSED or self._decoder is None:
            return Close(POLICY_VIOLATION, "Sessão encerrada")
        return Audio(self._decoder.feed(data), len(data))

    def authenticated(self) -> Reply:
        self.phase = Phase.ACTIVE
        self._decoder = PcmDecoder(self._pending_rate)
        return Reply({"comando": "auth_ok", "sample_rate": self._pending_rate})

    def auth_failed(self) -> Close:
        return self._close(POLICY_VIOLATION, "api_key inválida")

    def auth_timed_out(self) -> Close:
        return self._close(POLICY_VIOLATION, "Tempo esgotado aguardando autenticação")

    # -- internals ------------------------------------------------------------------------

    def _close(self, code: int, reason: str) -> Close:
        self.phase = Phase.CLOSED
        return Close(code, reason)

    def _auth(self, text: str) -> Action:
        try:
            message = decode_json(text, COMMAND_LIMITS)
        except InvalidJson as exc:
            return self._close(INVALID_DATA, f"Primeira mensagem inválida: {exc.message}")
        if not isinstance(message, dict):
            return self._close(POLICY_VIOLATION, "A primeira mensagem deve ser um objeto JSON")
        if message.get("comando") != "auth":
            return self._close(POLICY_VIOLATION, "A primeira mensagem deve ser o comando auth")
        unknown = sorted(set(message) - AUTH_FIELDS)
        if unknown:
            return self._close(POLICY_VIOLATION, f"Campo(s) desconhecido(s): {', '.join(unknown)}")
        api_key = message.get("api_key")
        if not isinstance(api_key, str) or not api_key.strip() or len(api_key) > 100:
            return self._close(POLICY_VIOLATION, "Campo 'api_key' ausente ou inválido")
        rate = message.get("sample_rate", 16_000)
        if isinstance(rate, bool) or not isinstance(rate, int) or not 8_000 <= rate <= 48_000:
            return self._close(
                POLICY_VIOLATION, "sample_rate deve ser um inteiro entre 8000 e 48000"
            )
        self._pending_rate = rate
        return Authenticate(api_key.strip(), rate)

    def _feedback(self, message: dict[str, Any]) -> Reply | Feedback:
        id_interacao = message.get("id_interacao")
        if (
            not isinstance(id_interacao, str)
            or not id_interacao.strip()
            or len(id_interacao) > MAX_ID_INTERACAO
        ):
            return Reply(error("Campo 'id_interacao' ausente ou inválido"))
        resultado = message.get("resultado")
        if resultado not in RESULTADOS:
            return Reply(error("Resultado inválido: use venda_realizada ou venda_perdida"))
        return Feedback(id_interacao.strip(), str(resultado))
