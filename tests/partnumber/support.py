"""Helpers shared by the partnumber service tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import trio

from tests.helpers import http
from tests.partnumber.conftest import PartnumberServer

JS_DIR = Path(__file__).parent / "js"
PN = {"partnumber": "PN-TEST-12345", "description": "Notebook 14 polegadas"}


async def post_task(server: PartnumberServer, body: object = PN) -> dict[str, str]:
    reply = await http(server.port, "POST", "/classify-partnumber", body)
    assert reply.status == 202, reply.body
    payload: dict[str, str] = reply.json()
    return payload


async def wait_state(server: PartnumberServer, task_id: str, state: str) -> dict[str, object]:
    """Poll ``GET /tasks/<id>`` until the task reaches ``state`` (at most 5 s)."""
    with trio.fail_after(5):
        while True:
            reply = await http(server.port, "GET", f"/tasks/{task_id}")
            assert reply.status == 200
            snapshot: dict[str, object] = reply.json()
            if snapshot["state"] == state:
                return snapshot
            await trio.sleep(0.01)


def npm_ready() -> str | None:
    """Install the JS client if needed; the reason to skip when node/npm are missing."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node/npm ausentes: o teste do cliente socket.io-client v4 precisa deles"
    if not (JS_DIR / "node_modules" / "socket.io-client").is_dir():
        command = "ci" if (JS_DIR / "package-lock.json").exists() else "install"
        subprocess.run(
            ["npm", command, "--no-audit", "--no-fund"], cwd=JS_DIR, check=True, timeout=300
        )
    return None
