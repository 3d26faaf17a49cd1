"""The Trio Redis client against a real redis-server."""

from __future__ import annotations

import pytest
import trio

from balto.core.redis.client import (
    PubSub,
    Redis,
    RedisConnectionError,
    RedisReplyError,
    Script,
    open_redis,
)
from balto.core.redis.url import parse_redis_url
from tests.redis_server import _free_port, running_redis_server


async def test_commands_and_replies(redis_url: str):
    async with open_redis(redis_url) as redis:
        assert await redis.execute("SET", "k", "valor", "EX", 60) == "OK"
        assert await redis.execute("GET", "k") == b"valor"
        assert await redis.execute("GET", "nada") is None
        assert await redis.execute("INCRBY", "n", 5) == 5
        assert await redis.execute("HSET", "h", "a", b"\r\n\x00") == 1
        assert await redis.execute("HGETALL", "h") == [b"a", b"\r\n\x00"]
        with pytest.raises(RedisReplyError) as caught:
            await redis.execute("INCR", "k")
        assert caught.value.code == "ERR" and caught.value.status == 503
        assert await redis.execute("GET", "k") == b"valor"  # the connection is still fine
        assert await redis.ping()


async def test_concurrent_commands_share_a_bounded_pool(redis_url: str):
    async with open_redis(redis_url, max_connections=2) as redis:
        async with trio.open_nursery() as nursery:
            for i in range(20):
                nursery.start_soon(redis.execute, "RPUSH", "lista", i)
        assert await redis.execute("LLEN", "lista") == 20
        assert len(redis._idle) <= 2


async def test_a_cancelled_command_drops_its_connection(redis_url: str):
    async with open_redis(redis_url, max_connections=1) as redis:
        with trio.move_on_after(0.2):
            await redis.execute("BLPOP", "vazia", 5, timeout_s=None)
        assert redis._idle == []  # its reply could still come: never reused
        assert await redis.execute("PING") == "PONG"


async def test_a_script_loads_itself_once(redis_url: str):
    script = Script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
    async with open_redis(redis_url) as redis:
        await redis.execute("SCRIPT", "FLUSH")
        assert await script(redis, ["c"], [2]) == 2
        assert await script(redis, ["c"], [3]) == 5


async def test_pubsub_receives_what_is_published(redis_url: str):
    async with open_redis(redis_url) as redis, PubSub.open(parse_redis_url(redis_url)) as sub:
        await sub.subscribe("canal", "outro")
        assert await redis.execute("PUBLISH", "canal", "olá") == 1
        await redis.execute("PUBLISH", "outro", b"\x00")
        received = []
        async for message in sub.messages():
            received.append(message)
            if len(received) == 2:
                break
        assert received == [(b"canal", "olá".encode()), (b"outro", b"\x00")]


async def test_an_unreachable_server_is_a_typed_error():
    with pytest.raises(RedisConnectionError):
        async with open_redis(f"redis://127.0.0.1:{_free_port()}"):
            pass


async def test_a_closed_client_refuses():
    redis = Redis(parse_redis_url("redis://127.0.0.1:1"))
    await redis.aclose()
    with pytest.raises(RedisConnectionError):
        await redis.execute("PING")


def test_urls():
    address = parse_redis_url("redis://usuario:s%40nha@cache.local:6380/2")
    assert (address.host, address.port, address.db) == ("cache.local", 6380, 2)
    assert address.setup_commands() == [("AUTH", "usuario", "s@nha"), ("SELECT", "2")]
    assert parse_redis_url("redis://localhost").setup_commands() == []
    from balto.core.config import ConfigError

    for bad in ("http://x", "redis://", "redis://h/abc", "rediss://h"):
        with pytest.raises(ConfigError):
            parse_redis_url(bad)


async def test_a_password_and_a_database_from_the_url():
    with running_redis_server(None, "--requirepass", "s3nh@") as port:
        with pytest.raises(RedisReplyError) as refused:
            async with open_redis(f"redis://127.0.0.1:{port}"):
                pass
        assert refused.value.code == "NOAUTH"
        async with open_redis(f"redis://:s3nh%40@127.0.0.1:{port}/3") as redis:
            await redis.execute("SET", "k", "no banco 3")
            assert b"db=3" in await redis.execute("CLIENT", "INFO")
        async with open_redis(f"redis://:s3nh%40@127.0.0.1:{port}/0") as other:
            assert await other.execute("GET", "k") is None
