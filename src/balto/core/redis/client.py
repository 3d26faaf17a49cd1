"""The Trio shell of the Redis client: connections, a small pool, scripts and pub/sub.

* :class:`Connection`: one TCP stream and its :class:`~.protocol.RespParser`; one command at a
  time (its owner makes sure of that).
* :class:`Redis`: what the apps hold. :meth:`Redis.execute` borrows an idle connection (or
  opens one, at most ``max_connections`` at once) for one command; a connection that failed or
  was cancelled mid-command is closed, never reused (its reply could still arrive).
  :meth:`Redis.dedicated` lends one for long blocking commands (``XREADGROUP BLOCK``).
* :class:`PubSub`: a connection of its own in subscribed mode, iterated for messages.

Errors are converted where they enter: socket and protocol failures become
:class:`RedisConnectionError`, error replies :class:`RedisReplyError` (both
:class:`~balto.core.errors.ServerFault` s: 503).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import trio

from balto.core.errors import ServerFault
from balto.core.redis.protocol import (
    NEED_DATA,
    ProtocolError,
    ReplyError,
    RespParser,
    encode_command,
)
from balto.core.redis.url import RedisAddress, parse_redis_url

__all__ = [
    "Arg",
    "Connection",
    "PubSub",
    "Redis",
    "RedisConnectionError",
    "RedisError",
    "RedisReplyError",
    "Script",
    "open_redis",
]

CONNECT_TIMEOUT_S = 5.0
COMMAND_TIMEOUT_S = 10.0  # a reply later than this: the server or the network is gone
RECEIVE_BYTES = 64 * 1024
DEFAULT_MAX_CONNECTIONS = 8

Arg = bytes | str | int | float


class RedisError(ServerFault):
    status = 503


class RedisConnectionError(RedisError):
    """Redis could not be reached, or the connection broke."""


class RedisReplyError(RedisError):
    """Redis answered with an error; ``code`` is its first word (``NOSCRIPT``, ``BUSYGROUP``)."""

    def __init__(self, reply: ReplyError) -> None:
        super().__init__(f"Redis: {reply.message}")
        self.code = reply.code


def _check(reply: Any) -> Any:
    if isinstance(reply, ReplyError):
        raise RedisReplyError(reply)
    return reply


class Connection:
    def __init__(self, stream: trio.SocketStream) -> None:
        self._stream = stream
        self._parser = RespParser()

    @classmethod
    async def open(cls, address: RedisAddress, timeout_s: float = CONNECT_TIMEOUT_S) -> Connection:
        try:
            with trio.fail_after(timeout_s):
                stream = await trio.open_tcp_stream(address.host, address.port)
        except (OSError, trio.TooSlowError) as exc:
            where = f"{address.host}:{address.port}"
            raise RedisConnectionError(f"Redis inacessível em {where}: {exc}") from exc
        connection = cls(stream)
        try:
            for command in address.setup_commands():
                await connection.execute(*command)
        except BaseException:
            await connection.aclose()
            raise
        return connection

    async def send(self, *commands: Sequence[Arg]) -> None:
        data = b"".join(encode_command(*command) for command in commands)
        try:
            await self._stream.send_all(data)
        except (OSError, trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            raise RedisConnectionError(f"conexão com o Redis perdida: {exc}") from exc

    async def read_reply(self) -> Any:
        """The next reply as it came (an error reply is a :class:`ReplyError` value)."""
        while True:
            try:
                reply = self._parser.next_reply()
            except ProtocolError as exc:
                raise RedisConnectionError(f"resposta inválida do Redis: {exc}") from exc
            if reply is not NEED_DATA:
                return reply
            try:
                data = await self._stream.receive_some(RECEIVE_BYTES)
            except (OSError, trio.BrokenResourceError, trio.ClosedResourceError) as exc:
                raise RedisConnectionError(f"conexão com o Redis perdida: {exc}") from exc
            if not data:
                raise RedisConnectionError("o Redis fechou a conexão")
            self._parser.feed(data)

    async def execute(self, *args: Arg, timeout_s: float | None = COMMAND_TIMEOUT_S) -> Any:
        """Send one command and return its reply (an error reply raises)."""
        try:
            with trio.fail_after(math.inf if timeout_s is None else timeout_s):
                await self.send(args)
                return _check(await self.read_reply())
        except trio.TooSlowError:
            raise RedisConnectionError(f"o Redis não respondeu a {args[0]!r}") from None

    async def aclose(self) -> None:
        await trio.aclose_forcefully(self._stream)


class Script:
    """A Lua script, run with ``EVALSHA`` (``EVAL`` once when the server does not know it)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()

    async def __call__(self, redis: Redis, keys: Sequence[Arg], args: Sequence[Arg]) -> Any:
        try:
            return await redis.execute("EVALSHA", self.sha, len(keys), *keys, *args)
        except RedisReplyError as exc:
            if exc.code != "NOSCRIPT":
                raise
        return await redis.execute("EVAL", self.source, len(keys), *keys, *args)


