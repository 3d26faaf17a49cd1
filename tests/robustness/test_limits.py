"""Limits that hold under concurrency: codigo guessing, registrations, connections, sessions."""

from __future__ import annotations

import contextlib
import resource
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio

from balto.core.listener import REFUSALS_IN_FLIGHT
from balto.counter.store import Database
from tests.conftest import start_server
from tests.e2e.test_http import CLIENTE, register
from tests.helpers import ScriptedTranscriber, http
from tests.partnumber.conftest import start_partnumber
from tests.partnumber.doubles import ScriptedClassifier

SOCKETIO_OPEN = "/socket.io/?EIO=4&transport=polling"


def count_code_lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every ``create_balcao`` that reached the database, by the code it tried."""
    seen: list[str] = []
    real = Database.create_balcao

    def counted(self: Database, new):  # type: ignore[no-untyped-def]
        seen.append(new.user_codigo)
        return real(self, new)

    monkeypatch.setattr(Database, "create_balcao", counted)
    return seen


async def attempt(port: int, code: str, local: str) -> int:
    body = {"nome_balcao": "L", "user_codigo": code}
    return (await http(port, "POST", "/cadastro/balcao", body, local=local)).status


async def all_at_once(port: int, tries: list[tuple[str, str]]) -> list[int]:
    statuses: list[int] = []

    async def one(code: str, local: str) -> None:
        statuses.append(await attempt(port, code, local))

    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            for code, local in tries:
                nursery.start_soon(one, code, local)
    return statuses


def wrong_codes(codigo: str, n: int) -> list[str]:
    return [f"{(int(codigo) + i) % 1_000_000:06d}" for i in range(1, n + 1)]


async def test_concurrent_wrong_codes_from_one_address_reach_the_database_burst_times(
    nursery, tmp_path, monkeypatch
):
    lookups = count_code_lookups(monkeypatch)
    running = await start_server(
        nursery, tmp_path, lambda: ScriptedTranscriber([]), codigo_failures_burst=5
    )
    codigo, _ = await register(running.port)
    lookups.clear()
    statuses = await all_at_once(running.port, [(c, "127.0.0.2") for c in wrong_codes(codigo, 300)])
    print(f"one address, 300 concurrent wrong codes: {len(lookups)} reached the database")
    assert len(lookups) <= 5
    assert statuses.count(400) == len(lookups) and statuses.count(429) == 300 - len(lookups)


async def test_a_guess_spread_over_many_addresses_hits_the_global_wall(
    nursery, tmp_path, monkeypatch
):
    lookups = count_code_lookups(monkeypatch)
    running = await start_server(
        nursery,
        tmp_path,
        lambda: ScriptedTranscriber([]),
        codigo_failures_burst=5,
        codigo_failures_global_burst=30,
        codigo_failure_global_refill_s=3600.0,  # no refill while the test runs
    )
    codigo, _ = await register(running.port)
    lookups.clear()
    # 100 loopback addresses, 3 guesses each: within every per-address budget
    tries = [(code, f"127.0.1.{1 + i // 3}") for i, code in enumerate(wrong_codes(codigo, 300))]
    statuses = await all_at_once(running.port, tries)
    print(f"100 addresses x 3 concurrent wrong codes: {len(lookups)} reached the database")
    assert len(lookups) <= 30
    assert statuses.count(429) >= 270
    metrics = (await http(running.port, "GET", "/metrics")).body.decode()
    assert 'balto_rate_limited_total{limit="codigo_global"}' in metrics


async def test_a_chain_enrolling_many_counters_at_once_is_not_refused(nursery, tmp_path):
    """Tokens are taken before the lookup, but a correct code gives them back: concurrent
    enrolments wait for each other instead of being refused."""
    running = await start_server(
        nursery, tmp_path, lambda: ScriptedTranscriber([]), codigo_failures_burst=5
    )
    codigo, _ = await register(running.port)
    statuses = await all_at_once(running.port, [(codigo, "127.0.0.3")] * 60)
    assert statuses == [201] * 60


async def test_cadastro_cliente_is_limited_per_address_in_open_mode(nursery, tmp_path):
    running = await start_server(
        nursery, tmp_path, lambda: ScriptedTranscriber([]), cadastro_cliente_burst=3
    )

    async def post(i: int, local: str, headers=()) -> int:  # type: ignore[no-untyped-def]
        body = dict(CLIENTE, email=f"c{i}-{local}@rede.com.br")
        r = await http(
            running.port, "POST", "/cadastro/cliente", body, local=local, headers=headers
        )
        return r.status

    assert [await post(i, "127.0.0.4") for i in range(4)] == [201, 201, 201, 429]
    assert await post(9, "127.0.0.5") == 201  # another client is not affected
    running.lifecycle.stop()


async def test_cadastro_cliente_with_the_admin_token_is_not_limited(nursery, tmp_path):
    running = await start_server(
        nursery,
        tmp_path,
        lambda: ScriptedTranscriber([]),
        cadastro_cliente_burst=1,
        admin_token="s3gr3d0",
    )
    auth = [("authorization", "Bearer s3gr3d0")]
    for i in range(3):
        body = dict(CLIENTE, email=f"adm{i}@rede.com.br")
        r = await http(running.port, "POST", "/cadastro/cliente", body, headers=auth)
        assert r.status == 201
    running.lifecycle.stop()


def open_descriptors(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))


@pytest.fixture
def many_descriptors() -> Iterator[int]:
    """Room in this process for thousands of client sockets (restored after)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 3000
    if hard != resource.RLIM_INFINITY and hard < wanted + 200:
        pytest.skip(f"RLIMIT_NOFILE hard limit {hard} is too low for this test")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted + 200), hard))
    yield wanted
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


