"""The PROXY protocol header (HAProxy's ``send-proxy`` / ``send-proxy-v2``), parsed. No I/O.

A trusted proxy may open each connection with one header naming the client it relays, before any
HTTP byte. Read at accept, it gives the per-address connection cap the client's address, which
``X-Forwarded-For`` cannot (no request has been read yet). The listener asks
:func:`parse_proxy_header` with what it has received so far and gets:

* :class:`NeedMore`: the bytes so far may still be a header: read more;
* :class:`NotProxy`: plain traffic (a trusted host talking to us directly): nothing to strip;
* :class:`ProxyHeader`: ``length`` bytes to strip and the client's ``source``, or None when the
  proxy speaks for itself (v2 ``LOCAL``: its health checks; v1 ``UNKNOWN``; a family other
  than TCP over IPv4/IPv6): then the peer is the client;
* :class:`ProxyProtocolError` raised: a broken header; the connection is closed.

Only the listener calls it, and only for peers in ``TRUSTED_PROXIES``: from anyone else a header
is not parsed (HTTP then refuses its bytes with 400), so nobody picks their own address.
"""

from __future__ import annotations

import dataclasses
import ipaddress

from balto.core.errors import BaltoError

__all__ = [
    "MAX_HEADER_BYTES",
    "V1_PREFIX",
    "V2_SIGNATURE",
    "NeedMore",
    "NotProxy",
    "ProxyHeader",
    "ProxyProtocolError",
    "parse_proxy_header",
]

V1_PREFIX = b"PROXY "
V1_MAX_BYTES = 107  # the spec's longest line, CRLF included
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
V2_FIXED_BYTES = 16
#: v2's length field allows 64 KiB of TLVs; we take what HAProxy sends without TLV options.
MAX_HEADER_BYTES = 1024
_V2_LOCAL, _V2_PROXY = 0x0, 0x1
_V2_INET, _V2_INET6 = 0x1, 0x2
_V2_STREAM = 0x1


class ProxyProtocolError(BaltoError):
    """A trusted peer sent a PROXY header we cannot read."""


@dataclasses.dataclass(frozen=True, slots=True)
class NeedMore:
    pass


@dataclasses.dataclass(frozen=True, slots=True)
class NotProxy:
    pass


@dataclasses.dataclass(frozen=True, slots=True)
class ProxyHeader:
    length: int  # bytes the header took: what follows is the relayed connection's
    source: str | None  # the client's address; None: the proxy speaks for itself


Parsed = NeedMore | NotProxy | ProxyHeader


def parse_proxy_header(data: bytes) -> Parsed:
    """What the first bytes of a trusted peer's connection are (see the module docstring)."""
    for prefix, parse in ((V1_PREFIX, _parse_v1), (V2_SIGNATURE, _parse_v2)):
        if data.startswith(prefix):
            return parse(data)
        if prefix.startswith(data):
            return NeedMore()  # empty, or a prefix of a header so far
    return NotProxy()


def _parse_v1(data: bytes) -> Parsed:
    end = data.find(b"\r\n", 0, V1_MAX_BYTES)
    if end < 0:
        if len(data) >= V1_MAX_BYTES:
            raise ProxyProtocolError("cabeçalho PROXY v1 sem fim de linha")
        return NeedMore()
    try:
        words = data[:end].decode("ascii").split(" ")
    except UnicodeDecodeError as exc:
        raise ProxyProtocolError("cabeçalho PROXY v1 não é ASCII") from exc
    length = end + 2
    if words[1:2] == ["UNKNOWN"]:
        return ProxyHeader(length, None)
    if len(words) != 6 or words[1] not in ("TCP4", "TCP6"):
        raise ProxyProtocolError("cabeçalho PROXY v1 malformado")
    _, family, source, destination, source_port, destination_port = words
    version = 4 if family == "TCP4" else 6
    for address in (source, destination):
        try:
            ip = ipaddress.ip_address(address)
        except ValueError as exc:
            raise ProxyProtocolError("endereço inválido no cabeçalho PROXY v1") from exc
        if ip.version != version or "%" in address:
            raise ProxyProtocolError("endereço inválido no cabeçalho PROXY v1")
    for port in (source_port, destination_port):
        if not (port.isascii() and port.isdigit() and len(port) <= 5 and int(port) <= 65535):
            raise ProxyProtocolError("porta inválida no cabeçalho PROXY v1")
    return ProxyHeader(length, str(ipaddress.ip_address(source)))


def _parse_v2(data: bytes) -> Parsed:
    if len(data) < V2_FIXED_BYTES:
        return NeedMore()
    version, command = data[12] >> 4, data[12] & 0x0F
    family, transport = data[13] >> 4, data[13] & 0x0F
    length = V2_FIXED_BYTES + int.from_bytes(data[14:16], "big")
    if version != 2 or command not in (_V2_LOCAL, _V2_PROXY):
        raise ProxyProtocolError("cabeçalho PROXY v2 de versão ou comando desconhecido")
    if length > MAX_HEADER_BYTES:
        raise ProxyProtocolError("cabeçalho PROXY v2 longo demais")
    if len(data) < length:
        return NeedMore()
    body = data[V2_FIXED_BYTES:length]
    if command == _V2_LOCAL or transport != _V2_STREAM:
        return ProxyHeader(length, None)
    if family == _V2_INET and len(body) >= 12:
        return ProxyHeader(length, str(ipaddress.IPv4Address(body[:4])))
    if family == _V2_INET6 and len(body) >= 36:
        return ProxyHeader(length, str(ipaddress.IPv6Address(body[:16])))
    if family in (_V2_INET, _V2_INET6):
        raise ProxyProtocolError("cabeçalho PROXY v2 curto demais para os endereços")
    return ProxyHeader(length, None)  # AF_UNSPEC or AF_UNIX: no client address to key on
