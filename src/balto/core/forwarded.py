"""The client's address behind trusted proxies (``X-Forwarded-For``). No I/O.

Behind a load balancer every TCP connection comes from the balancer, so every limit keyed on
the peer address would hold all clients together. :func:`client_address` gives the address the
limits and the logs key on instead:

* a peer outside ``TRUSTED_PROXIES`` (the default: nobody is trusted) is the client, whatever
  headers it sends: a client cannot pick its own key by forging ``X-Forwarded-For``;
* a trusted peer's ``X-Forwarded-For`` is walked from the right (each proxy appends the address
  it received the request from), skipping trusted hops; the first untrusted address is the
  client. Everything left of it was written by the client and is never read;
* a malformed hop met before that (garbage, a port we cannot read, an IPv6 zone) means the
  header cannot be believed: the peer is the client. Nothing here raises on client input.

The result is always the peer itself or a valid IP address in canonical form.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Iterable

__all__ = ["FORWARDED_FOR", "TrustedProxies", "client_address", "parse_ip"]

FORWARDED_FOR = "x-forwarded-for"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclasses.dataclass(frozen=True, slots=True)
class TrustedProxies:
    """The proxies whose ``X-Forwarded-For`` we believe: IP networks (a bare IP is a /32 or
    /128). Empty: nobody is trusted and the TCP peer is always the client."""

    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, text: str) -> TrustedProxies:
        """From ``"10.0.0.0/8, 192.168.1.5, ::1"``; a ``ValueError`` names the bad item."""
        networks = []
        for item in text.split(","):
            item = item.strip()
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError as exc:
                raise ValueError(f"não é um IP nem uma rede CIDR: {item!r}") from exc
        return cls(tuple(networks))

    def __bool__(self) -> bool:
        return bool(self.networks)

    def __str__(self) -> str:
        return ",".join(str(network) for network in self.networks)

    def trusts(self, address: str) -> bool:
        ip = parse_ip(address)
        return ip is not None and self.trusts_ip(ip)

    def trusts_ip(self, ip: Address) -> bool:
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # a dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d
        return any(ip in network for network in self.networks)


def parse_ip(text: str) -> Address | None:
    """An address as proxies write it (``1.2.3.4``, ``1.2.3.4:56``, ``::1``, ``[::1]:56``),
    or None. IPv6 zones (``fe80::1%eth0``) are refused: they name an interface, not a client."""
    text = text.strip()
    if text.startswith("["):
        end = text.find("]")
        if end < 0 or not _is_port_suffix(text[end + 1 :]):
            return None
        text = text[1:end]
    elif text.count(":") == 1:  # IPv4 with a port; an IPv6 address has at least two colons
        text, _, port = text.partition(":")
        if not _is_port_suffix(":" + port):
            return None
    if "%" in text or not text.isascii():
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _is_port_suffix(text: str) -> bool:
    if not text:
        return True
    port = text[1:]
    return text[0] == ":" and port.isascii() and port.isdigit() and int(port[:6]) <= 65535


def client_address(peer: str, headers: Iterable[tuple[str, str]], trusted: TrustedProxies) -> str:
    """The address the limits key on (see the module docstring). ``headers`` are the request's
    (name, value) pairs with names in any case; several ``X-Forwarded-For`` lines are read as
    one list, in order."""
    if not trusted or not trusted.trusts(peer):
        return peer
    values = [value for name, value in headers if name.lower() == FORWARDED_FOR]
    if not values:
        return peer
    hops = ",".join(values).split(",")
    leftmost: Address | None = None
    for hop in reversed(hops):
        ip = parse_ip(hop)
        if ip is None:
            return peer
        if not trusted.trusts_ip(ip):
            return str(ip)
        leftmost = ip
    # Every hop is a trusted proxy: the farthest one is the best we know.
    return str(leftmost) if leftmost is not None else peer
