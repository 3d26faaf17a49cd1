"""The counter's rate limits when Redis cannot be reached: registration fails closed (503), the
wrong-key limit falls back to this instance's buckets. No server: the address refuses."""

from __future__ import annotations

import pytest

from balto.core.errors import ServiceUnavailable
from balto.core.limits import TokenBuckets
from balto.core.redis.client import Redis
from balto.core.redis.url import parse_redis_url
from balto.counter.coord.limits import SharedRateLimits
from balto.counter.metrics import CounterMetrics

GONE = parse_redis_url("redis://127.0.0.1:1/0")  # nothing listens on port 1


def failures(metrics: CounterMetrics) -> float:
    value = metrics.registry.get_sample_value("balto_coord_failures_total", {"tipo": "limite"})
    return value or 0.0


async def test_registration_limits_fail_closed() -> None:
    metrics = CounterMetrics()
    limits = SharedRateLimits(Redis(GONE), metrics)
    codigo = TokenBuckets("codigo", burst=5, refill_s=60)
    everyone = TokenBuckets("codigo_global", burst=30, refill_s=10)
    with pytest.raises(ServiceUnavailable, match="Redis"):
        await limits.take_all([(codigo, "addr:10.0.0.1"), (everyone, "all")])
    cadastro = TokenBuckets("cadastro_cliente", burst=10, refill_s=60)
    with pytest.raises(ServiceUnavailable):
        await limits.take_all([(cadastro, "10.0.0.1")])
    await limits.give_back_all([(codigo, "addr:10.0.0.1")])  # logged and counted, no raise
    assert failures(metrics) == 3
    assert len(codigo) == len(everyone) == len(cadastro) == 0  # no local budget handed out


async def test_the_wrong_key_limit_falls_back_to_this_instance() -> None:
    metrics = CounterMetrics()
    limits = SharedRateLimits(Redis(GONE), metrics)
    keys = TokenBuckets("chave_admin", burst=2, refill_s=60)
    assert await limits.retry_after_s(keys, "addr:10.0.0.1") == 0
    await limits.spend(keys, "addr:10.0.0.1")
    await limits.spend(keys, "addr:10.0.0.1")
    assert await limits.retry_after_s(keys, "addr:10.0.0.1") > 0  # this instance's buckets
    assert failures(metrics) == 4
