"""A small Chrome DevTools Protocol client over trio-websocket, to drive Debian's headless
``chromium`` in tests: launch it, open one page, run JavaScript, type, press keys, take
screenshots, and collect console errors, exceptions and Content-Security-Policy violations."""

from __future__ import annotations

import base64
import itertools
import json
import re
import shutil
import subprocess
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import trio
from trio_websocket import ConnectionClosed, WebSocketConnection, open_websocket_url

DEVTOOLS_RE = re.compile(rb"DevTools listening on (ws://\S+)")
START_WAIT_S = 60
CALL_WAIT_S = 30
# Injected before the page's own scripts (CDP's scripts are not bound by the page's CSP).
CSP_WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


class CdpError(Exception):
    pass


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Connection:
    """The browser's DevTools socket: answers matched to calls by id, events collected."""

    def __init__(self, ws: WebSocketConnection) -> None:
        self.ws = ws
        self._ids = itertools.count(1)
        self._waiting: dict[int, trio.MemorySendChannel[dict[str, Any]]] = {}
        self.problems: list[str] = []  # console errors, exceptions, error log entries

    async def read_forever(self) -> None:
        while True:
            try:
                message = json.loads(await self.ws.get_message())
            except ConnectionClosed:
                return
            if "id" in message:
                waiter = self._waiting.pop(message["id"], None)
                if waiter is not None:
                    waiter.send_nowait(message)
            else:
                self._event(message.get("method", ""), message.get("params", {}))

    def _event(self, method: str, params: dict[str, Any]) -> None:
        if method == "Runtime.consoleAPICalled" and params["type"] in {"error", "assert"}:
            texts = [str(a.get("value", a.get("description", ""))) for a in params["args"]]
            self.problems.append("console: " + " ".join(texts))
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            description = details.get("exception", {}).get("description", details["text"])
            self.problems.append(f"exception: {description}")
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            entry = params["entry"]
            self.problems.append(f"log ({entry['source']}): {entry['text']} {entry.get('url', '')}")

    async def send(
        self, method: str, params: dict[str, Any] | None = None, session_id: str | None = None
    ) -> dict[str, Any]:
        call_id = next(self._ids)
        message: dict[str, Any] = {"id": call_id, "method": method, "params": params or {}}
        if session_id:
            message["sessionId"] = session_id
        send, receive = trio.open_memory_channel[dict[str, Any]](1)
        self._waiting[call_id] = send
        await self.ws.send_message(json.dumps(message))
        with trio.fail_after(CALL_WAIT_S):
            answer = await receive.receive()
        if "error" in answer:
            raise CdpError(f"{method}: {answer['error']}")
        result: dict[str, Any] = answer["result"]
        return result


