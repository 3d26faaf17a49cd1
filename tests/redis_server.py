"""A real ``redis-server`` (Debian's package) for the tests: loopback, a free port, a temporary
directory, no persistence; stopped at the end of the session.

Import :func:`redis_url` into a ``conftest.py`` to use it as a fixture; each test gets an empty
database (``FLUSHALL`` before it).
"""

from __future__ import annotations

import os
import select
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

READY_LINE = b"Ready to accept connections"
START_TIMEOUT_S = 20


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _command(port: int, *args: str) -> bytes:
    """One command over a fresh socket (the tests' own tiny client, independent of ours)."""
    payload = b"*%d\r\n" % len(args) + b"".join(
        b"$%d\r\n%s\r\n" % (len(a.encode()), a.encode()) for a in args
    )
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(payload)
        return conn.recv(4096)


@contextmanager
def running_redis_server(port: int | None = None, *extra: str) -> Iterator[int]:
    """A redis-server on ``port`` (default: a free one) for the block, with ``extra`` options
    (``--requirepass``, ...); its port."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server ausente (apt-get install redis-server; make system-deps)")
    with tempfile.TemporaryDirectory(prefix="balto-redis-") as workdir:
        port = port or _free_port()
        process = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                workdir,
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
                *extra,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            assert process.stdout is not None
            seen = b""
            deadline = time.monotonic() + START_TIMEOUT_S
            while READY_LINE not in seen:  # its log says when it listens
                remaining = deadline - time.monotonic()
                readable, _, _ = select.select([process.stdout], [], [], max(0.0, remaining))
                chunk = os.read(process.stdout.fileno(), 4096) if readable else b""
                if not chunk:
                    raise RuntimeError(f"redis-server did not start: {seen[-2000:]!r}")
                seen += chunk
            yield port
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()


@pytest.fixture(scope="session")
def redis_server_port() -> Iterator[int]:
    with running_redis_server() as port:
        yield port


@pytest.fixture
def redis_url(redis_server_port: int) -> str:
    assert _command(redis_server_port, "FLUSHALL") == b"+OK\r\n"
    return f"redis://127.0.0.1:{redis_server_port}/0"
