"""The sans-IO RESP codec: every reply type, any split of the bytes, nested aggregates, errors."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from balto.core.redis.protocol import (
    NEED_DATA,
    ProtocolError,
    ReplyError,
    RespParser,
    encode_command,
)


def encode_reply(value: Any) -> bytes:
    """A RESP2 encoding of ``value`` (the tests' reference writer)."""
    if value is None:
        return b"$-1\r\n"
    if isinstance(value, ReplyError):
        return b"-%s\r\n" % value.message.encode()
    if isinstance(value, str):
        return b"+%s\r\n" % value.encode()
    if isinstance(value, int):
        return b":%d\r\n" % value
    if isinstance(value, bytes):
        return b"$%d\r\n%s\r\n" % (len(value), value)
    assert isinstance(value, list)
    return b"*%d\r\n" % len(value) + b"".join(encode_reply(v) for v in value)


def parse_all(chunks: list[bytes]) -> list[Any]:
    parser, replies = RespParser(), []
    for chunk in chunks:
        parser.feed(chunk)
        while (reply := parser.next_reply()) is not NEED_DATA:
            replies.append(reply)
    return replies


simple_text = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\n"), max_size=20
)
scalars = st.one_of(
    st.none(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.binary(max_size=40),  # bulk strings may hold CR, LF, anything
    simple_text,
    simple_text.filter(bool).map(lambda t: ReplyError("ERR " + t)),
)
replies = st.recursive(scalars, lambda inner: st.lists(inner, max_size=5), max_leaves=30)


@given(st.lists(replies, min_size=1, max_size=5), st.data())
def test_any_split_of_the_bytes_gives_the_same_replies(values: list[Any], data: st.DataObject):
    wire = b"".join(encode_reply(v) for v in values)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=8)))
    chunks = [wire[a:b] for a, b in zip([0, *cuts], [*cuts, len(wire)], strict=True)]
    assert parse_all(chunks) == values


@given(replies)
def test_byte_by_byte(value: Any):
    wire = encode_reply(value)
    assert parse_all([wire[i : i + 1] for i in range(len(wire))]) == [value]


@given(st.lists(st.one_of(st.binary(max_size=30), simple_text), min_size=1, max_size=6))
def test_a_command_is_an_array_of_bulk_strings(args: list[bytes | str]):
    (parsed,) = parse_all([encode_command(*args)])
    assert parsed == [a if isinstance(a, bytes) else a.encode() for a in args]


def test_command_arguments_of_other_types():
    assert encode_command("EXPIRE", "k", 10) == b"*3\r\n$6\r\nEXPIRE\r\n$1\r\nk\r\n$2\r\n10\r\n"
    with pytest.raises(TypeError):
        encode_command("SET", "k", True)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        encode_command()


def test_resp3_types():
    wire = (
        b"%2\r\n+a\r\n:1\r\n+b\r\n~2\r\n#t\r\n#f\r\n"  # map with a set of booleans
        b"_\r\n,3.5\r\n(12345678901234567890\r\n=8\r\ntxt:olah\r\n"
        b"!9\r\nERR falha\r\n>3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nx\r\n"
        b"|1\r\n+ttl\r\n:3\r\n+depois\r\n"  # an attribute, dropped, then its reply
        b"*-1\r\n*0\r\n%0\r\n"
    )
    assert parse_all([wire]) == [
        {"a": 1, "b": [True, False]},
        None,
        3.5,
        12345678901234567890,
        b"olah",
        ReplyError("ERR falha"),
        [b"message", b"c", b"x"],
        "depois",
        None,
        [],
        {},
    ]


def test_an_error_reply_is_a_value_with_its_code():
    (error,) = parse_all([b"-BUSYGROUP Consumer Group name already exists\r\n"])
    assert isinstance(error, ReplyError) and error.code == "BUSYGROUP"


def test_deep_nesting_does_not_recurse():
    depth = 5000
    (value,) = parse_all([b"*1\r\n" * depth + b":7\r\n"])
    for _ in range(depth):
        (value,) = value
    assert value == 7


@pytest.mark.parametrize(
    "wire",
    [
        b"?x\r\n",
        b":12a\r\n",
        b"$3\r\nabcde\r\n",  # no CRLF after the announced length
        b"\r\n",
        b"#x\r\n",
        b"~-1\r\n",
        b"$" + b"9" * 12 + b"\r\n",
        b"+" + b"x" * 70_000,  # a line with no end
    ],
)
def test_garbage_is_a_protocol_error(wire: bytes):
    with pytest.raises(ProtocolError):
        parse_all([wire])
