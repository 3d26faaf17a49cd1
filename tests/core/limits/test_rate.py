"""Token buckets without I/O: all-or-nothing charges, refunds, keys by client network."""

from __future__ import annotations

import pytest

from balto.core.limits import TokenBuckets, give_back_all, network_of, take_all


def test_take_all_is_all_or_nothing() -> None:
    per_client = TokenBuckets("client", burst=2, refill_s=10)
    everyone = TokenBuckets("all", burst=3, refill_s=10)
    charges = [(per_client, "a"), (everyone, "*")]
    assert take_all(charges, 0.0) is None
    assert take_all(charges, 0.0) is None
    refused = take_all(charges, 0.0)
    assert refused is not None and refused.limit == "client" and refused.retry_after_s == 10
    # the refused attempt took nothing from the global bucket: another client still has one
    assert take_all([(per_client, "b"), (everyone, "*")], 0.0) is None
    refused = take_all([(per_client, "c"), (everyone, "*")], 0.0)
    assert refused is not None and refused.limit == "all"


def test_give_back_returns_the_token_and_forgets_full_buckets() -> None:
    buckets = TokenBuckets("client", burst=1, refill_s=60)
    assert take_all([(buckets, "a")], 0.0) is None
    assert take_all([(buckets, "a")], 1.0) is not None
    give_back_all([(buckets, "a")], 1.0)
    assert len(buckets) == 0
    assert take_all([(buckets, "a")], 1.0) is None


def test_tokens_refill_with_time() -> None:
    buckets = TokenBuckets("client", burst=1, refill_s=30)
    assert take_all([(buckets, "a")], 0.0) is None
    assert buckets.retry_after_s("a", 10.0) == 20
    assert take_all([(buckets, "a")], 30.0) is None


def test_memory_is_bounded() -> None:
    buckets = TokenBuckets("client", burst=1, refill_s=60, max_keys=100)
    for i in range(1000):
        take_all([(buckets, str(i))], 0.0)
    assert len(buckets) == 100


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("", ""),
    ],
)
def test_network_of(address: str, network: str) -> None:
    assert network_of(address) == network
