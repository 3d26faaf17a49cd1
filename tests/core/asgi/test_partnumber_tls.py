"""The Partnumber service under hypercorn over TLS: REST over HTTPS and the official
python-socketio client (polling, WebSocket, default upgrade) over ``https://``/``wss://``."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import h11
import pytest
import trio

from balto.core.config import HttpConfig
from balto.partnumber.asgi import create_app
from balto.partnumber.config import PartnumberConfig
from balto.partnumber.tasks import TaskRegistry
from tests.core.asgi.conftest import AsgiServer, Tls, start_asgi
from tests.helpers import HttpResult, request_on
from tests.partnumber.doubles import ScriptedClassifier
from tests.partnumber.test_clients import check_flow

CLIENT_SCRIPT = Path(__file__).parents[2] / "partnumber" / "sio_client_script.py"
WAIT_S = 10
PN = {"partnumber": "PN-TLS-12345", "description": "Notebook 14 polegadas"}


@pytest.fixture
async def pn_tls(nursery: trio.Nursery, tls: Tls) -> AsyncIterator[AsgiServer]:
    config = PartnumberConfig(http=HttpConfig(host="127.0.0.1", port=0, shutdown_grace_s=1.0))
    classifier = ScriptedClassifier()
    app = create_app(config, classifier_factory=lambda: classifier, registry=TaskRegistry())
    server = await start_asgi(nursery, app, config.http, tls)
    yield server
    if not server.stopped.is_set():
        await server.stop()


async def https(server: AsgiServer, method: str, path: str, body: object = None) -> HttpResult:
    with trio.fail_after(WAIT_S):
        stream = await server.open_tls_stream()
        async with stream:
            return await request_on(stream, h11.Connection(h11.CLIENT), method, path, body)


async def test_classification_over_https(pn_tls: AsgiServer) -> None:
    accepted = await https(pn_tls, "POST", "/classify-partnumber", PN)
    assert accepted.status == 202, accepted.body
    task_id = accepted.json()["task_id"]
    with trio.fail_after(WAIT_S):
        while True:
            snapshot = (await https(pn_tls, "GET", f"/tasks/{task_id}")).json()
            if snapshot["state"] == "done":
                break
            await trio.sleep(0.02)
    assert snapshot["result"]["classification"]["code"] == "8471.30"
    missing = await https(pn_tls, "GET", "/tasks/nao-existe")
    assert missing.status == 404 and "Tarefa" in missing.json()["error"]


async def run_python_client(server: AsgiServer, transport: str) -> dict[str, Any]:
    pytest.importorskip("socketio", reason="python-socketio (cliente oficial) não instalado")
    pytest.importorskip("websocket", reason="websocket-client não instalado")
    ca = str(server.tls.ca_file)
    env = {
        **os.environ,
        "SSL_CERT_FILE": ca,  # urllib (the script's REST calls)
        "REQUESTS_CA_BUNDLE": ca,  # requests (Engine.IO polling)
        "WEBSOCKET_CLIENT_CA_BUNDLE": ca,  # websocket-client (Engine.IO WebSocket)
    }
    with trio.fail_after(30):
        done = await trio.run_process(
            [sys.executable, str(CLIENT_SCRIPT), server.https, transport, "flow"],
            env=env,
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    seen: dict[str, Any] = json.loads(done.stdout)
    return seen


@pytest.mark.parametrize("transport", ["polling", "websocket", "default"])
async def test_python_socketio_client_over_tls(pn_tls: AsgiServer, transport: str) -> None:
    check_flow(await run_python_client(pn_tls, transport), transport)
