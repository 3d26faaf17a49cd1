"""The PROXY protocol header (v1 text, v2 binary): the client's address, or more bytes needed,
or plain traffic, or a typed error; never anything else, whatever bytes come."""

from __future__ import annotations

import ipaddress
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from balto.core.proxy_protocol import (
    V2_SIGNATURE,
    NeedMore,
    NotProxy,
    ProxyHeader,
    ProxyProtocolError,
    parse_proxy_header,
)

REQUEST = b"GET /health HTTP/1.1\r\nhost: balto\r\n\r\n"


def v2(command: int, family: int, body: bytes, transport: int = 1) -> bytes:
    return (
        V2_SIGNATURE
        + bytes([0x20 | command, family << 4 | transport])
        + struct.pack("!H", len(body))
        + body
    )


def v2_inet(source: str, destination: str = "10.0.0.5") -> bytes:
    addresses = ipaddress.IPv4Address(source).packed + ipaddress.IPv4Address(destination).packed
    return v2(1, 1, addresses + struct.pack("!HH", 51000, 8765))


def v2_inet6(source: str) -> bytes:
    addresses = ipaddress.IPv6Address(source).packed + ipaddress.IPv6Address("::1").packed
    return v2(1, 2, addresses + struct.pack("!HH", 51000, 8765))


@pytest.mark.parametrize(
    ("header", "source"),
    [
        (b"PROXY TCP4 198.51.100.7 10.0.0.5 51000 8765\r\n", "198.51.100.7"),
        (b"PROXY TCP6 2001:db8::7 ::1 51000 8765\r\n", "2001:db8::7"),
        (b"PROXY UNKNOWN\r\n", None),
        (b"PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n", None),
        (v2_inet("198.51.100.7"), "198.51.100.7"),
        (v2_inet6("2001:db8::7"), "2001:db8::7"),
        (v2(0, 0, b""), None),  # LOCAL: HAProxy's own health check
        (v2(0, 1, b"\x00" * 12), None),
        (v2(1, 0, b""), None),  # AF_UNSPEC
        (v2(1, 1, b"\x00" * 12, transport=2), None),  # datagram: not a client of ours
        (v2(1, 1, v2_inet("198.51.100.7")[16:] + b"\x03\x00\x01\x00"), "198.51.100.7"),  # TLV
    ],
)
def test_headers_name_the_client_and_what_follows_is_kept(header: bytes, source: str | None):
    parsed = parse_proxy_header(header + REQUEST)
    assert parsed == ProxyHeader(len(header), source)
    for cut in range(len(header)):  # every prefix asks for more
        assert parse_proxy_header(header[:cut]) == NeedMore()


@pytest.mark.parametrize("data", [REQUEST, b"POST /x", b"\r\n\r\nX", b"PROXX"])
def test_plain_traffic_is_not_a_header(data: bytes) -> None:
    assert parse_proxy_header(data) == NotProxy()


@pytest.mark.parametrize(
    "data",
    [
        b"PROXY TCP4 198.51.100.7 10.0.0.5 51000\r\n",
        b"PROXY TCP4 2001:db8::7 10.0.0.5 51000 8765\r\n",  # family and address disagree
        b"PROXY TCP4 198.51.100.7 10.0.0.5 51000 99999\r\n",
        b"PROXY TCP5 198.51.100.7 10.0.0.5 51000 8765\r\n",
        b"PROXY TCP4  198.51.100.7 10.0.0.5 51000 8765\r\n",
        b"PROXY " + b"9" * 120,  # no end of line within the longest header
        b"PROXY TCP4 \xff.1.1.1 10.0.0.5 1 2\r\n",
        V2_SIGNATURE + b"\x31\x11\x00\x0c" + b"\x00" * 12,  # version 3
        V2_SIGNATURE + b"\x22\x11\x00\x0c" + b"\x00" * 12,  # command 2
        v2(1, 1, b"\x00" * 8),  # too short for two IPv4 addresses
        v2(1, 1, b"\x00" * 2000),  # longer than we take
    ],
)
def test_broken_headers_are_a_typed_error(data: bytes) -> None:
    with pytest.raises(ProxyProtocolError):
        parse_proxy_header(data)


@given(st.binary(max_size=300))
def test_any_bytes_one_of_the_outcomes(data: bytes) -> None:
    for prefix in (b"", b"PROXY ", V2_SIGNATURE, V2_SIGNATURE + b"\x21\x11"):
        try:
            parsed = parse_proxy_header(prefix + data)
        except ProxyProtocolError:
            continue
        assert isinstance(parsed, NeedMore | NotProxy | ProxyHeader)
        if isinstance(parsed, ProxyHeader):
            assert 0 < parsed.length <= len(prefix + data)
            assert parsed.source is None or ipaddress.ip_address(parsed.source)


@given(st.ip_addresses(v=4).map(str), st.binary(max_size=50))
def test_v1_and_v2_agree(source: str, rest: bytes) -> None:
    text = f"PROXY TCP4 {source} 10.0.0.5 51000 8765\r\n".encode()
    assert parse_proxy_header(text + rest) == ProxyHeader(len(text), source)
    binary = v2_inet(source)
    assert parse_proxy_header(binary + rest) == ProxyHeader(len(binary), source)
