"""Unmodified official clients against a real server: python-socketio (polling only, WebSocket
only, default upgrade; in a subprocess) and socket.io-client v4 running the document's flow."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import trio

from tests.partnumber.conftest import PartnumberServer
from tests.partnumber.support import JS_DIR, npm_ready

HERE = Path(__file__).parent


async def run_python_client(
    server: PartnumberServer, transport: str, mode: str, post_to: PartnumberServer | None = None
) -> dict:
    # The official client, and websocket-client for its WebSocket transport (test extras).
    pytest.importorskip("socketio", reason="python-socketio (cliente oficial) não instalado")
    pytest.importorskip("websocket", reason="websocket-client não instalado")
    with trio.fail_after(20):
        done = await trio.run_process(
            [
                sys.executable,
                str(HERE / "sio_client_script.py"),
                server.url,
                transport,
                mode,
                *([post_to.url] if post_to is not None else []),
            ],
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    seen: dict = json.loads(done.stdout)
    return seen


def check_flow(seen: dict, transport: str, *, late: bool = False) -> None:
    assert seen["sid_matches"] and seen["post_status"] == 202
    assert seen["pong"] == {"message": "pong"}
    assert seen["echo"] == "olá"
    assert seen["transport"] == ("polling" if transport == "polling" else "websocket")
    (finished,) = seen["finished"]  # exactly once
    assert finished["status"] == "done" and finished["partnumber"] == "PN-PY-12345"
    assert finished["classification"]["code"] == "8471.30"
    currents = [int(u["current"]) for u in seen["updates"]]
    if late:  # joined after the end: the final state only, no stale "processing"
        assert currents == []
        return
    # The scripted classifier is instant: a client that joins after it ended gets the final
    # state only (as the late-join test checks); otherwise the steps it saw, in order, ending
    # with the last one.
    if currents:
        assert currents == sorted(set(currents)) and currents[-1] == 3  # in order, no duplicates
    assert all(u["status"] == "processing" and u["total"] == "3" for u in seen["updates"])


@pytest.mark.parametrize("transport", ["polling", "websocket", "default"])
async def test_python_socketio_client_flow(pn_server: PartnumberServer, transport: str) -> None:
    check_flow(await run_python_client(pn_server, transport, "flow"), transport)


async def test_python_socketio_client_late_join(pn_server: PartnumberServer) -> None:
    seen = await run_python_client(pn_server, "default", "late")
    check_flow(seen, "default", late=True)


async def test_seed_typescript_flow_with_socket_io_client_v4(pn_server: PartnumberServer) -> None:
    reason = await trio.to_thread.run_sync(npm_ready)
    if reason is not None:
        pytest.skip(reason)
    with trio.fail_after(20):
        done = await trio.run_process(
            ["node", str(JS_DIR / "seed_client.mjs")],
            env={**os.environ, "BALTO_URL": pn_server.url},
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
    out = done.stdout.decode()
    assert done.returncode == 0, out + done.stderr.decode()
    assert "Conectado ao WebSocket com ID:" in out
    assert "Tarefa iniciada. Inscrevendo-se na sala:" in out
    assert out.count("FINISHED:") == 1 and "status: 'done'" in out, out
    assert "Erro" not in done.stderr.decode()
