"""Engine.IO v4 packet and payload codec."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from balto.core.errors import BadRequest
from balto.socketio.engineio.packets import (
    Packet,
    PacketType,
    decode_frame,
    decode_payload,
    encode_frame,
    encode_payload,
    take_batch,
)
from balto.socketio.errors import EngineProtocolError


@pytest.mark.parametrize(
    ("frame", "packet"),
    [
        ('0{"sid":"x"}', Packet(PacketType.OPEN, '{"sid":"x"}')),
        ("1", Packet(PacketType.CLOSE)),
        ("2", Packet(PacketType.PING)),
        ("2probe", Packet(PacketType.PING, "probe")),
        ("3probe", Packet(PacketType.PONG, "probe")),
        ("4hello €", Packet(PacketType.MESSAGE, "hello €")),
        ("5", Packet(PacketType.UPGRADE)),
        ("6", Packet(PacketType.NOOP)),
        (b"\x01\x02\x03", Packet(PacketType.MESSAGE, b"\x01\x02\x03")),
    ],
)
def test_frame_vectors(frame: str | bytes, packet: Packet) -> None:
    assert decode_frame(frame) == packet
    assert encode_frame(packet) == frame


def test_payload_vectors_from_the_spec() -> None:
    body = b"4hello\x1e4\xe2\x82\xac\x1ebAQIDBA=="
    packets = [
        Packet(PacketType.MESSAGE, "hello"),
        Packet(PacketType.MESSAGE, "€"),
        Packet(PacketType.MESSAGE, b"\x01\x02\x03\x04"),
    ]
    assert decode_payload(body) == packets
    assert encode_payload(packets) == body


@pytest.mark.parametrize(
    "bad",
    [b"", b"7", b"x", b"4a\x1e", b"\x1e4a", b"bAQ=?", b"\xff\xfe", b"4ok\x1e9"],
)
def test_malformed_payloads_raise_protocol_errors(bad: bytes) -> None:
    with pytest.raises(EngineProtocolError) as info:
        decode_payload(bad)
    assert info.value.status == 400
    assert isinstance(info.value, BadRequest)


@pytest.mark.parametrize("bad", ["", "9", "b", "hello"])
def test_malformed_frames_raise_protocol_errors(bad: str) -> None:
    with pytest.raises(EngineProtocolError):
        decode_frame(bad)


def test_binary_only_for_messages() -> None:
    with pytest.raises(ValueError):
        Packet(PacketType.PING, b"x")


def test_take_batch_respects_max_payload() -> None:
    from collections import deque

    queue = deque(Packet(PacketType.MESSAGE, "x" * 9) for _ in range(5))  # 10 bytes each
    batch = take_batch(queue, max_payload=32)  # 10 + 11 + 11 = 32
    assert len(batch) == 3 and len(queue) == 2
    big = deque([Packet(PacketType.MESSAGE, "y" * 100)])
    assert len(take_batch(big, max_payload=10)) == 1  # an oversized packet still goes out


text_packets = st.builds(
    Packet,
    st.sampled_from(list(PacketType)),
    st.text(alphabet=st.characters(blacklist_characters="\x1e", blacklist_categories=["Cs"])),
)
binary_packets = st.builds(Packet, st.just(PacketType.MESSAGE), st.binary())
packets = st.one_of(text_packets, binary_packets)


@given(st.lists(packets, min_size=1, max_size=8))
def test_payload_round_trip(items: list[Packet]) -> None:
    assert decode_payload(encode_payload(items)) == items


@given(packets)
def test_frame_round_trip(packet: Packet) -> None:
    assert decode_frame(encode_frame(packet)) == packet


@given(st.binary(max_size=200))
def test_payload_decoder_only_raises_protocol_errors(body: bytes) -> None:
    with contextlib.suppress(EngineProtocolError):
        decode_payload(body)


@given(st.one_of(st.text(max_size=50), st.binary(max_size=50)))
def test_frame_decoder_only_raises_protocol_errors(frame: str | bytes) -> None:
    with contextlib.suppress(EngineProtocolError):
        decode_frame(frame)
