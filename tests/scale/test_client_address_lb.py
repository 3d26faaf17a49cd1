"""Per-client limits behind the real HAProxy (issue 15): the instances trust HAProxy's
X-Forwarded-For (TRUSTED_PROXIES), so clients at different addresses have budgets of their own
though every connection reaches the instances from HAProxy; a header forged by the client is
believed neither through the balancer (HAProxy appends the real address, read from the right)
nor sent straight to an instance (an untrusted peer's header is ignored)."""

from __future__ import annotations

from balto.counter.config import CounterConfig
from tests.e2e.test_http import register
from tests.helpers import http
from tests.scale.haproxy import BALANCER_ADDRESS
from tests.scale.test_counter_lb import INSTANCES, shared_database, topology

__all__ = ["shared_database"]  # the fixture

BURST = CounterConfig().codigo_failures_burst  # the instances run the defaults
ATTACKER, NEIGHBOUR, DIRECT = "127.0.0.2", "127.0.0.3", "127.0.0.4"  # loopback aliases


def wrong(codigo: str, i: int) -> str:
    """A different wrong code each time: only the per-network budget runs out."""
    return f"{(int(codigo) + 1 + i) % 1_000_000:06d}"


async def guess(port: int, codigo: str, *, local: str, forged: str | None = None) -> int:
    headers = [("X-Forwarded-For", forged)] if forged else []
    body = {"nome_balcao": "Loja", "user_codigo": codigo}
    reply = await http(port, "POST", "/cadastro/balcao", body, local=local, headers=headers)
    return reply.status


async def test_a_client_exhausting_codigo_guesses_does_not_block_the_others(
    redis_url, shared_database, tmp_path
):
    assert BALANCER_ADDRESS not in (ATTACKER, NEIGHBOUR)
    async with topology(redis_url, shared_database, tmp_path) as lb:
        port = lb.balancer.ports["balto"]
        codigo, _ = await register(port)
        # A new forged X-Forwarded-For on every guess: HAProxy appends the real address.
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
        # Through the balancer, the neighbour was never charged.
        assert await guess(lb.balancer.ports["balto"], codigo, local=NEIGHBOUR) == 201
