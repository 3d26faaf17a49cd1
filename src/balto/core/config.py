"""Typed configuration read from the environment, once.

Each app has one frozen dataclass (``CounterConfig``, ``PartnumberConfig``) holding the shared
HTTP limits (:class:`HttpConfig`) and its own settings. Field names carry their unit (``_s``
seconds, ``_bytes``, ``_hz``). :func:`fields_from_env` parses a dataclass's fields from the
real type hints (``int``, ``float``, ``bool``, ``str``, ``Path``, ``TrustedProxies`` and their
``| None``); the ``from_env`` class methods are the only places that read the environment.
"""

from __future__ import annotations

import dataclasses
import math
import os
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from balto.core.errors import BaltoError
from balto.core.forwarded import TrustedProxies

__all__ = ["ConfigError", "HttpConfig", "default_cache_dir", "environment", "fields_from_env"]

_TRUE = frozenset({"1", "true", "yes", "sim", "on"})
_FALSE = frozenset({"0", "false", "no", "nao", "não", "off"})

T = TypeVar("T")


class ConfigError(BaltoError):
    """An environment variable holds a value we cannot use."""


def environment(env: Mapping[str, str] | None) -> Mapping[str, str]:
    """``env``, or the process environment."""
    return os.environ if env is None else env


def usable_cpus(cgroup_root: Path = Path("/sys/fs/cgroup")) -> int:
    """The CPUs this process may use: its affinity, capped by a cgroup CPU quota (what a
    container's ``--cpus`` sets: cgroup v2 ``cpu.max``, or v1 ``cpu.cfs_quota_us``)."""
    count = len(os.sched_getaffinity(0))
    quota = _cgroup_cpu_quota(cgroup_root)
    return count if quota is None else max(1, min(count, math.ceil(quota)))


def _cgroup_cpu_quota(root: Path) -> float | None:
    """CPUs' worth of quota, or None when there is none (or it cannot be read)."""
    try:
        limit, period_v2 = (root / "cpu.max").read_text(encoding="ascii").split()[:2]
        return None if limit == "max" else int(limit) / int(period_v2)
    except (OSError, ValueError):
        pass
    try:
        quota_us = int((root / "cpu" / "cpu.cfs_quota_us").read_text(encoding="ascii"))
        period_us = int((root / "cpu" / "cpu.cfs_period_us").read_text(encoding="ascii"))
    except (OSError, ValueError):
        return None
    return quota_us / period_us if quota_us > 0 and period_us > 0 else None


def default_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    env = environment(env)
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "balto"


def fields_from_env(
    cls: type[Any], env: Mapping[str, str], names: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The fields of dataclass ``cls`` that ``env`` sets (variable: ``names[field]`` or the
    field's name upper-cased), parsed by their type hints; nested dataclasses are skipped."""
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        kind = hints[field.name]
        if dataclasses.is_dataclass(kind) and kind is not TrustedProxies:
            continue  # a nested config (``http``); TrustedProxies is a value read from one line
        name = (names or {}).get(field.name, field.name.upper())
        raw = env.get(name)
        if raw is None or raw == "":
            continue
        values[field.name] = _parse(name, raw, kind)
    return values


def _parse(name: str, raw: str, kind: Any) -> Any:
    if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
        (kind,) = [arg for arg in typing.get_args(kind) if arg is not type(None)]
    try:
        if kind is bool:
            lowered = raw.strip().lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
            raise ValueError(raw)
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
        if kind is Path:
            return Path(raw).expanduser()
        if kind is str:
            return raw
        if kind is TrustedProxies:
            return TrustedProxies.parse(raw)
    except ValueError as exc:
        raise ConfigError(f"valor inválido em {name}: {raw!r}") from exc
    raise TypeError(f"no parser for {kind!r} ({name})")


def split_overrides(
    cls: type[Any], overrides: Mapping[str, object], *, none_is_unset: bool = True
) -> dict[str, Any]:
    """The overrides that name fields of ``cls``. For CLI flags (``none_is_unset``) ``None``
    means "not given"; for :meth:`replace`-style changes it is a value like any other."""
    names = {field.name for field in dataclasses.fields(cls)}
    return {
        k: v for k, v in overrides.items() if k in names and (v is not None or not none_is_unset)
    }


def check_known(overrides: Mapping[str, object], *classes: type[Any]) -> None:
    """Refuse an override that names no field of ``classes`` (a typo must not pass silently)."""
    known = {field.name for cls in classes for field in dataclasses.fields(cls)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise TypeError(f"unknown config fields: {unknown}")


@dataclasses.dataclass(frozen=True, slots=True)
class HttpConfig:
    """What the shared HTTP core needs: where to listen and how much to accept."""

    host: str = "0.0.0.0"
    port: int = 8765
    max_body_bytes: int = 64 * 1024
    max_header_bytes: int = 16 * 1024
    request_timeout_s: float = 15.0  # to receive a whole request (408)
    keepalive_timeout_s: float = 30.0  # an idle connection is closed after this
    stream_send_timeout_s: float = 15.0  # a streamed body's chunk not taken by then: closed
    shutdown_grace_s: float = 5.0
    max_connections: int = 4096
    max_connections_per_address: int = 512
    ws_max_message_bytes: int = 256 * 1024
    ws_ping_interval_s: float = 20.0  # WebSocket keepalive ping; no pong within it → closed
    # Peers whose PROXY protocol header and X-Forwarded-For name the client (comma-separated
    # IPs/CIDRs; empty: nobody): balto.core.proxy_protocol, balto.core.forwarded.
    trusted_proxies: TrustedProxies = dataclasses.field(default_factory=TrustedProxies)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> HttpConfig:
        check_known(overrides, cls)
        values = fields_from_env(cls, environment(env)) | split_overrides(cls, overrides)
        config = cls(**values)
        config.validate()
        return config

    def validate(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"PORT fora do intervalo: {self.port}")
        positive = (
            "max_body_bytes",
            "max_header_bytes",
            "request_timeout_s",
            "keepalive_timeout_s",
            "stream_send_timeout_s",
            "max_connections",
            "max_connections_per_address",
            "ws_max_message_bytes",
            "ws_ping_interval_s",
        )
        for name in positive:
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name.upper()} deve ser positivo")
