"""Hypercorn in-process (trio worker) on a loopback port, over TLS with a trustme certificate."""

from __future__ import annotations

import dataclasses
import ssl
from pathlib import Path
from typing import Any

import pytest
import trio

from balto.core.asgi.lifespan import LifespanApp
from balto.core.config import HttpConfig
from balto.tls import hypercorn_config, serve

STOP_TIMEOUT_S = 10


@dataclasses.dataclass(frozen=True)
class Tls:
    ca: Any  # trustme.CA
    certfile: Path
    keyfile: Path
    ca_file: Path

    def client_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context


def issue_tls(folder: Path, *names: str) -> Tls:
    """A fresh trustme CA and a certificate for ``names`` (default ``127.0.0.1`` and
    ``localhost``), written as PEM files under ``folder``; skips without trustme."""
    trustme = pytest.importorskip("trustme", reason="trustme (extra de teste) não instalado")
    ca = trustme.CA()
    cert = ca.issue_cert(*(names or ("127.0.0.1", "localhost")))
    files = Tls(ca, folder / "cert.pem", folder / "key.pem", folder / "ca.pem")
    cert.cert_chain_pems[0].write_to_path(str(files.certfile))
    for extra in cert.cert_chain_pems[1:]:
        extra.write_to_path(str(files.certfile), append=True)
    cert.private_key_pem.write_to_path(str(files.keyfile))
    ca.cert_pem.write_to_path(str(files.ca_file))
    return files


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return issue_tls(tmp_path_factory.mktemp("tls"))


@dataclasses.dataclass
class AsgiServer:
    app: LifespanApp
    port: int
    tls: Tls
    stop_event: trio.Event
    stopped: trio.Event

    @property
    def https(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def wss(self) -> str:
        return f"wss://127.0.0.1:{self.port}"

    async def open_tls_stream(self) -> trio.SSLStream[trio.SocketStream]:
        tcp = await trio.open_tcp_stream("127.0.0.1", self.port)
        stream = trio.SSLStream(tcp, self.tls.client_context(), server_hostname="127.0.0.1")
        await stream.do_handshake()
        return stream

    async def stop(self) -> None:
        """The graceful stop of ``python -m balto.tls``: drain the app, then hypercorn."""
        self.stop_event.set()
        with trio.fail_after(STOP_TIMEOUT_S):
            await self.stopped.wait()


async def start_asgi(
    nursery: trio.Nursery, app: LifespanApp, config: HttpConfig, tls: Tls
) -> AsgiServer:
    hyper = hypercorn_config(
        config, binds=["127.0.0.1:0"], certfile=tls.certfile, keyfile=tls.keyfile
    )
    # Closed WebSockets keep their TCP task until its next ping tick (hypercorn), so a stop
    # waits out the graceful timeout: keep it short here.
    hyper.graceful_timeout = 0.2
    stop_event = trio.Event()
    stopped = trio.Event()

    async def run(task_status: trio.TaskStatus[list[str]]) -> None:
        try:
            await serve(
                app,
                hyper,
                shutdown=stop_event.wait,
                grace_s=config.shutdown_grace_s,
                task_status=task_status,
            )
        finally:
            stopped.set()

    with trio.fail_after(STOP_TIMEOUT_S):
        binds: list[str] = await nursery.start(run)
    port = int(binds[0].rsplit(":", 1)[1])
    return AsgiServer(app, port, tls, stop_event, stopped)
