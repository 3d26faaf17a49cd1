"""What the counter instances tell each other on the coordination channel, sans-IO.

One Redis pub/sub channel carries every message as one line of JSON: ``{"de": <origin>,
"tipo": <kind>, ...}``. ``de`` is the publishing instance's random id, so an instance skips its
own messages (it acted locally already: no feed event twice). The kinds:

* ``regras``: a chain's rules changed (``cliente``, ``revisao``): an invalidation; each
  instance reads the version from the store and its live sessions follow at their next decode;
* ``revogar``: a counter was revoked (``balcao``): its sockets close with 1008 wherever they are;
* ``trocar_chave``: a counter's api_key was replaced (``balcao``, ``chave``: the SHA-256 of
  the old, now dead key, as stored): the sockets that authenticated with it close with 1008;
* ``apagar``: a chain was deleted with its data (``cliente``, ``balcoes``): its counters'
  sockets close, its cached rules and live feeds end;
* ``feed``: a live-feed event (``cliente``, ``evento``, ``dados``) for the chain's panels.

A message that is not ours (another version, garbage on the channel) is :class:`BadMessage`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from balto.core.errors import BaltoError

__all__ = [
    "BadMessage",
    "ChainDeleted",
    "CounterKeyRotated",
    "CounterRevoked",
    "Envelope",
    "FeedEvent",
    "Message",
    "RulesChanged",
    "decode",
    "encode",
]


class BadMessage(BaltoError):
    """A coordination message we cannot read."""


@dataclasses.dataclass(frozen=True, slots=True)
class RulesChanged:
    cliente_id: int
    revision: int


@dataclasses.dataclass(frozen=True, slots=True)
class CounterRevoked:
    balcao_id: int


@dataclasses.dataclass(frozen=True, slots=True)
class CounterKeyRotated:
    balcao_id: int
    old_key_hash: str  # what the sessions of the replaced key registered under (ws.live)


@dataclasses.dataclass(frozen=True, slots=True)
class ChainDeleted:
    cliente_id: int
    balcao_ids: tuple[int, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class FeedEvent:
    cliente_id: int
    kind: str
    data: Mapping[str, Any]


Message = RulesChanged | CounterRevoked | CounterKeyRotated | ChainDeleted | FeedEvent


@dataclasses.dataclass(frozen=True, slots=True)
class Envelope:
    origin: str  # the publishing instance
    message: Message


def encode(origin: str, message: Message) -> bytes:
    body: dict[str, Any] = {"de": origin}
    match message:
        case RulesChanged(cliente_id, revision):
            body |= {"tipo": "regras", "cliente": cliente_id, "revisao": revision}
        case CounterRevoked(balcao_id):
            body |= {"tipo": "revogar", "balcao": balcao_id}
        case CounterKeyRotated(balcao_id, old_key_hash):
            body |= {"tipo": "trocar_chave", "balcao": balcao_id, "chave": old_key_hash}
        case ChainDeleted(cliente_id, balcao_ids):
            body |= {"tipo": "apagar", "cliente": cliente_id, "balcoes": list(balcao_ids)}
        case FeedEvent(cliente_id, kind, data):
            body |= {"tipo": "feed", "cliente": cliente_id, "evento": kind, "dados": dict(data)}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode(data: bytes) -> Envelope:
    try:
        body = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadMessage(f"mensagem de coordenação ilegível: {exc}") from None
    if not isinstance(body, dict):
        raise BadMessage("mensagem de coordenação não é um objeto")
    origin = _field(body, "de", str)
    kind = _field(body, "tipo", str)
    message: Message
    if kind == "regras":
        message = RulesChanged(_id(body, "cliente"), _id(body, "revisao"))
    elif kind == "revogar":
        message = CounterRevoked(_id(body, "balcao"))
    elif kind == "trocar_chave":
        message = CounterKeyRotated(_id(body, "balcao"), _field(body, "chave", str))
    elif kind == "apagar":
        balcoes = _field(body, "balcoes", list)
        if not all(_is_id(item) for item in balcoes):
            raise BadMessage("mensagem de coordenação: 'balcoes' inválido")
        message = ChainDeleted(_id(body, "cliente"), tuple(balcoes))
    elif kind == "feed":
        message = FeedEvent(
            _id(body, "cliente"), _field(body, "evento", str), _field(body, "dados", dict)
        )
    else:
        raise BadMessage(f"mensagem de coordenação de tipo desconhecido: {kind!r:.40}")
    return Envelope(origin, message)


def _field(body: dict[str, Any], name: str, kind: type) -> Any:
    value = body.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise BadMessage(f"mensagem de coordenação: '{name}' ausente ou inválido")
    return value


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _id(body: dict[str, Any], name: str) -> int:
    value = body.get(name)
    if not _is_id(value):
        raise BadMessage(f"mensagem de coordenação: '{name}' ausente ou inválido")
    assert isinstance(value, int)
    return value
