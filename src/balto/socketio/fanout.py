"""Room emits across instances, sans-IO: the message one instance (or a worker) publishes and
every instance delivers to its local members of the room.

This is the model of python-socketio's Redis manager: an emit to a room is not sent to local
sockets directly but published on one channel; each instance, subscribed to it, emits the
event to the room's members it holds. ``seq`` is an optional order number of the room's
events (the partnumber tasks use it to merge a late joiner's replay with the live events).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from balto.core.errors import BaltoError

__all__ = ["BadRoomMessage", "RoomMessage", "decode_room_message", "encode_room_message"]


class BadRoomMessage(BaltoError):
    """Something on the channel that is not a room message (dropped, logged)."""


@dataclasses.dataclass(frozen=True, slots=True)
class RoomMessage:
    room: str
    event: str
    args: tuple[Any, ...] = ()
    seq: int | None = None


def encode_room_message(message: RoomMessage) -> bytes:
    body: dict[str, Any] = {"to": message.room, "event": message.event, "args": message.args}
    if message.seq is not None:
        body["seq"] = message.seq
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def decode_room_message(data: bytes) -> RoomMessage:
    try:
        body = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRoomMessage(f"mensagem de sala ilegível: {exc}") from None
    if not isinstance(body, dict):
        raise BadRoomMessage("mensagem de sala não é um objeto JSON")
    room, event, args, seq = body.get("to"), body.get("event"), body.get("args"), body.get("seq")
    if not isinstance(room, str) or not isinstance(event, str) or not isinstance(args, list):
        raise BadRoomMessage("mensagem de sala sem 'to', 'event' ou 'args'")
    if seq is not None and (not isinstance(seq, int) or isinstance(seq, bool)):
        raise BadRoomMessage("'seq' deve ser inteiro")
    return RoomMessage(room, event, tuple(args), seq)
