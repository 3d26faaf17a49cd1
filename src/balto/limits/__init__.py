"""Abuse limits, without I/O: failed-attempt rate limits and connection caps."""

from balto.limits.connections import ConnectionCaps, Refusal
from balto.limits.rate import FailureLimiter

__all__ = ["ConnectionCaps", "FailureLimiter", "Refusal"]
