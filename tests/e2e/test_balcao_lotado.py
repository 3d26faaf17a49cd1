"""``/balcao`` against a full server: ``MAX_CONNECTIONS=1``, one counter connected, the page
opened with a second counter's key. The server accepts the page's socket and closes it with
1013; the page says "Servidor lotado ou indisponível", counts the seconds to the next try down,
and connects by itself once the first counter leaves.

With one connection allowed, the browser's own HTTP connections for the page's files would be
refused too (it opens several at once), so the page loads from the same server first run with
the default caps, which then stops; it comes back on the same port and database with
``MAX_CONNECTIONS=1`` before the key is entered. Everything the browser gets is Balto's.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import trio
from bench.speech import silence
from trio_websocket import ConnectionClosed, WebSocketConnection, connect_websocket_url

from tests.conftest import RunningServer, start_server
from tests.e2e.cdp import Page, chromium_path, fake_microphone, open_page
from tests.e2e.test_admin_api import new_chain, new_counter
from tests.e2e.test_balcao_browser import microphone_on, phase_is, write_wav
from tests.e2e.test_panel_browser import artefacts_dir, text_of
from tests.helpers import ScriptedTranscriber, next_json

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        chromium_path() is None, reason="chromium missing: apt-get install chromium"
    ),
]
FULL = "Servidor lotado ou indisponível"
COUNTDOWN_RE = re.compile(rf"^{FULL}.* Tentando de novo em (\d+) s…$")
# Injected before the page's scripts: every text the connection line shows, in order.
WATCH = """
window.__faixa = [];
document.addEventListener("DOMContentLoaded", () => {
  const line = document.getElementById("conexao");
  new MutationObserver(() => window.__faixa.push(line.textContent))
    .observe(line, {childList: true, characterData: true, subtree: true});
});
"""


async def take_the_slot(
    nursery: trio.Nursery, server: RunningServer, key: str
) -> WebSocketConnection:
    """The first counter, connected; tried again while another connection still holds the one
    slot (a close with 1013): a socket Chromium opened ahead, until the server drops it as idle
    after ``KEEPALIVE_TIMEOUT_S``."""
    with trio.fail_after(10):
        while True:
            ws = await connect_websocket_url(nursery, server.ws_url)
            try:
                await ws.send_message(json.dumps({"comando": "auth", "api_key": key}))
                reply = await next_json(ws)
            except ConnectionClosed as closed:
                assert closed.reason is not None and closed.reason.code == 1013, closed
                await trio.sleep(0.05)
                continue
            assert reply["comando"] == "auth_ok", reply
            return ws


def countdowns(texts: list[str]) -> list[list[int]]:
    """The seconds shown during each wait (a wait ends at any other text)."""
    runs: list[list[int]] = []
    previous: str | None = None
    for text in texts:
        if text == previous:
            continue
        previous = text
        found = COUNTDOWN_RE.match(text)
        if found is None:
            runs.append([])
        elif runs:
            runs[-1].append(int(found.group(1)))
        else:
            runs.append([int(found.group(1))])
    return [run for run in runs if run]


async def full_and_counting(page: Page) -> list[int]:
    """Wait for a wait long enough to count three seconds down, one by one."""
    with trio.fail_after(30):
        while True:
            for run in countdowns(await page.evaluate("window.__faixa")):
                if len(run) >= 3:
                    return run
            await trio.sleep(0.2)


async def test_a_full_server_is_told_counted_down_and_left_when_a_counter_leaves(
    tmp_path: Path,
) -> None:
    scripted = ScriptedTranscriber([])
    wav = write_wav(tmp_path / "silencio.wav", silence(2.0))
    async with open_page(tmp_path / "perfil", flags=fake_microphone(wav)) as page:
        async with trio.open_nursery() as first_run:  # default caps: the page and its files
            running = await start_server(first_run, tmp_path, lambda: scripted, scripted)
            port = running.port
            chain = await new_chain(port, "lotado@redepharma.com")
            first = await new_counter(port, chain, "Loja 01")
            second = await new_counter(port, chain, "Loja 02")
            await page.send("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH})
            await page.goto(f"http://127.0.0.1:{port}/balcao")
            await page.wait_for(phase_is("sem_chave"))
            await microphone_on(page)  # its worklet, captura.js, loads from this server too
            running.lifecycle.stop()
        async with trio.open_nursery() as second_run:
            full = await start_server(
                second_run,
                tmp_path,
                lambda: scripted,
                scripted,
                port=port,
                max_connections=1,
                keepalive_timeout_s=1.0,
            )
            ws = await take_the_slot(second_run, full, first)
            await page.type_into("#chave", second)
            await page.press_enter()
            await page.wait_for(phase_is("esperando"))
            assert FULL in await page.evaluate(text_of("#conexao"))
            run = await full_and_counting(page)
            assert run == list(range(run[0], run[0] - len(run), -1)), run
            shot = await page.screenshot(artefacts_dir() / "balcao-7-lotado.png")
            await ws.aclose()  # the first counter leaves: its slot frees
            await page.wait_for(phase_is("conectado"), 15)
            connected = "Conectado — Loja 02"
            assert await page.evaluate(text_of("#conexao")) == connected
            await trio.sleep(2.5)  # a countdown left running would overwrite the line
            texts: list[str] = await page.evaluate("window.__faixa")
            assert texts[texts.index(connected) :] == [connected]
            assert await page.csp_violations() == []
            assert page.problems == []
            full.lifecycle.stop()
    print(f"screenshot: {shot}")
