"""The partnumber service's configuration: one frozen object, read from the environment once.

``PartnumberConfig.from_env`` is the only place that reads the environment for this service:
the shared HTTP limits (``HOST``, ``PORT``, default port 5000, …), ``BALTO_CACHE_DIR``, and the
options ``balto partnumber serve`` also takes as flags: ``PARTNUMBER_CATALOG`` (CSV),
``PARTNUMBER_NCM`` (the Portuguese NCM table, CSV or JSON; unset: the table
``balto partnumber ncm install`` put in the cache, if any; ``nenhuma``: none, see
:func:`resolve_ncm_table`) and ``PARTNUMBER_CORS_ORIGINS`` (comma-separated; ``*`` for any;
unset: same origin only; the same origin is always accepted), and
``PARTNUMBER_MAX_QUEUED_TASKS`` (tasks waiting for the classifier; beyond it a POST is a 429).

Across instances: ``REDIS_URL`` (``redis://[[user]:password@]host[:port][/db]``; set, ``serve``
queues the tasks in Redis for ``balto partnumber worker`` processes and delivers Socket.IO room
events through it; unset, everything runs in-process), ``PARTNUMBER_TASK_TTL_S`` (how long a
task's state and result stay in Redis after its last change) and ``PARTNUMBER_CLAIM_IDLE_S``
(how long a task taken by a worker may go without a sign of life before another worker claims
it). With Redis, ``PARTNUMBER_MAX_QUEUED_TASKS`` counts the tasks queued or running on all the
workers.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from pathlib import Path

from balto.core.config import (
    ConfigError,
    HttpConfig,
    check_known,
    default_cache_dir,
    environment,
    fields_from_env,
    split_overrides,
)
from balto.core.redis.url import parse_redis_url
from balto.partnumber.ncm_source import LICENCE, PACKAGE, installed_table, is_installed
from balto.socketio import CorsConfig

__all__ = [
    "DEFAULT_MAX_QUEUED_TASKS",
    "DEFAULT_PORT",
    "NO_NCM_TABLE",
    "PartnumberConfig",
    "resolve_ncm_table",
]

log = logging.getLogger(__name__)

DEFAULT_PORT = 5000
ENV_NAMES = {
    "cache_dir": "BALTO_CACHE_DIR",
    "catalog_csv": "PARTNUMBER_CATALOG",
    "ncm_table": "PARTNUMBER_NCM",
    "cors_origins": "PARTNUMBER_CORS_ORIGINS",
    "max_queued_tasks": "PARTNUMBER_MAX_QUEUED_TASKS",
    "redis_url": "REDIS_URL",
    "task_ttl_s": "PARTNUMBER_TASK_TTL_S",
    "claim_idle_s": "PARTNUMBER_CLAIM_IDLE_S",
}
DEFAULT_MAX_QUEUED_TASKS = 64
#: ``PARTNUMBER_NCM`` / ``--ncm`` value that turns the NCM table off.
NO_NCM_TABLE = "nenhuma"


@dataclasses.dataclass(frozen=True, slots=True)
class PartnumberConfig:
    http: HttpConfig = dataclasses.field(default_factory=lambda: HttpConfig(port=DEFAULT_PORT))
    cache_dir: Path = dataclasses.field(default_factory=default_cache_dir)
    catalog_csv: Path | None = None
    ncm_table: Path | None = None  # None: the installed table, if any; "nenhuma": none
    cors_origins: str = ""  # comma-separated allowed browser origins; "*" any; "" same origin
    max_queued_tasks: int = DEFAULT_MAX_QUEUED_TASKS  # waiting tasks; a POST beyond is a 429
    redis_url: str = ""  # "": in-process tasks; else Redis-backed tasks and workers
    task_ttl_s: float = 3600.0  # a task's record in Redis, after its last change
    claim_idle_s: float = 30.0  # a worker's task idle this long is claimed by another

    def __post_init__(self) -> None:
        if self.max_queued_tasks < 1:
            raise ConfigError("PARTNUMBER_MAX_QUEUED_TASKS deve ser um inteiro positivo")
        if self.task_ttl_s < 1:
            raise ConfigError("PARTNUMBER_TASK_TTL_S deve ser ao menos 1 segundo")
        if self.claim_idle_s < 0.1:
            raise ConfigError("PARTNUMBER_CLAIM_IDLE_S deve ser ao menos 0.1 segundo")
        if self.redis_url:
            parse_redis_url(self.redis_url)  # a bad URL is a clear error at startup

    @property
    def classifier_cache_dir(self) -> Path:
        return self.cache_dir / "partnumber"

    @property
    def allowed_origins(self) -> list[str] | str | None:
        """``None``: same origin only; ``"*"``: any; else the list."""
        origins = [o.strip() for o in self.cors_origins.split(",") if o.strip()]
        if not origins:
            return None
        return "*" if origins == ["*"] else origins

    @property
    def cors(self) -> CorsConfig:
        return CorsConfig(allowed_origins=self.allowed_origins)

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, **overrides: object
    ) -> PartnumberConfig:
        """Read ``env`` (default: the process environment); ``overrides`` (CLI flags) win,
        ``None`` meaning "not given". An override may name an ``HttpConfig`` field."""
        check_known(overrides, cls, HttpConfig)
        env = environment(env)
        values = fields_from_env(cls, env, ENV_NAMES) | split_overrides(cls, overrides)
        http_overrides = split_overrides(HttpConfig, overrides)
        if not env.get("PORT") and overrides.get("port") is None:
            http_overrides["port"] = DEFAULT_PORT
        values["http"] = HttpConfig.from_env(env, **http_overrides)
        return cls(**values)


def resolve_ncm_table(config: PartnumberConfig) -> Path | None:
    """The NCM table the service loads: ``PARTNUMBER_NCM``/``--ncm`` when it names a file;
    none when it says ``nenhuma``; unset, the table ``balto partnumber ncm install`` put in
    the cache when it is there (else none, with a warning saying how to install it). The
    library's :meth:`Classifier.load` itself takes no table unless given one."""
    chosen = config.ncm_table
    if chosen is not None and str(chosen).strip().lower() == NO_NCM_TABLE:
        log.info("tabela NCM desativada (PARTNUMBER_NCM=%s): códigos de 6 dígitos", NO_NCM_TABLE)
        return None
    if chosen is not None:
        log.info("tabela NCM: %s (PARTNUMBER_NCM/--ncm)", chosen)
        return chosen
    installed = installed_table(config.cache_dir)
    if is_installed(installed):
        log.info("tabela NCM: %s (instalada; %s, licença %s)", installed, PACKAGE, LICENCE)
        return installed
    log.warning(
        "nenhuma tabela NCM instalada em %s: classificação só até 6 dígitos (SH), sem os "
        "textos em português; instale com 'balto partnumber ncm install' (ou 'make ncm'), "
        "ou defina PARTNUMBER_NCM=%s para dispensá-la",
        installed,
        NO_NCM_TABLE,
    )
    return None