class Page:
    """One tab, attached to the browser's socket with a flat session."""

    def __init__(self, connection: Connection, session_id: str) -> None:
        self.connection = connection
        self.session_id = session_id

    @property
    def problems(self) -> list[str]:
        return self.connection.problems

    async def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self.connection.send(method, params, self.session_id)

    async def evaluate(self, expression: str) -> Any:
        """The value of ``expression`` (awaited if it is a promise); page errors raise."""
        result = await self.send(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
        )
        if "exceptionDetails" in result:
            raise CdpError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, wait_s: float = 20) -> Any:
        """Poll ``expression`` until it is truthy; its value."""
        with trio.fail_after(wait_s):
            while True:  # the page, not a Trio task, changes it: poll
                value = await self.evaluate(expression)
                if value:
                    return value
                await trio.sleep(0.1)

    async def goto(self, url: str) -> None:
        await self.send("Page.navigate", {"url": url})
        await self.wait_for("document.readyState === 'complete'")

    async def type_into(self, selector: str, text: str) -> None:
        """Focus the field, select what is there, and type ``text`` as keyboard input."""
        await self.evaluate(
            f"(e => {{ e.focus(); e.select(); }})(document.querySelector({json.dumps(selector)}))"
        )
        await self.send("Input.insertText", {"text": text})

    async def press_enter(self) -> None:
        for kind in ("keyDown", "keyUp"):
            params = {"type": kind, "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13}
            if kind == "keyDown":
                params["text"] = "\r"
            await self.send("Input.dispatchKeyEvent", params)

    async def click(self, selector: str) -> None:
        """A real mouse click in the middle of the element (scrolled into view)."""
        box = await self.evaluate(
            f"""(() => {{
              const e = document.querySelector({json.dumps(selector)});
              if (!e) return null;
              e.scrollIntoView({{block: "center"}});
              const r = e.getBoundingClientRect();
              return [r.left + r.width / 2, r.top + r.height / 2];
            }})()"""
        )
        if box is None:
            raise CdpError(f"nothing matches {selector}")
        x, y = box
        for kind in ("mousePressed", "mouseReleased"):
            await self.send(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1},
            )

    async def screenshot(self, path: Path, selector: str | None = None) -> Path:
        """The whole page (beyond the viewport) as PNG, or only the element ``selector``."""
        if selector is None:
            metrics = await self.send("Page.getLayoutMetrics")
            size = metrics["cssContentSize"]
            clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        else:
            box = await self.evaluate(
                f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
                ".getBoundingClientRect(); return {x: r.x + window.scrollX, "
                "y: r.y + window.scrollY, width: r.width, height: r.height}; })()"
            )
            clip = {**box, "scale": 1}
        shot = await self.send(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": True, "clip": clip},
        )
        data = base64.b64decode(shot["data"])
        await trio.Path(path.parent).mkdir(parents=True, exist_ok=True)
        await trio.Path(path).write_bytes(data)
        return path

    async def csp_violations(self) -> list[str] | None:
        """The violations seen (None if the watch was not installed: a broken check)."""
        return await self.evaluate("window.__cspViolations")


def fake_microphone(wav: Path) -> tuple[str, ...]:
    """Switches that grant the microphone without asking and make it play ``wav`` (16-bit PCM,
    any rate) in a loop from the moment the page opens the device."""
    return (
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={wav}",
    )


async def _devtools_url(stderr: trio.abc.ReceiveStream) -> str:
    seen = b""
    with trio.fail_after(START_WAIT_S):
        while not (found := DEVTOOLS_RE.search(seen)):
            chunk = await stderr.receive_some(4096)
            if not chunk:
                raise CdpError(f"chromium exited: {seen.decode(errors='replace')}")
            seen += chunk
    return found.group(1).decode()


async def _drain(stream: trio.abc.ReceiveStream) -> None:
    while await stream.receive_some(65536):
        pass


@asynccontextmanager
async def open_page(
    profile: Path, width: int = 1280, height: int = 900, flags: Sequence[str] = ()
) -> AsyncIterator[Page]:
    """A fresh headless chromium (its own profile folder) with one blank page, watched for
    console errors, exceptions and CSP violations; the browser ends with the context.
    ``flags``: more command-line switches (a fake microphone: :func:`fake_microphone`)."""
    binary = chromium_path()
    assert binary is not None
    command = [
        binary,
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--lang=pt-BR",
        "--remote-debugging-port=0",
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
        *flags,
        "about:blank",
    ]
    process = await trio.lowlevel.open_process(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        assert process.stderr is not None
        url = await _devtools_url(process.stderr)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_drain, process.stderr)
            async with open_websocket_url(url, max_message_size=64 * 1024 * 1024) as ws:
                connection = Connection(ws)
                nursery.start_soon(connection.read_forever)
                target = await connection.send("Target.createTarget", {"url": "about:blank"})
                attached = await connection.send(
                    "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
                )
                page = Page(connection, attached["sessionId"])
                for domain in ("Page", "Runtime", "Log"):
                    await page.send(f"{domain}.enable")
                await page.send("Page.addScriptToEvaluateOnNewDocument", {"source": CSP_WATCH})
                await page.send("Emulation.setLocaleOverride", {"locale": "pt-BR"})
                await page.send(
                    "Emulation.setDeviceMetricsOverride",
                    {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
                )
                yield page
                nursery.cancel_scope.cancel()
    finally:
        process.terminate()
        with trio.move_on_after(10):
            await process.wait()
        if process.returncode is None:
            process.kill()
