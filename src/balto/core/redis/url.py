"""``REDIS_URL`` → where and how to connect (sans-IO)."""

from __future__ import annotations

import dataclasses
from urllib.parse import unquote, urlsplit

from balto.core.config import ConfigError

__all__ = ["DEFAULT_REDIS_PORT", "RedisAddress", "parse_redis_url"]

DEFAULT_REDIS_PORT = 6379


@dataclasses.dataclass(frozen=True, slots=True)
class RedisAddress:
    host: str
    port: int = DEFAULT_REDIS_PORT
    db: int = 0
    username: str | None = None
    password: str | None = dataclasses.field(default=None, repr=False)

    def setup_commands(self) -> list[tuple[str, ...]]:
        """What a new connection sends first: ``AUTH`` and ``SELECT`` when needed."""
        commands: list[tuple[str, ...]] = []
        if self.password is not None:
            user = (self.username,) if self.username else ()
            commands.append(("AUTH", *user, self.password))
        if self.db:
            commands.append(("SELECT", str(self.db)))
        return commands


def parse_redis_url(url: str) -> RedisAddress:
    """``redis://[[user]:password@]host[:port][/db]``; anything else is a :class:`ConfigError`."""
    parts = urlsplit(url.strip())
    if parts.scheme != "redis":
        raise ConfigError(f"REDIS_URL deve começar com redis:// (recebido {parts.scheme!r})")
    try:
        port = parts.port or DEFAULT_REDIS_PORT
    except ValueError:
        raise ConfigError("REDIS_URL: porta inválida") from None
    if not parts.hostname:
        raise ConfigError("REDIS_URL: falta o host")
    path = parts.path.strip("/")
    if path and not path.isdigit():
        raise ConfigError("REDIS_URL: o caminho deve ser o número do banco (redis://host/0)")
    return RedisAddress(
        host=parts.hostname,
        port=port,
        db=int(path or 0),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )
