"""The counter app's configuration: one frozen object, read from the environment once.

``CounterConfig.from_env`` is the only place that reads the environment for the counter app
(the shared HTTP limits come with it, in ``http``). Names carry their unit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from balto.core.config import (
    ConfigError,
    HttpConfig,
    check_known,
    default_cache_dir,
    environment,
    fields_from_env,
    split_overrides,
    usable_cpus,
)
from balto.core.redis.url import parse_redis_url

__all__ = ["MODEL_WEIGHTS", "ConfigError", "CounterConfig"]

#: How the converted model stores its weight matrices (``balto model install --pesos``).
MODEL_WEIGHTS = ("f16", "q8_0")

#: Environment variables whose name is not the field's name upper-cased.
ENV_NAMES = {
    "model_path": "BALTO_MODEL",
    "model_size": "BALTO_MODEL_SIZE",
    "model_weights": "BALTO_MODEL_WEIGHTS",
    "cache_dir": "BALTO_CACHE_DIR",
    "language": "BALTO_LANGUAGE",
    "retention_days": "RETENCAO_DIAS",
}


@dataclasses.dataclass(frozen=True, slots=True)
class CounterConfig:
    http: HttpConfig = dataclasses.field(default_factory=HttpConfig)
    db_file: Path = Path("./dados/registro.db")
    # PostgreSQL instead of the SQLite file when set (postgresql://user:senha@host:5432/banco)
    database_url: str | None = None
    database_pool_size: int = 4  # connections per instance (also the store's threads)
    database_timeout_s: float = 5.0  # wait for a pooled connection; past it: StorageError

    # Many instances: REDIS_URL (redis://[[user]:password@]host[:port][/db]); set, the rate
    # limits are shared and rule changes, revocations and the live feed reach every instance
    redis_url: str = ""

    # Registration
    admin_token: str | None = None  # when set, POST /cadastro/cliente needs "Bearer <token>"
    codigo_failures_burst: int = 5  # failed cadastro/balcao attempts per client network...
    codigo_failure_refill_s: float = 60.0  # ...then one more per this many seconds
    codigo_failures_global_burst: int = 30  # the same, summed over every client: a guess
    codigo_failure_global_refill_s: float = 10.0  # spread over many addresses hits this wall
    cadastro_cliente_burst: int = 10  # POST /cadastro/cliente per client network (open mode)...
    cadastro_cliente_refill_s: float = 60.0  # ...then one more per this many seconds

    # Management API
    report_timezone: str = "America/Sao_Paulo"  # the reports' days and hours are local ones
    chave_admin_failures_burst: int = 20  # /api/ calls with a wrong key per client network...
    chave_admin_failure_refill_s: float = 3.0  # ...then one more per this many seconds
    sessao_ttl_s: float = 8 * 3600.0  # a panel login lasts this long (absolute, not sliding)
    ao_vivo_keepalive_s: float = 15.0  # a comment line on an idle live feed this often
    ao_vivo_buffer_events: int = 256  # per live-feed subscriber; past it the oldest are lost

    # Privacy (LGPD)
    retention_days: int = 365  # RETENCAO_DIAS: interactions older are deleted; 0 keeps all

    # Counter WebSocket
    auth_timeout_s: float = 10.0
    ring_buffer_s: float = 30.0
    recommendation_cooldown_s: float = 60.0
    store_transcripts: bool = False
    ws_send_timeout_s: float = 10.0  # a peer that does not read for this long is dropped

    # Speech recognition
    model_path: Path | None = None  # BALTO_MODEL: an existing ggml file; None = converted cache
    model_size: str = "base"
    # q8_0 or f16 (README "Desempenho": same WER and recall, ~0.9x the CPU, 0.8x the RAM)
    model_weights: str = "q8_0"
    cache_dir: Path = dataclasses.field(default_factory=default_cache_dir)
    # whisper.cpp contexts; 0: one per asr_threads_per_worker usable cores (asr_worker_count)
    asr_workers: int = 0
    asr_threads_per_worker: int = 1  # 2 x 1 on 2 cores: the capacity (README "Desempenho")
    asr_beam_size: int = 1  # 1: greedy; 5: beam search, ~1.35x the CPU for fewer errors
    asr_max_pending_per_counter: int = 4  # decode jobs queued per counter; older ones dropped
    asr_finals_first: bool = False  # the pool decodes ended utterances before interims
    asr_max_lag_s: float = 5.0  # an utterance ending further behind the live stream is skipped
    # When to decode (python -m bench.cost compares policies; README "Desempenho"): every
    # asr_interim_every_s of talk (0: never); at a pause of asr_pause_interim_s (0: never)
    # after at least asr_pause_interim_min_s of new audio; with asr_window_overlap_s > 0 each
    # decode carries only what no decode covered plus that overlap (0: the whole utterance).
    # The defaults keep the first version's policy: the windowed one costs less but, measured,
    # also heard fewer complaints.
    asr_interim_every_s: float = 1.5
    asr_pause_interim_s: float = 0.0
    asr_pause_interim_min_s: float = 2.0
    asr_window_overlap_s: float = 0.0
    # When the whisper pool's workers have been decoding this share of the time or more
    # (averaged over ~5 s; 0: never), every counter switches to the economy policy: no
    # periodic interims, whole-utterance decodes at phrase-end pauses, no final those already
    # heard; below 0.6x of it, back to the policy above (README "Desempenho").
    asr_economy_load: float = 0.3
    language: str = "pt"

    @property
    def ws_ping_interval_s(self) -> float:
        """The keepalive ping interval, shared with the HTTP core (``WS_PING_INTERVAL_S``)."""
        return self.http.ws_ping_interval_s

    @property
    def asr_worker_count(self) -> int:
        """``asr_workers``, or with 0 one worker per ``asr_threads_per_worker`` cores this
        process may use, container quota included (README "Desempenho": 1 x 2 against 2 x 1
        on 2 cores)."""
        if self.asr_workers:
            return self.asr_workers
        return max(1, usable_cpus() // self.asr_threads_per_worker)

    @property
    def database_target(self) -> Path | str:
        """What ``Database`` opens: the PostgreSQL URL when set, else the SQLite file."""
        return self.database_url if self.database_url else self.db_file

    @property
    def models_dir(self) -> Path:
        return self.cache_dir / "models"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> CounterConfig:
        """Read ``env`` (default: the process environment); ``overrides`` (CLI flags) win,
        ``None`` meaning "not given". An override may name an ``HttpConfig`` field."""
        check_known(overrides, cls, HttpConfig)
        env = environment(env)
        values = fields_from_env(cls, env, ENV_NAMES) | split_overrides(cls, overrides)
        http_overrides = split_overrides(HttpConfig, overrides)
        values["http"] = HttpConfig.from_env(env, **http_overrides)
        config = cls(**values)
        config.validate()
        return config

    def replace(self, **changes: object) -> CounterConfig:
        """A copy with ``changes``, which may name fields of this object or of ``http``."""
        check_known(changes, CounterConfig, HttpConfig)
        own = split_overrides(CounterConfig, changes, none_is_unset=False)
        base = own.pop("http", self.http)
        http = dataclasses.replace(
            base, **split_overrides(HttpConfig, changes, none_is_unset=False)
        )
        config = dataclasses.replace(self, http=http, **own)
        config.validate()
        return config

    def validate(self) -> None:
        self.http.validate()
        positive = (
            "codigo_failures_burst",
            "codigo_failures_global_burst",
            "cadastro_cliente_burst",
            "chave_admin_failures_burst",
            "asr_threads_per_worker",
            "asr_beam_size",
            "auth_timeout_s",
            "ring_buffer_s",
            "codigo_failure_refill_s",
            "codigo_failure_global_refill_s",
            "cadastro_cliente_refill_s",
            "chave_admin_failure_refill_s",
            "sessao_ttl_s",
            "ao_vivo_keepalive_s",
            "ao_vivo_buffer_events",
            "ws_send_timeout_s",
            "asr_max_lag_s",
            "database_pool_size",
            "database_timeout_s",
        )
        for name in positive:
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name.upper()} deve ser positivo")
        for name in (
            "asr_workers",
            "asr_interim_every_s",
            "asr_pause_interim_s",
            "asr_pause_interim_min_s",
            "asr_window_overlap_s",
        ):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name.upper()} não pode ser negativo")
        if not 0 <= self.asr_economy_load <= 1:
            raise ConfigError("ASR_ECONOMY_LOAD deve estar entre 0 (nunca) e 1")
        if self.redis_url:
            parse_redis_url(self.redis_url)  # a bad URL is a clear error at startup
        if self.database_url and not self.database_url.startswith(("postgresql://", "postgres://")):
            raise ConfigError("DATABASE_URL deve começar com postgresql:// (ou postgres://)")
        if self.retention_days < 0:
            raise ConfigError("RETENCAO_DIAS deve ser 0 (guardar tudo) ou um número de dias")
        try:
            ZoneInfo(self.report_timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
            raise ConfigError(
                f"REPORT_TIMEZONE deve ser um fuso horário IANA (ex.: America/Sao_Paulo), "
                f"não {self.report_timezone!r}"
            ) from exc
        if self.model_size not in ("base", "small"):
            raise ConfigError(f"BALTO_MODEL_SIZE deve ser base ou small, não {self.model_size!r}")
        if self.model_weights not in MODEL_WEIGHTS:
            raise ConfigError(
                f"BALTO_MODEL_WEIGHTS deve ser f16 ou q8_0, não {self.model_weights!r}"
            )
