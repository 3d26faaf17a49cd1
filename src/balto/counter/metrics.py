"""The counter app's metrics, on top of the core's (one registry per server instance)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from balto.core.metrics import ServerMetrics

ASR_BUCKETS = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)


class CounterMetrics(ServerMetrics):
    def __init__(self) -> None:
        super().__init__()
        r = self.registry
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
        self.asr_cpu_seconds = Counter(
            "balto_asr_cpu_seconds",
            "Process CPU seconds while at least one decode ran (recognition's cost)",
            registry=r,
        )
        self.asr_economy = Gauge(
            "balto_asr_economy",
            "1 while the whisper pool is busy and counters decode by their economy policy",
            registry=r,
        )
        self.speech_seconds = Counter(
            "balto_speech_seconds",
            "Speech received: the utterances the segmenter cut, each counted once",
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
        self.retention_deleted = Counter(
            "balto_retention_deleted_interactions",
            "Interactions deleted for being older than RETENCAO_DIAS",
            registry=r,
        )
        self.retention_failures = Counter(
            "balto_retention_failures",
            "Retention passes that failed (tried again at the next interval)",
            registry=r,
        )
        # With REDIS_URL (counter.coord): what came from the other instances, what failed.
        self.coord_received = Counter(
            "balto_coord_received",
            "Coordination messages from other instances acted on (REDIS_URL)",
            ["tipo"],
            registry=r,
        )
        self.coord_failures = Counter(
            "balto_coord_failures",
            "Coordination through Redis that failed: messages not published or unreadable, "
            "rules not reloaded, rate limits not reached",
            ["tipo"],
            registry=r,
        )
