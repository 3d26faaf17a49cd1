"""The scaled topology's tests share the real redis-server of tests/redis_server.py."""

from tests.redis_server import redis_server_port, redis_url

__all__ = ["redis_server_port", "redis_url"]
