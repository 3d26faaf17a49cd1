"""One typed configuration object, read from environment variables.

Names carry their unit (``_S`` seconds, ``_BYTES``, ``_HZ``). ``Config.from_env`` is the only
place that reads ``os.environ``; everything else receives a ``Config``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path

from balto.core.errors import BaltoError


class ConfigError(BaltoError):
    """An environment variable holds a value we cannot use."""


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "balto"


@dataclasses.dataclass(frozen=True, slots=True)
class Config:
    host: str = "0.0.0.0"
    port: int = 8765
    db_file: Path = Path("./dados/registro.db")

    # HTTP
    max_body_bytes: int = 64 * 1024
    max_header_bytes: int = 16 * 1024
    request_timeout_s: float = 15.0
    keepalive_timeout_s: float = 30.0
    shutdown_grace_s: float = 5.0
    max_connections: int = 4096
    max_connections_per_address: int = 512
    admin_token: str | None = None  # when set, POST /cadastro/cliente needs "Bearer <token>"
    codigo_failures_burst: int = 5  # failed cadastro/balcao attempts per client network...
    codigo_failure_refill_s: float = 60.0  # ...then one more per this many seconds
    codigo_failures_global_burst: int = 30  # the same, summed over every client: a guess
    codigo_failure_global_refill_s: float = 10.0  # spread over many addresses hits this wall
    cadastro_cliente_burst: int = 10  # POST /cadastro/cliente per client network (open mode)...
    cadastro_cliente_refill_s: float = 60.0  # ...then one more per this many seconds

    # Counter WebSocket
    auth_timeout_s: float = 10.0
    ws_max_message_bytes: int = 256 * 1024
    ring_buffer_s: float = 30.0
    recommendation_cooldown_s: float = 60.0
    store_transcripts: bool = False
    ws_ping_interval_s: float = 20.0  # keepalive ping; no pong within the interval → closed
    ws_send_timeout_s: float = 10.0  # a peer that does not read for this long is dropped

    # Speech recognition
    model_path: Path | None = None  # BALTO_MODEL: an existing ggml file; None = converted cache
    model_size: str = "base"
    cache_dir: Path = dataclasses.field(default_factory=_default_cache_dir)
    asr_workers: int = 1
    asr_threads_per_worker: int = 2
    asr_max_pending_per_counter: int = 4  # decode jobs queued per counter; older ones dropped
    asr_max_lag_s: float = 5.0  # an utterance ending further behind the live stream is skipped
    language: str = "pt"

    @property
    def models_dir(self) -> Path:
        return self.cache_dir / "models"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Config:
        """Build a config from ``env`` (default ``os.environ``); ``overrides`` win (CLI flags)."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for field in dataclasses.fields(cls):
            name = _ENV_NAMES.get(field.name, field.name.upper())
            raw = env.get(name)
            if raw is None or raw == "":
                continue
            values[field.name] = _parse(name, raw, field.type)
        values.update({k: v for k, v in overrides.items() if v is not None})
        config = cls(**values)  # type: ignore[arg-type]
        config.validate()
        return config

    def validate(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"PORT fora do intervalo: {self.port}")
        for name in (
            "codigo_failures_burst",
            "codigo_failures_global_burst",
            "cadastro_cliente_burst",
            "max_body_bytes",
            "ws_max_message_bytes",
            "asr_workers",
            "asr_threads_per_worker",
        ):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name.upper()} deve ser positivo")
        for name in (
            "auth_timeout_s",
            "ring_buffer_s",
            "request_timeout_s",
            "codigo_failure_refill_s",
            "codigo_failure_global_refill_s",
            "cadastro_cliente_refill_s",
            "ws_ping_interval_s",
            "ws_send_timeout_s",
            "asr_max_lag_s",
        ):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name.upper()} deve ser positivo")
        if self.model_size not in ("base", "small"):
            raise ConfigError(f"BALTO_MODEL_SIZE deve ser base ou small, não {self.model_size!r}")


_ENV_NAMES = {
    "model_path": "BALTO_MODEL",
    "model_size": "BALTO_MODEL_SIZE",
    "cache_dir": "BALTO_CACHE_DIR",
    "language": "BALTO_LANGUAGE",
}


def _parse(name: str, raw: str, type_: object) -> object:
    text = str(type_)
    try:
        if "Path" in text:
            return Path(raw).expanduser()
        if text == "bool":
            lowered = raw.strip().lower()
            if lowered in ("1", "true", "yes", "sim", "on"):
                return True
            if lowered in ("0", "false", "no", "nao", "não", "off"):
                return False
            raise ValueError(raw)
        if text == "int":
            return int(raw)
        if text == "float":
            return float(raw)
    except ValueError as exc:
        raise ConfigError(f"valor inválido em {name}: {raw!r}") from exc
    return raw
