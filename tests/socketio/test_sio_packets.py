"""Socket.IO v5 packet codec and binary reassembly."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from balto.core.errors import BadRequest
from balto.socketio.errors import SocketIOProtocolError
from balto.socketio.packets import PacketDecoder, PacketType, SioPacket, decode_text, encode_packet

P = PacketType


@pytest.mark.parametrize(
    ("text", "packet"),
    [
        ("0", SioPacket(P.CONNECT)),
        ('0{"token":"123"}', SioPacket(P.CONNECT, "/", {"token": "123"})),
        ("0/admin,", SioPacket(P.CONNECT, "/admin")),
        ('40{"sid":"x"}'[1:], SioPacket(P.CONNECT, "/", {"sid": "x"})),
        ("1", SioPacket(P.DISCONNECT)),
        ("1/admin,", SioPacket(P.DISCONNECT, "/admin")),
        ('2["hello",1]', SioPacket(P.EVENT, "/", ["hello", 1])),
        ('21["ack-me"]', SioPacket(P.EVENT, "/", ["ack-me"], 1)),
        (
            '2/admin,456["project:delete",123]',
            SioPacket(P.EVENT, "/admin", ["project:delete", 123], 456),
        ),
        ('3/admin,13["a",{"b":null}]', SioPacket(P.ACK, "/admin", ["a", {"b": None}], 13)),
        ("31[]", SioPacket(P.ACK, "/", [], 1)),
        (
            '4{"message":"Not authorized"}',
            SioPacket(P.CONNECT_ERROR, "/", {"message": "Not authorized"}),
        ),
    ],
)
def test_text_vectors(text: str, packet: SioPacket) -> None:
    assert decode_text(text) == packet
    assert encode_packet(packet) == [text]


def test_namespace_without_trailing_comma_and_query() -> None:
    assert decode_text("0/admin") == SioPacket(P.CONNECT, "/admin")
    assert decode_text("0/admin?x=1,").namespace == "/admin"


def test_binary_event_vector() -> None:
    packet = SioPacket(P.EVENT, "/", ["hello", b"\x01\x02\x03"])
    messages = encode_packet(packet)
    assert messages == ['51-["hello",{"_placeholder":true,"num":0}]', b"\x01\x02\x03"]
    decoder = PacketDecoder()
    assert decoder.feed(messages[0]) is None
    assert decoder.awaiting_attachments
    done = decoder.feed(messages[1])
    assert done == SioPacket(P.BINARY_EVENT, "/", ["hello", b"\x01\x02\x03"], None, 1)
    assert not decoder.awaiting_attachments


def test_binary_ack_with_namespace_and_two_attachments() -> None:
    data = ["x", {"a": b"1", "b": [b"22"]}]
    messages = encode_packet(SioPacket(P.ACK, "/admin", data, 7))
    assert messages[0] == (
        '62-/admin,7["x",{"a":{"_placeholder":true,"num":0},"b":[{"_placeholder":true,"num":1}]}]'
    )
    decoder = PacketDecoder()
    assert decoder.feed(messages[0]) is None
    assert decoder.feed(messages[1]) is None
    done = decoder.feed(messages[2])
    assert done is not None and done.data == data and done.id == 7


def test_non_ascii_is_sent_raw_and_lone_surrogates_escaped() -> None:
    assert encode_packet(SioPacket(P.EVENT, "/", ["é"])) == ['2["é"]']
    assert encode_packet(SioPacket(P.EVENT, "/", ["\ud800"])) == ['2["\\ud800"]']


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "7",
        "x",
        "2",  # event without payload
        "2[]",
        "2[1]",
        '2["disconnect"]',  # reserved
        '2{"a":1}',
        "2[NaN]".replace("NaN", '"a",NaN'),
        '2["a"',
        '0["array"]',
        '1{"a":1}',
        "3[]",  # ack without id
        '5-["a"]',
        '5x-["a"]',
        '599-["a"]',
        "2" + "9" * 20 + '["a"]',
        "2" + "[" * 5000 + "]" * 5000,
    ],
)
def test_malformed_packets(bad: str) -> None:
    with pytest.raises(SocketIOProtocolError) as info:
        PacketDecoder().feed(bad)
    assert isinstance(info.value, BadRequest)


def test_attachment_sequencing_errors() -> None:
    with pytest.raises(SocketIOProtocolError):
        PacketDecoder().feed(b"\x00")  # attachment without a packet
    decoder = PacketDecoder()
    decoder.feed('51-["a",{"_placeholder":true,"num":0}]')
    with pytest.raises(SocketIOProtocolError):
        decoder.feed('2["b"]')  # text while waiting for the attachment
    for bad in (
        '51-["a",{"_placeholder":true,"num":1}]',
        '51-["a",{"_placeholder":true,"num":true}]',
        '51-["a"]',  # attachment never referenced
    ):
        decoder = PacketDecoder()
        decoder.feed(bad)
        with pytest.raises(SocketIOProtocolError):
            decoder.feed(b"\x00")


json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
    st.binary(max_size=20),
)
json_values = st.recursive(
    json_leaf,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.text(max_size=5).filter(lambda k: k != "_placeholder"), children, max_size=4
        ),
    ),
    max_leaves=12,
)
event_names = st.text(min_size=1).filter(
    lambda s: (
        s
        not in {
            "connect",
            "connect_error",
            "disconnect",
            "disconnecting",
            "newListener",
            "removeListener",
        }
    )
)
namespaces = st.sampled_from(["/", "/admin", "/a-b_c"])
ids = st.none() | st.integers(min_value=0, max_value=10**12)


def _roundtrip(packet: SioPacket) -> SioPacket:
    decoder = PacketDecoder()
    result = None
    for message in encode_packet(packet):
        result = decoder.feed(message)
    assert result is not None
    return result


@given(event_names, st.lists(json_values, max_size=4), namespaces, ids)
def test_event_round_trip(name: str, args: list[Any], namespace: str, ack_id: int | None) -> None:
    decoded = _roundtrip(SioPacket(P.EVENT, namespace, [name, *args], ack_id))
    assert decoded.data == [name, *args]
    assert decoded.namespace == namespace and decoded.id == ack_id


@given(st.lists(json_values, max_size=4), namespaces, st.integers(min_value=0, max_value=10**9))
def test_ack_round_trip(args: list[Any], namespace: str, ack_id: int) -> None:
    decoded = _roundtrip(SioPacket(P.ACK, namespace, args, ack_id))
    assert decoded.data == args and decoded.id == ack_id


@given(st.lists(st.one_of(st.text(max_size=40), st.binary(max_size=10)), max_size=4))
def test_decoder_only_raises_protocol_errors(messages: list[str | bytes]) -> None:
    decoder = PacketDecoder()
    try:
        for message in messages:
            decoder.feed(message)
    except SocketIOProtocolError:
        pass


@given(st.from_regex(r"\A[0-6][0-9]{0,2}-?(/[a-z,]{0,4})?[0-9]{0,3}[\[\]{}\",:a-z0-9_]{0,30}\Z"))
def test_decoder_fuzz_structured(text: str) -> None:
    with contextlib.suppress(SocketIOProtocolError):
        PacketDecoder().feed(text)
