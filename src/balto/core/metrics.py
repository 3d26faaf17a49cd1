"""Prometheus metrics, one registry per server instance (tests run several side by side)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from balto.core.isolation import Boundary

LATENCY_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0)
ASR_BUCKETS = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)


class Metrics:
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
        self.sessions = Gauge(
            "balto_counter_sessions_active", "Authenticated counter WebSockets", registry=r
        )
        self.auth_failures = Counter(
            "balto_auth_failures", "Rejected counter authentications", ["reason"], registry=r
        )
        self.audio_seconds = Counter(
            "balto_audio_received_seconds", "Audio received from counters", registry=r
        )
        self.audio_dropped_seconds = Counter(
            "balto_audio_dropped_seconds",
            "Unprocessed audio dropped because recognition fell behind",
            registry=r,
        )
        self.recommendations = Counter(
            "balto_recommendations", "Recommendations sent", ["categoria"], registry=r
        )
        self.feedback = Counter("balto_feedback", "Feedback recorded", ["resultado"], registry=r)
        self.http_latency = Histogram(
            "balto_http_request_duration_seconds",
            "HTTP request handling time",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.asr_queue_lag = Histogram(
            "balto_asr_queue_lag_seconds",
            "Time a decode job waited for a whisper worker",
            buckets=ASR_BUCKETS,
            registry=r,
        )
        self.asr_decode = Histogram(
            "balto_asr_decode_seconds",
            "whisper.cpp compute per decode",
            buckets=ASR_BUCKETS,
            registry=r,
        )
        self.asr_audio_seconds = Counter(
            "balto_asr_decoded_audio_seconds",
            "Audio seconds decoded (interim and final)",
            registry=r,
        )
        self.asr_jobs_superseded = Counter(
            "balto_asr_jobs_superseded",
            "Interim decodes skipped because newer audio arrived",
            registry=r,
        )
        self.asr_failures = Counter(
            "balto_asr_failures", "Decodes that failed (no recommendation)", registry=r
        )
        self.storage_failures = Counter(
            "balto_storage_failures", "Database operations that failed", registry=r
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
        self.connections_closed_at_once = Counter(
            "balto_connections_closed_at_once",
            "Connections over the caps closed at accept, without reading (refusals all busy)",
            registry=r,
        )
        self.socketio_sessions_refused = Counter(
            "balto_socketio_sessions_refused",
            "Socket.IO sessions refused by the session caps",
            ["cap"],
            registry=r,
        )
        self.boundary = Boundary(self.crashes)

    def render(self) -> bytes:
        return generate_latest(self.registry)
