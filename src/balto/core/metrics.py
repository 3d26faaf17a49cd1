"""Prometheus metrics, one registry per server instance (tests run several side by side).

:class:`ServerMetrics` holds what the shared core measures (connections, refusals, crashes at
the task boundaries, HTTP latency, rate limits); each app extends it with its own.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from balto.core.isolation import Boundary

LATENCY_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0)


class ServerMetrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.connections = Gauge(
            "balto_connections_active", "Open connections", ["kind"], registry=r
        )
        self.connections_total = Counter(
            "balto_connections", "Accepted connections", ["kind"], registry=r
        )
        self.connections_refused = Counter(
            "balto_connections_refused", "Connections refused by the connection caps", registry=r
        )
        self.connections_closed_at_once = Counter(
            "balto_connections_closed_at_once",
            "Connections over the caps closed at accept, without reading (refusals all busy)",
            registry=r,
        )
        self.http_latency = Histogram(
            "balto_http_request_duration_seconds",
            "HTTP request handling time",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.crashes = Counter(
            "balto_crashes",
            "Unexpected errors stopped at a task boundary (each ended one peer or job)",
            ["boundary"],
            registry=r,
        )
        self.rate_limited = Counter(
            "balto_rate_limited",
            "Requests refused by a rate limit",
            ["limit"],
            registry=r,
        )
        self.boundary = Boundary(self.crashes)

    def render(self) -> bytes:
        return generate_latest(self.registry)
