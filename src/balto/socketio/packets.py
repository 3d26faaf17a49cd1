"""Socket.IO v5 packet codec (pure, no I/O).

Text form: ``<type>[<attachments>-][<namespace>,][<ack id>][<JSON>]``, e.g. ``2["hello",1]``,
``21["ack-me"]``, ``3/admin,13[...]``, ``51-["hello",{"_placeholder":true,"num":0}]``. A binary
packet (types 5 and 6) is followed by ``<attachments>`` binary Engine.IO messages that replace the
``{"_placeholder":true,"num":N}`` objects; :class:`PacketDecoder` does the reassembly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from enum import IntEnum
from typing import Any

from balto.core.json_input import InvalidJson, JsonLimits, decode_json
from balto.socketio.binary import deconstruct, has_binary, reconstruct
from balto.socketio.errors import SocketIOProtocolError

__all__ = [
    "RESERVED_EVENTS",
    "PacketDecoder",
    "PacketType",
    "SioPacket",
    "decode_text",
    "dumps",
    "encode_packet",
]

#: Event names clients may not emit (the official parser rejects them).
RESERVED_EVENTS = frozenset(
    {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}
)
#: Engine.IO bounds the message size (``maxPayload``); the JSON inside gets the shared limits.
PAYLOAD_LIMITS = JsonLimits(max_bytes=1_000_000, max_depth=32)
MAX_ATTACHMENTS = 32
MAX_ID_DIGITS = 15
_DIGITS = frozenset("0123456789")


class PacketType(IntEnum):
    CONNECT = 0
    DISCONNECT = 1
    EVENT = 2
    ACK = 3
    CONNECT_ERROR = 4
    BINARY_EVENT = 5
    BINARY_ACK = 6


_BINARY = (PacketType.BINARY_EVENT, PacketType.BINARY_ACK)


@dataclass(frozen=True, slots=True)
class SioPacket:
    """One Socket.IO packet. ``data`` is the decoded JSON payload (``None``: no payload); for a
    decoded binary packet awaiting attachments it still holds placeholders."""

    type: PacketType
    namespace: str = "/"
    data: Any = None
    id: int | None = None
    attachments: int = 0


def dumps(value: Any) -> str:
    """Compact JSON like ``JSON.stringify``; escapes only if raw text is not valid UTF-8."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: only the \\u escapes are transmittable
        text = json.dumps(value, separators=(",", ":"), allow_nan=False)
    return text


def encode_packet(packet: SioPacket) -> list[str | bytes]:
    """Encode as Engine.IO messages: the text packet, then one ``bytes`` per attachment.
    EVENT/ACK payloads containing ``bytes`` become BINARY_EVENT/BINARY_ACK automatically."""
    kind, data = packet.type, packet.data
    buffers: list[bytes] = []
    if kind in (PacketType.EVENT, PacketType.ACK, *_BINARY):
        if has_binary(data):
            data, buffers = deconstruct(data)
            is_ack = kind in (PacketType.ACK, PacketType.BINARY_ACK)
            kind = PacketType.BINARY_ACK if is_ack else PacketType.BINARY_EVENT
        elif kind in _BINARY:
            kind = PacketType(kind - 3)  # nothing binary left: plain EVENT/ACK
    head = str(int(kind))
    if buffers:
        head += f"{len(buffers)}-"
    if packet.namespace != "/":
        head += packet.namespace + ","
    if packet.id is not None:
        head += str(packet.id)
    if data is not None:
        head += dumps(data)
    return [head, *buffers]


def _fail(message: str) -> SocketIOProtocolError:
    return SocketIOProtocolError(f"invalid Socket.IO packet: {message}")


def _parse_json(text: str) -> Any:
    try:
        return decode_json(text, PAYLOAD_LIMITS)
    except InvalidJson as exc:
        raise _fail(f"bad JSON payload ({exc.message})") from exc


def _validate(kind: PacketType, data: Any, ack_id: int | None) -> None:
    if kind is PacketType.CONNECT:
        ok = data is None or isinstance(data, dict)
    elif kind is PacketType.DISCONNECT:
        ok = data is None
    elif kind is PacketType.CONNECT_ERROR:
        ok = isinstance(data, dict | str)
    elif kind in (PacketType.EVENT, PacketType.BINARY_EVENT):
        ok = (
            isinstance(data, list)
            and len(data) > 0
            and isinstance(data[0], str)
            and data[0] not in RESERVED_EVENTS
        )
    else:  # ACK, BINARY_ACK
        ok = isinstance(data, list) and ack_id is not None
    if not ok:
        raise _fail(f"payload not allowed for {kind.name}")


def decode_text(text: str) -> SioPacket:
    """Decode the text part of a packet. Raises :class:`SocketIOProtocolError`."""
    if not text or text[0] not in "0123456":
        raise _fail("unknown packet type")
    kind = PacketType(int(text[0]))
    pos, end, attachments = 1, len(text), 0
    if kind in _BINARY:
        dash = text.find("-", 1)
        count = text[1:dash]
        if dash < 0 or not count or len(count) > 3 or not set(count) <= _DIGITS:
            raise _fail("bad attachment count")
        attachments = int(count)
        if attachments > MAX_ATTACHMENTS:
            raise _fail("too many attachments")
        pos = dash + 1
    namespace = "/"
    if text.startswith("/", pos):
        comma = text.find(",", pos)
        stop = end if comma < 0 else comma
        namespace = text[pos:stop].split("?", 1)[0]
        pos = min(stop + 1, end)
    digits_end = pos
    while digits_end < end and text[digits_end] in _DIGITS:
        digits_end += 1
    ack_id = None
    if digits_end > pos:
        if digits_end - pos > MAX_ID_DIGITS:
            raise _fail("ack id too long")
        ack_id = int(text[pos:digits_end])
        pos = digits_end
    data = _parse_json(text[pos:]) if pos < end else None
    _validate(kind, data, ack_id)
    return SioPacket(kind, namespace, data, ack_id, attachments)


class PacketDecoder:
    """Per-connection decoder that reassembles binary packets from Engine.IO messages."""

    def __init__(self) -> None:
        self._pending: SioPacket | None = None
        self._buffers: list[bytes] = []

    @property
    def awaiting_attachments(self) -> bool:
        return self._pending is not None

    def feed(self, message: str | bytes) -> SioPacket | None:
        """Feed one Engine.IO message; returns a complete packet or ``None`` (need more).
        Raises :class:`SocketIOProtocolError`; the decoder is then unusable (close the link)."""
        if isinstance(message, bytes):
            if self._pending is None:
                raise _fail("unexpected binary attachment")
            self._buffers.append(message)
            if len(self._buffers) < self._pending.attachments:
                return None
            pending, buffers = self._pending, self._buffers
            self._pending, self._buffers = None, []
            return self._complete(pending, buffers)
        if self._pending is not None:
            raise _fail("text message while waiting for binary attachments")
        packet = decode_text(message)
        if packet.type not in _BINARY:
            return packet
        if packet.attachments:
            self._pending = packet
            return None
        return self._complete(packet, [])

    @staticmethod
    def _complete(packet: SioPacket, buffers: list[bytes]) -> SioPacket:
        try:
            data = reconstruct(packet.data, buffers)
        except (ValueError, RecursionError) as exc:
            raise _fail("bad attachment placeholder") from exc
        return replace(packet, data=data)
