"""Per-client limits behind the real HAProxy (issue 15): the instances trust HAProxy
(TRUSTED_PROXIES), which names each client twice, in a PROXY protocol header at the start of
every connection (``send-proxy-v2``) and in X-Forwarded-For (``option forwardfor``). So clients
at different addresses have budgets of their own though every connection reaches the instances
from HAProxy; a header forged by the client is believed neither through the balancer (HAProxy
names the real address) nor sent straight to an instance (an untrusted peer's is ignored)."""

from __future__ import annotations

import pytest
import trio

from balto.counter.config import CounterConfig
from tests.e2e.test_admin_api import new_chain
from tests.e2e.test_http import register
from tests.helpers import http
from tests.scale.haproxy import BALANCER_ADDRESS
from tests.scale.test_counter_lb import INSTANCES, shared_database, topology

__all__ = ["shared_database"]  # the fixture

BURST = CounterConfig().codigo_failures_burst  # the instances run the defaults
ATTACKER, NEIGHBOUR, DIRECT = "127.0.0.2", "127.0.0.3", "127.0.0.4"  # loopback aliases
WAIT_S = 10


def wrong(codigo: str, i: int) -> str:
    """A different wrong code each time: only the per-network budget runs out."""
    return f"{(int(codigo) + 1 + i) % 1_000_000:06d}"


async def guess(port: int, codigo: str, *, local: str, forged: str | None = None) -> int:
    headers = [("X-Forwarded-For", forged)] if forged else []
    body = {"nome_balcao": "Loja", "user_codigo": codigo}
    reply = await http(port, "POST", "/cadastro/balcao", body, local=local, headers=headers)
    return reply.status


@pytest.mark.parametrize(
    "without",
    [None, "send-proxy-v2"],
    ids=["as-deployed", "x-forwarded-for-alone"],
)
async def test_a_client_exhausting_codigo_guesses_does_not_block_the_others(
    redis_url, shared_database, tmp_path, without
):
    assert BALANCER_ADDRESS not in (ATTACKER, NEIGHBOUR)
    async with topology(redis_url, shared_database, tmp_path, without=without) as lb:
        port = lb.balancer.ports["balto"]
        codigo, _ = await register(port)
        # A new forged X-Forwarded-For on every guess: HAProxy names the real address.
        statuses = [
            await guess(port, wrong(codigo, i), local=ATTACKER, forged=f"198.51.100.{i}")
            for i in range(BURST + 1)
        ]
        assert statuses == [400] * BURST + [429], statuses
        # Same balancer, same instances, another client: a budget of its own.
        assert await guess(port, wrong(codigo, 50), local=NEIGHBOUR) == 400
        assert await guess(port, codigo, local=NEIGHBOUR) == 201
        # The attacker stays blocked, even with the right code, even naming the neighbour.
        assert await guess(port, codigo, local=ATTACKER, forged=NEIGHBOUR) == 429


async def test_a_forged_header_sent_straight_to_an_instance_is_ignored(
    redis_url, shared_database, tmp_path
):
    async with topology(redis_url, shared_database, tmp_path) as lb:
        codigo, _ = await register(lb.balancer.ports["balto"])
        ports = [lb.ports[name] for name in INSTANCES] * BURST
        statuses = [
            await guess(ports[i], wrong(codigo, i), local=DIRECT, forged=f"198.51.100.{i}")
            for i in range(BURST)
        ]
        assert statuses == [400] * BURST, statuses
        for name in INSTANCES:  # one shared budget, keyed on the TCP peer, on each instance
            forged = f"{NEIGHBOUR}, {BALANCER_ADDRESS}"  # as if HAProxy had written it
            assert await guess(lb.ports[name], codigo, local=DIRECT, forged=forged) == 429
        # A PROXY header from an untrusted peer is not read either: not HTTP, 400.
        proxy_header = f"PROXY TCP4 {NEIGHBOUR} 127.0.0.1 5000 8765\r\n".encode()
        stream = await trio.open_tcp_stream("127.0.0.1", lb.ports["balto-1"], local_address=DIRECT)
        async with stream:
            await stream.send_all(proxy_header + b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
            with trio.fail_after(WAIT_S):
                assert (await stream.receive_some(65536)).startswith(b"HTTP/1.1 400 ")
        # Through the balancer, the neighbour was never charged.
        assert await guess(lb.balancer.ports["balto"], codigo, local=NEIGHBOUR) == 201


async def hold_feed(port: int, bearer: str, local: str) -> tuple[trio.SocketStream, int]:
    """A live feed (``GET /api/ao-vivo``, a response that never ends) held open from ``local``
    through the balancer, and its status."""
    stream = await trio.open_tcp_stream("127.0.0.1", port, local_address=local)
    await stream.send_all(
        b"GET /api/ao-vivo HTTP/1.1\r\nhost: balto\r\naccept: text/event-stream\r\n"
        b"authorization: Bearer %s\r\n\r\n" % bearer.encode()
    )
    head = b""
    with trio.fail_after(WAIT_S):
        while b"\r\n" not in head:
            head += await stream.receive_some(65536)
    return stream, int(head.split()[1])


async def test_the_connection_cap_per_address_counts_each_client_behind_the_balancer(
    redis_url, shared_database, tmp_path
):
    """One connection per address and instance: the attacker holds one on each instance and
    is refused a third; the neighbour, through the same HAProxy, still gets in (without
    send-proxy-v2 the instances see HAProxy's one address: the neighbour gets 503)."""
    async with topology(
        redis_url, shared_database, tmp_path, more_env={"MAX_CONNECTIONS_PER_ADDRESS": "1"}
    ) as lb:
        port = lb.balancer.ports["balto"]
        chain = await new_chain(port, "rede@limite.com")
        held = []
        try:
            for _ in INSTANCES:  # leastconn: one on each instance
                stream, status = await hold_feed(port, chain.chave_admin, ATTACKER)
                held.append(stream)
                assert status == 200
            stream, status = await hold_feed(port, chain.chave_admin, ATTACKER)
            held.append(stream)
            assert status == 503  # the attacker's address is at its cap on both instances
            stream, status = await hold_feed(port, chain.chave_admin, NEIGHBOUR)
            held.append(stream)
            assert status == 200
            # HAProxy's own health checks (PROXY LOCAL) still pass: both instances stay UP.
            stats = await lb.balancer.stats()
            assert all(stats[("balto", name)]["status"] == "UP" for name in INSTANCES)
        finally:
            for stream in held:
                await trio.aclose_forcefully(stream)
