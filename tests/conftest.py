"""Shared fixtures: a real Balto server on a loopback port, with a real SQLite file; the
converted Whisper base model and a transcriber on it (fetched and converted once, cached)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import AsyncIterator, Callable, Iterator
from functools import partial
from pathlib import Path

import pytest
import trio

from balto.core.config import default_cache_dir
from balto.core.lifecycle import Lifecycle
from balto.core.listener import bound_port
from balto.counter.app import run_balto
from balto.counter.asr.base import Transcriber
from balto.counter.asr.model_cache import ensure_model
from balto.counter.asr.whisper import WhisperTranscriber
from balto.counter.config import CounterConfig
from balto.counter.store import Database, open_database
from tests.helpers import ScriptedTranscriber
from tests.postgres import Cluster, binaries


def _cache_dir() -> Path:
    configured = os.environ.get("BALTO_CACHE_DIR")
    return Path(configured).expanduser() if configured else default_cache_dir()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster]:
    """One real PostgreSQL cluster for the session (``Cluster.new_database`` per test)."""
    bin_dir = binaries()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed (/usr/lib/postgresql/*/bin): make system-deps")
    cluster = Cluster(bin_dir)
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_target(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """Where a fresh database lives, once per backend: a SQLite path, or a PostgreSQL URL (an
    empty database of the session's cluster)."""
    if request.param == "sqlite":
        return tmp_path / "registro.db"
    cluster: Cluster = request.getfixturevalue("postgres")
    return cluster.new_database()


@pytest.fixture(scope="session")
def base_model() -> Path:
    """The model the server runs by default (its weights from ``CounterConfig``)."""
    weights = CounterConfig().model_weights
    return ensure_model("base", _cache_dir(), weights=weights, progress=False)


@pytest.fixture(scope="session")
def transcriber(base_model: Path) -> Iterator[WhisperTranscriber]:
    with WhisperTranscriber(base_model, n_threads=2) as instance:
        yield instance


@dataclasses.dataclass
class RunningServer:
    port: int
    config: CounterConfig
    lifecycle: Lifecycle
    transcriber: ScriptedTranscriber | None

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def database(self) -> Database:
        return open_database(self.config)


async def start_server(
    nursery: trio.Nursery,
    tmp_path: Path,
    factory: Callable[[], Transcriber],
    transcriber: ScriptedTranscriber | None = None,
    *,
    port: int = 0,
    **overrides: object,
) -> RunningServer:
    """``port``: 0 for any free one; the port of a server that ended, to restart it."""
    config = CounterConfig(db_file=tmp_path / "dados" / "registro.db").replace(
        host="127.0.0.1", port=port, **overrides
    )
    lifecycle = Lifecycle()
    listeners = await nursery.start(
        partial(run_balto, config, transcriber_factory=factory, lifecycle=lifecycle)
    )
    return RunningServer(bound_port(listeners), config, lifecycle, transcriber)


@pytest.fixture
def scripted() -> ScriptedTranscriber:
    return ScriptedTranscriber([])


@pytest.fixture
async def server(
    nursery: trio.Nursery, tmp_path: Path, scripted: ScriptedTranscriber
) -> AsyncIterator[RunningServer]:
    running = await start_server(nursery, tmp_path, lambda: scripted, scripted)
    yield running
    running.lifecycle.stop()
