"""Abuse limits, without I/O: token-bucket rate limits and connection caps."""

from balto.core.limits.connections import ConnectionCaps, Refusal
from balto.core.limits.rate import (
    Charge,
    Refused,
    TokenBuckets,
    give_back_all,
    network_of,
    take_all,
)

__all__ = [
    "Charge",
    "ConnectionCaps",
    "Refusal",
    "Refused",
    "TokenBuckets",
    "give_back_all",
    "network_of",
    "take_all",
]
