"""Run by the tests in a subprocess: the official python-socketio client through the seed's
flow. Prints one JSON object (what it saw) on stdout.

usage: python sio_client_script.py URL {polling|websocket|default} {flow|late} [POST_URL]

``flow``: connect → ``connected`` → ping/echo → POST → join → updates → finished → disconnect.
``late``: like ``flow``, but joins only after ``GET /tasks/<id>`` says the task has ended.
``POST_URL`` (default ``URL``): the instance the task is posted to (and asked about), when the
socket is connected to another one.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import urllib.request
from typing import Any

import socketio

TIMEOUT_S = float(os.environ.get("SIO_CLIENT_TIMEOUT_S", "10"))


def request(method: str, url: str, body: object = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=TIMEOUT_S) as reply:
        return reply.status, json.load(reply)


def main(url: str, transport: str, mode: str, post_url: str | None = None) -> None:
    post_url = post_url or url
    seen: dict[str, Any] = {"updates": [], "finished": [], "echo": None, "pong": None}
    connected = threading.Event()
    finished = threading.Event()
    replied = threading.Event()
    sio = socketio.Client(reconnection=False)

    @sio.on("connected")
    def on_connected(data: Any) -> None:
        seen["connected"] = data
        connected.set()

    @sio.on("pong_event")
    def on_pong(data: Any) -> None:
        seen["pong"] = data

    @sio.on("message")
    def on_message(data: Any) -> None:
        seen["echo"] = data
        replied.set()

    @sio.on("classification_update_status")
    def on_update(data: Any) -> None:
        seen["updates"].append(data)

    @sio.on("classification_finished")
    def on_finished(data: Any) -> None:
        seen["finished"].append(data)
        finished.set()

    transports = None if transport == "default" else [transport]
    sio.connect(url, transports=transports, wait_timeout=TIMEOUT_S)
    assert connected.wait(TIMEOUT_S), "no 'connected' event"
    seen["sid_matches"] = seen["connected"]["socket_session_id"] == sio.get_sid()
    sio.emit("ping_event", {"qualquer": True})
    sio.send("olá")  # the 'message' event
    assert replied.wait(TIMEOUT_S), "no echo"
    status, accepted = request(
        "POST",
        f"{post_url}/classify-partnumber",
        {"partnumber": "PN-PY-12345", "socket_session_id": sio.get_sid()},
    )
    seen["post_status"] = status
    if mode == "late":
        deadline = time.monotonic() + TIMEOUT_S
        while request("GET", f"{post_url}/tasks/{accepted['task_id']}")[1]["state"] != "done":
            assert time.monotonic() < deadline, "the task never ended"
            time.sleep(0.02)
    sio.emit("join", {"room_id": accepted["room_id"]})
    assert finished.wait(TIMEOUT_S), "no 'classification_finished' event"
    time.sleep(0.2)  # a duplicate finished event would arrive now
    seen["transport"] = sio.transport()
    sio.disconnect()
    print(json.dumps(seen))


if __name__ == "__main__":
    main(*sys.argv[1:5])