async def test_idle_sockets_leave_the_descriptors_near_the_cap(tmp_path, many_descriptors):
    cap, wanted = 50, many_descriptors
    process = await trio.lowlevel.open_process(
        [
            sys.executable,
            "-m",
            "tests.robustness.fake_server",
            str(tmp_path / "r.db"),
            "--max-connections",
            str(cap),
        ],
        stdout=subprocess.PIPE,
    )
    idle: list[trio.SocketStream] = []
    try:
        line = b""
        with trio.fail_after(20):
            while not line.endswith(b"\n"):
                line += await process.stdout.receive_some(1)  # type: ignore[union-attr]
        port = int(line.split()[1])
        before = open_descriptors(process.pid)
        for i in range(wanted):
            local = f"127.0.{2 + i // 250}.{1 + i % 250}"
            idle.append(await trio.open_tcp_stream("127.0.0.1", port, local_address=local))
        # The server has dealt with them once all but the ones it holds (the cap) and the
        # ones it is still answering (the refusals) have been closed by it.
        await until_closed_by_server(idle, at_least=wanted - cap - REFUSALS_IN_FLIGHT)
        held = open_descriptors(process.pid) - before
        print(f"{wanted} idle sockets, MAX_CONNECTIONS={cap}: server holds {held} descriptors")
        assert held <= cap + REFUSALS_IN_FLIGHT, held
        with trio.fail_after(1):  # a new client is answered at once, served or refused
            reply = await http(port, "GET", "/health", local="127.0.99.1")
        assert reply.status in (200, 503)
    finally:
        for stream in idle:
            await trio.aclose_forcefully(stream)
        process.kill()
        await process.wait()


async def until_closed_by_server(streams: list[trio.SocketStream], *, at_least: int) -> None:
    closed = 0
    enough = trio.Event()

    async def read_to_end(stream: trio.SocketStream) -> None:
        nonlocal closed
        with contextlib.suppress(trio.BrokenResourceError):
            while await stream.receive_some(4096):
                pass
        closed += 1
        if closed >= at_least:
            enough.set()

    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            for stream in streams:
                nursery.start_soon(read_to_end, stream)
            await enough.wait()
            nursery.cancel_scope.cancel()


async def test_socketio_sessions_are_capped_per_address(nursery):
    pn = await start_partnumber(nursery, ScriptedClassifier())
    port = pn.port
    statuses = [
        (await http(port, "GET", SOCKETIO_OPEN, local="127.0.0.7")).status for _ in range(51)
    ]
    assert statuses == [200] * 50 + [503]
    assert (await http(port, "GET", SOCKETIO_OPEN, local="127.0.0.8")).status == 200
    metrics = (await http(port, "GET", "/metrics")).body.decode()
    assert 'balto_socketio_sessions_refused_total{cap="per_address"} 1.0' in metrics
    pn.lifecycle.stop()