class Redis:
    """A small pool of connections to one server (see module doc)."""

    def __init__(
        self, address: RedisAddress, *, max_connections: int = DEFAULT_MAX_CONNECTIONS
    ) -> None:
        self.address = address
        self._slots = trio.Semaphore(max_connections)
        self._idle: list[Connection] = []
        self._closed = False

    async def execute(self, *args: Arg, timeout_s: float | None = COMMAND_TIMEOUT_S) -> Any:
        async with self.dedicated() as connection:
            return await connection.execute(*args, timeout_s=timeout_s)

    @asynccontextmanager
    async def dedicated(self) -> AsyncIterator[Connection]:
        """A connection for the block alone; back to the pool if the block ends cleanly (an
        error reply included), closed otherwise. The block must leave the connection as it got
        it (no ``SELECT``, ``SUBSCRIBE``, ``MULTI`` left open): others get it next."""
        if self._closed:
            raise RedisConnectionError("cliente Redis fechado")
        async with self._slots:  # a semaphore: one task may hold two (a blocking read too)
            connection = self._idle.pop() if self._idle else await Connection.open(self.address)
            reusable = False
            try:
                yield connection
                reusable = True
            except RedisReplyError:
                reusable = True
                raise
            finally:
                if reusable and not self._closed:
                    self._idle.append(connection)
                else:
                    await connection.aclose()

    async def ping(self) -> bool:
        """Whether Redis answers (for ``/health``)."""
        try:
            with trio.move_on_after(2):
                return bool(await self.execute("PING") == "PONG")
        except RedisError:
            return False
        return False

    async def aclose(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.aclose()


class PubSub:
    """A subscribed connection: :meth:`subscribe`, then iterate :meth:`messages`."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    @classmethod
    @asynccontextmanager
    async def open(cls, address: RedisAddress) -> AsyncIterator[PubSub]:
        connection = await Connection.open(address)
        try:
            yield cls(connection)
        finally:
            await connection.aclose()

    async def subscribe(self, *channels: str) -> None:
        """Subscribe, and return once Redis confirmed every channel."""
        await self._connection.send(("SUBSCRIBE", *channels))
        for _ in channels:
            reply = _check(await self._connection.read_reply())
            if not (isinstance(reply, list) and reply and reply[0] == b"subscribe"):
                raise RedisConnectionError(f"resposta inesperada ao SUBSCRIBE: {reply!r:.80}")

    async def messages(self) -> AsyncIterator[tuple[bytes, bytes]]:
        """``(channel, data)`` of each published message, for as long as the connection lives."""
        while True:
            reply = _check(await self._connection.read_reply())
            if isinstance(reply, list) and len(reply) == 3 and reply[0] == b"message":
                yield reply[1], reply[2]


@asynccontextmanager
async def open_redis(
    url: str, *, max_connections: int = DEFAULT_MAX_CONNECTIONS
) -> AsyncIterator[Redis]:
    """A :class:`Redis` for ``url`` (checked with a ``PING`` first), closed at the end."""
    redis = Redis(parse_redis_url(url), max_connections=max_connections)
    try:
        await redis.execute("PING")
        yield redis
    finally:
        await redis.aclose()
