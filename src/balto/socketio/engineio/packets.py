"""Engine.IO v4 packet codec (pure functions, no I/O).

A packet is a type digit followed by its data. On a WebSocket one frame carries one packet: text
frames carry ``<digit><text>``, binary frames carry the raw bytes of a binary *message* packet
(there is no type prefix). In an HTTP long-polling payload packets are joined with the record
separator ``\\x1e`` and binary messages are written as ``b`` + base64 of the bytes.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from balto.socketio.engineio.events import EngineConfig
from balto.socketio.errors import EngineProtocolError

__all__ = [
    "RECORD_SEPARATOR",
    "Packet",
    "PacketType",
    "decode_frame",
    "decode_payload",
    "encode_frame",
    "encode_payload",
    "encode_payload_text",
    "open_packet",
    "take_batch",
]

RECORD_SEPARATOR = "\x1e"
#: Upper bound on the number of packets in one POSTed payload (python-engineio uses 16; the JS
#: client batches every queued packet, so we are more generous).
MAX_PACKETS_PER_PAYLOAD = 1000


class PacketType(IntEnum):
    OPEN = 0
    CLOSE = 1
    PING = 2
    PONG = 3
    MESSAGE = 4
    UPGRADE = 5
    NOOP = 6


@dataclass(frozen=True, slots=True)
class Packet:
    """One Engine.IO packet. ``data`` is ``bytes`` only for binary MESSAGE packets."""

    type: PacketType
    data: str | bytes = ""

    def __post_init__(self) -> None:
        if isinstance(self.data, bytes) and self.type is not PacketType.MESSAGE:
            raise ValueError("only MESSAGE packets may carry binary data")

    @property
    def is_binary(self) -> bool:
        return isinstance(self.data, bytes)


def encode_frame(packet: Packet) -> str | bytes:
    """Encode ``packet`` as one WebSocket frame (``bytes`` means a binary frame)."""
    if isinstance(packet.data, bytes):
        return packet.data
    return f"{int(packet.type)}{packet.data}"


def _decode_text_packet(text: str) -> Packet:
    if not text:
        raise EngineProtocolError("empty Engine.IO packet")
    head = text[0]
    if not ("0" <= head <= "6"):
        raise EngineProtocolError(f"unknown Engine.IO packet type {head!r}")
    return Packet(PacketType(int(head)), text[1:])


def decode_frame(frame: str | bytes, max_size: int | None = None) -> Packet:
    """Decode one WebSocket frame. Raises :class:`EngineProtocolError` on malformed input or a
    frame longer than ``max_size`` (status 413)."""
    if max_size is not None and len(frame) > max_size:
        raise EngineProtocolError("frame exceeds maxPayload", status=413)
    if isinstance(frame, bytes):
        return Packet(PacketType.MESSAGE, frame)
    return _decode_text_packet(frame)


def _encode_payload_packet(packet: Packet) -> str:
    if isinstance(packet.data, bytes):
        return "b" + base64.b64encode(packet.data).decode("ascii")
    return f"{int(packet.type)}{packet.data}"


def encode_payload_text(packets: Sequence[Packet]) -> str:
    """Join packets into a long-polling payload (as text)."""
    return RECORD_SEPARATOR.join(_encode_payload_packet(p) for p in packets)


def encode_payload(packets: Sequence[Packet]) -> bytes:
    """Join packets into a long-polling HTTP body (UTF-8)."""
    return encode_payload_text(packets).encode("utf-8")


def _decode_payload_packet(text: str) -> Packet:
    if text.startswith("b"):
        try:
            data = base64.b64decode(text[1:], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise EngineProtocolError("invalid base64 in binary packet") from exc
        return Packet(PacketType.MESSAGE, data)
    return _decode_text_packet(text)


def decode_payload(body: bytes | str) -> list[Packet]:
    """Split and decode a long-polling payload. An empty body is an error (clients never send
    one). Raises :class:`EngineProtocolError` on malformed input."""
    if isinstance(body, bytes):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise EngineProtocolError("payload is not valid UTF-8") from exc
    else:
        text = body
    if not text:
        raise EngineProtocolError("empty Engine.IO payload")
    parts = text.split(RECORD_SEPARATOR)
    if len(parts) > MAX_PACKETS_PER_PAYLOAD:
        raise EngineProtocolError("too many packets in payload")
    return [_decode_payload_packet(part) for part in parts]


def open_packet(sid: str, upgrades: list[str], config: EngineConfig) -> Packet:
    """The handshake packet ``0{"sid",...}`` that starts every session."""
    handshake = {
        "sid": sid,
        "upgrades": upgrades,
        "pingInterval": round(config.ping_interval * 1000),
        "pingTimeout": round(config.ping_timeout * 1000),
        "maxPayload": config.max_payload,
    }
    return Packet(PacketType.OPEN, json.dumps(handshake, separators=(",", ":")))


def take_batch(queue: deque[Packet], max_payload: int) -> list[Packet]:
    """Pop the longest prefix of ``queue`` whose polling payload fits in ``max_payload`` bytes
    (always at least one packet, so an oversized packet still goes out)."""
    batch = [queue.popleft()]
    size = len(encode_payload(batch))
    while queue:
        extra = len(encode_payload([queue[0]])) + 1  # + record separator
        if size + extra > max_payload:
            break
        batch.append(queue.popleft())
        size += extra
    return batch
