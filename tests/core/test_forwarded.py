"""The client behind trusted proxies: X-Forwarded-For walked from the right, never raising."""

from __future__ import annotations

import contextlib
import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from balto.core.config import ConfigError, HttpConfig
from balto.core.forwarded import TrustedProxies, client_address, parse_ip
from balto.core.limits import network_of

PROXY = "10.0.0.5"
TRUSTED = TrustedProxies.parse("10.0.0.0/24, ::1")


def xff(*values: str) -> list[tuple[str, str]]:
    return [("host", "balto")] + [("X-Forwarded-For", value) for value in values]


def test_nobody_trusted_by_default_the_peer_is_the_client() -> None:
    assert client_address("203.0.113.9", xff("1.2.3.4"), TrustedProxies()) == "203.0.113.9"
    assert not TrustedProxies() and HttpConfig.from_env({}).trusted_proxies == TrustedProxies()


def test_an_untrusted_peer_cannot_forge_its_address() -> None:
    assert client_address("203.0.113.9", xff("1.2.3.4"), TRUSTED) == "203.0.113.9"


def test_the_rightmost_untrusted_hop_is_the_client() -> None:
    # The client forged "1.2.3.4"; HAProxy appended the address it really came from.
    assert client_address(PROXY, xff("1.2.3.4, 198.51.100.7"), TRUSTED) == "198.51.100.7"
    # Two trusted proxies in a row are skipped.
    assert client_address(PROXY, xff("198.51.100.7, 10.0.0.9"), TRUSTED) == "198.51.100.7"
    # Several header lines are one list, in order.
    assert client_address(PROXY, xff("1.2.3.4", "198.51.100.7"), TRUSTED) == "198.51.100.7"


def test_no_header_or_only_proxies() -> None:
    assert client_address(PROXY, xff(), TRUSTED) == PROXY
    assert client_address(PROXY, xff("10.0.0.8, 10.0.0.9"), TRUSTED) == "10.0.0.8"


@pytest.mark.parametrize(
    "value",
    ["", "garbage", "1.2.3.4, unknown", "300.1.1.1", "fe80::1%eth0", "1.2.3.4:99999", "[::1"],
)
def test_a_malformed_hop_before_the_client_falls_back_to_the_peer(value: str) -> None:
    assert client_address(PROXY, xff(value), TRUSTED) == PROXY


def test_garbage_left_of_the_client_is_never_read() -> None:
    assert client_address(PROXY, xff("garbage, 198.51.100.7"), TRUSTED) == "198.51.100.7"


@pytest.mark.parametrize(
    ("hop", "client"),
    [
        ("198.51.100.7:5123", "198.51.100.7"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("2001:DB8:0::1", "2001:db8::1"),
        (" 198.51.100.7 ", "198.51.100.7"),
    ],
)
def test_hops_as_proxies_write_them(hop: str, client: str) -> None:
    assert client_address(PROXY, xff(hop), TRUSTED) == client


def test_ipv4_mapped_peer_and_ipv6_clients_keep_their_64() -> None:
    assert client_address("::ffff:10.0.0.5", xff("198.51.100.7"), TRUSTED) == "198.51.100.7"
    client = client_address("::1", xff("2001:db8:1:2:aaaa::1"), TRUSTED)
    assert network_of(client) == "2001:db8:1:2::/64"


def test_config_parses_networks_and_refuses_garbage() -> None:
    config = HttpConfig.from_env({"TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.5 ,::1,"})
    assert str(config.trusted_proxies) == "10.0.0.0/8,192.168.1.5/32,::1/128"
    assert config.trusted_proxies.trusts("10.255.0.1")
    assert not config.trusted_proxies.trusts("11.0.0.1")
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        HttpConfig.from_env({"TRUSTED_PROXIES": "10.0.0.0/8, haproxy"})


def _valid_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


_ip_text = st.one_of(
    st.ip_addresses().map(str),
    st.ip_addresses(v=6).map(lambda ip: f"[{ip}]:80"),
    st.ip_addresses(v=4).map(lambda ip: f"{ip}:8080"),
)
_hop = st.one_of(_ip_text, st.text(max_size=20), st.sampled_from(["10.0.0.7", "unknown", ""]))
_header_value = st.one_of(
    st.lists(_hop, max_size=6).map(", ".join),
    st.binary(max_size=64).map(lambda raw: raw.decode("latin-1")),
)


@given(
    peer=st.one_of(st.sampled_from([PROXY, "::1", "203.0.113.9", ""]), st.text(max_size=10)),
    values=st.lists(_header_value, max_size=3),
)
def test_any_header_gives_the_peer_or_a_valid_ip(peer: str, values: list[str]) -> None:
    client = client_address(peer, xff(*values), TRUSTED)
    assert client == peer or _valid_ip(client)
    if not TRUSTED.trusts(peer):
        assert client == peer  # a header from an untrusted peer is never believed
    else:
        assert client == peer or not TRUSTED.trusts(client) or client.startswith("10.0.0.")
    network_of(client)  # the limit key never raises either


@given(st.text(max_size=40))
def test_parse_ip_never_raises(text: str) -> None:
    ip = parse_ip(text)
    assert ip is None or ipaddress.ip_address(str(ip)) == ip


@given(st.text(max_size=60))
def test_trusted_proxies_parse_raises_only_value_error(text: str) -> None:
    with contextlib.suppress(ValueError):
        TrustedProxies.parse(text)
