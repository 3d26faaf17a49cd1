"""A minimal in-process Socket.IO client over Engine.IO long-polling (h11), for tests that
need to step the protocol deterministically. The real clients are exercised elsewhere."""

from __future__ import annotations

import json
from typing import Any

from tests.helpers import HttpResult, http

BASE = "/socket.io/?EIO=4&transport=polling"
Event = tuple[str, list[Any]]


class PollingClient:
    def __init__(self, port: int) -> None:
        self.port = port
        self.engine_sid = ""
        self.sid = ""
        self.events: list[Event] = []
        self.acks: dict[int, list[Any]] = {}
        self._cursor = 0  # events before it were already handed out by until()

    async def connect(self) -> str:
        opened = await self._get(BASE)
        assert opened.status == 200, opened.body
        assert opened.body.startswith(b"0{")
        self.engine_sid = json.loads(opened.body[1:])["sid"]
        await self._post("0")
        while not self.sid:
            await self.poll()
        return self.sid

    async def emit(self, event: str, *args: Any, ack_id: int | None = None) -> None:
        ack = "" if ack_id is None else str(ack_id)
        await self._post("2" + ack + json.dumps([event, *args]))

    async def poll(self) -> list[Event]:
        """One long-poll GET; answers pings; returns the events it carried."""
        reply = await self._get(f"{BASE}&sid={self.engine_sid}")
        assert reply.status == 200, reply.body
        got: list[Event] = []
        for packet in reply.body.decode().split("\x1e"):
            if packet == "2":
                await self._send_raw("3")
            elif packet.startswith("40"):
                self.sid = json.loads(packet[2:])["sid"]
            elif packet.startswith("42"):
                name, *args = json.loads(packet[2:])
                got.append((name, args))
            elif packet.startswith("43"):
                digits = packet[2:].split("[", 1)[0]
                self.acks[int(digits)] = json.loads(packet[2 + len(digits) :])
            elif packet == "1":
                raise ConnectionError("server closed the session")
        self.events.extend(got)
        return got

    async def until(self, event: str) -> list[Any]:
        """The args of the next ``event`` not yet returned, polling as needed (callers bound
        this with fail_after)."""
        while True:
            while self._cursor < len(self.events):
                name, args = self.events[self._cursor]
                self._cursor += 1
                if name == event:
                    return args
            await self.poll()

    async def close(self) -> None:
        await self._send_raw("1")

    async def _post(self, message: str) -> None:
        await self._send_raw("4" + message)

    async def _send_raw(self, body: str) -> None:
        reply = await self._raw("POST", body.encode())
        assert reply.status == 200 and reply.body == b"ok", reply.body

    async def _raw(self, method: str, body: bytes) -> HttpResult:
        return await http(
            self.port,
            method,
            f"{BASE}&sid={self.engine_sid}",
            raw_body=body,
            headers=[("content-type", "text/plain;charset=UTF-8")],
        )

    async def _get(self, path: str) -> HttpResult:
        return await http(self.port, "GET", path)
