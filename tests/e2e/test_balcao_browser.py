"""The counter page ``/balcao`` in a real headless Chromium (Debian's ``chromium``) whose fake
microphone plays a WAV in a loop, driven over the DevTools Protocol against a real server.

- A link with a wrong key shows the refusal (close 1008); a pasted key connects; a referral to
  the pharmacist looks different from a sale (scripted transcriber); a microphone the site may
  not use is explained.
- A complaint in a natural voice (Kokoro), heard by the real whisper.cpp: the card appears,
  "Vendeu" stores ``venda_realizada``; the server stops and starts again on the same port and
  database and the page reconnects and authenticates by itself.

The end-of-speech → card delay is printed (``-s``), not asserted: the page's level meter and
card list are watched from a script the test injects, both on the page's clock. Screenshots go
to ``$BALTO_ARTEFACTS_DIR`` (default ``tests/artefacts/``, git-ignored).
"""

from __future__ import annotations

import json
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import trio
from bench.speech import silence, synthesize, to_pcm16

from balto.counter.asr.whisper import WhisperTranscriber
from balto.counter.audio.types import SAMPLE_RATE_HZ
from tests.conftest import RunningServer, start_server
from tests.e2e.cdp import Page, chromium_path, fake_microphone, open_page
from tests.e2e.test_admin_api import COMPLAINT, api, needs_espeak, new_chain, new_counter
from tests.e2e.test_panel_browser import artefacts_dir, text_of
from tests.e2e.test_safety_ws import BABY_FEVER
from tests.helpers import http

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        chromium_path() is None, reason="chromium missing: apt-get install chromium"
    ),
    needs_espeak,
]
LEAD_S = 1.0  # silence before the complaint in the WAV
TAIL_S = 7.0  # and after it: the WAV loops, one complaint per loop
QUIET = 0.05  # the meter's value (0..1, -60..0 dBFS) under which the page "hears" silence
LONG_QUIET_MS = 1000  # a pause this long after speech is the end of the utterance
# Injected before the page's scripts: when the meter moves and when each card is painted.
WATCH = """
window.__medidas = {nivel: [], cartoes: []};
document.addEventListener("DOMContentLoaded", () => {
  const meter = document.getElementById("nivel");
  new MutationObserver(() => {
    window.__medidas.nivel.push([performance.now(), Number(meter.value)]);
  }).observe(meter, {attributes: true, attributeFilter: ["value"]});
  new MutationObserver((changes) => {
    for (const change of changes) for (const card of change.addedNodes) {
      requestAnimationFrame(() => window.__medidas.cartoes.push(
        [performance.now(), card.dataset.id]));
    }
  }).observe(document.getElementById("cartoes"), {childList: true});
});
"""


# Injected before the page's scripts: addModule rejects while ``__falharCaptura`` is true.
FAILING_WORKLET = """
window.__falharCaptura = true;
const realAddModule = AudioWorklet.prototype.addModule;
AudioWorklet.prototype.addModule = function (...args) {
  if (window.__falharCaptura) {
    return Promise.reject(new DOMException("Unable to load a worklet's module.", "AbortError"));
  }
  return realAddModule.apply(this, args);
};
"""


def write_wav(path: Path, audio: np.ndarray) -> Path:
    """16-bit PCM mono at 16 kHz, the kind Chromium's fake capture reads."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE_HZ)
        out.writeframes(to_pcm16(audio))
    return path


def complaint_wav(folder: Path, sentence: str) -> Path:
    audio = np.concatenate([silence(LEAD_S), synthesize(sentence), silence(TAIL_S)])
    return write_wav(folder / "microfone.wav", audio)


def utterances(levels: list[list[float]], now_ms: float) -> list[tuple[float, float | None]]:
    """Each utterance the page's meter saw, ``(start, end)``: speech runs from a level above
    ``QUIET`` until a quiet stretch of at least ``LONG_QUIET_MS`` begins (the pauses between
    words are shorter); ``end`` is None while that stretch has not lasted long enough yet."""
    found: list[tuple[float, float | None]] = []
    start: float | None = None
    quiet_since: float | None = None
    for at, value in [*levels, [now_ms, -1.0]]:  # the sentinel: "now", neither loud nor quiet
        if start is not None and quiet_since is not None and at - quiet_since >= LONG_QUIET_MS:
            found.append((start, quiet_since))
            start = quiet_since = None
        if value >= QUIET:
            start = at if start is None else start
            quiet_since = None
        elif value >= 0 and start is not None and quiet_since is None:
            quiet_since = at
    if start is not None:
        found.append((start, None))
    return found


async def measured_delay_s(page: Page, card_id: str) -> float:
    """End of speech → card painted, both on the page's clock. The card belongs to the
    utterance under way when it appeared (an interim decode: a negative delay, measured once
    the utterance ends) or else to the last one that ended before it."""
    with trio.fail_after(30):
        while True:
            marks: dict[str, Any] = await page.evaluate(
                "({...window.__medidas, agora: performance.now()})"
            )
            painted = [at for at, got in marks["cartoes"] if got == card_id]
            if painted:
                card_ms = painted[0]
                heard = [u for u in utterances(marks["nivel"], marks["agora"]) if u[0] <= card_ms]
                assert heard, "a card before any speech"
                end = heard[-1][1]
                if end is not None:
                    return (card_ms - end) / 1000
            await trio.sleep(0.2)  # the painting frame, or the end of the utterance, is to come


async def recognizer_ready(port: int) -> None:
    with trio.fail_after(60):
        while True:  # the server, not a Trio task of this test, loads the model: poll
            if (await http(port, "GET", "/health")).json()["recognizer_ready"]:
                return
            await trio.sleep(0.2)


async def open_counter(page: Page, url: str) -> None:
    await page.send("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH})
    await page.goto(url)


async def microphone_on(page: Page) -> None:
    """Wait for the microphone; a browser that starts audio suspended gets the user's tap."""
    state = "document.getElementById('microfone-estado').textContent"
    with trio.fail_after(20):
        while await page.evaluate(state) != "Microfone ligado":
            if await page.evaluate("!document.getElementById('ligar').hidden"):
                await page.click("#ligar")
            await trio.sleep(0.2)


def phase_is(phase: str) -> str:
    return f"document.getElementById('conexao').dataset.fase === {json.dumps(phase)}"


async def test_a_wrong_key_from_a_link_is_refused_and_a_referral_looks_apart(
    server: RunningServer, scripted, tmp_path: Path
) -> None:
    scripted.texts.extend([BABY_FEVER] * 200)
    port = server.port
    chain = await new_chain(port, "balcao@redepharma.com")
    key = await new_counter(port, chain, "Loja 07 - Praça")
    wav = complaint_wav(tmp_path, COMPLAINT)
    shots = artefacts_dir()
    saved: list[Path] = []
    async with open_page(tmp_path / "perfil", flags=fake_microphone(wav)) as page:
        # The link's key is taken once, stored, and removed from the address bar.
        await open_counter(page, f"http://127.0.0.1:{port}/balcao#chave=chave-errada")
        await page.wait_for(phase_is("chave_recusada"))
        assert await page.evaluate("location.hash") == ""
        assert await page.evaluate("location.href") == f"http://127.0.0.1:{port}/balcao"
        assert await page.evaluate("localStorage.getItem('balto.balcao.chave')") == "chave-errada"
        assert "api_key inválida" in await page.evaluate(text_of("#chave-erro"))
        assert await page.evaluate("!document.getElementById('entrar').hidden")
        assert await page.evaluate("document.activeElement.id") == "chave"
        saved.append(await page.screenshot(shots / "balcao-1-chave-recusada.png"))

        # Pasting the right key (keyboard only) connects; the key replaces the wrong one.
        await page.type_into("#chave", key)
        await page.press_enter()
        await page.wait_for(phase_is("conectado"))
        assert await page.evaluate(text_of("#conexao")) == "Conectado — Loja 07 - Praça"
        assert await page.evaluate("localStorage.getItem('balto.balcao.chave')") == key
        await microphone_on(page)

        # The scripted transcriber "hears" a baby's fever: a referral, not a sale.
        await page.wait_for("document.querySelectorAll('#cartoes article').length > 0", 60)
        card = "#cartoes article"
        assert await page.evaluate(f"document.querySelector('{card}').dataset.tipo") == (
            "encaminhar"
        )
        assert "farmacêutico" in await page.evaluate(text_of(card))
        assert await page.evaluate(f"document.querySelectorAll('{card} .vendeu').length") == 0
        saved.append(await page.screenshot(shots / "balcao-2-encaminhar.png"))
        await page.click(f"{card} button.entendido")
        await page.wait_for(f"!document.querySelector('{card}[data-tipo=encaminhar]')")

        # A reload connects with the stored key; "Trocar chave" closes and asks again.
        await page.goto(f"http://127.0.0.1:{port}/balcao")
        await page.wait_for(phase_is("conectado"))
        await page.click("#trocar")
        await page.wait_for(phase_is("sem_chave"))
        assert await page.evaluate("document.activeElement.id") == "chave"

        assert await page.csp_violations() == []
        assert page.problems == []

    for path in saved:
        print(f"screenshot: {path}")


async def test_a_blocked_microphone_is_explained(server: RunningServer, tmp_path: Path) -> None:
    port = server.port
    key = await new_counter(port, await new_chain(port, "balcao@redepharma.com"), "Loja 02")
    # A fake device but no fake prompt: the site's permission, denied here, decides.
    flags = fake_microphone(complaint_wav(tmp_path, COMPLAINT))[1:]
    async with open_page(tmp_path / "perfil", flags=flags) as page:
        await page.connection.send(
            "Browser.setPermission",
            {
                "origin": f"http://127.0.0.1:{port}",
                "permission": {"name": "microphone"},
                "setting": "denied",
            },
        )
        await open_counter(page, f"http://127.0.0.1:{port}/balcao#chave={key}")
        await page.wait_for(f"{text_of('#microfone-erro')}.includes('Microfone bloqueado')")
        await page.wait_for(phase_is("conectado"))  # the socket does not need the microphone
        assert await page.evaluate(text_of("#microfone-estado")) == "Microfone desligado"
        assert await page.evaluate("!document.getElementById('ligar').hidden")
        shot = await page.screenshot(artefacts_dir() / "balcao-0-microfone-bloqueado.png")
        assert await page.csp_violations() == []
        assert page.problems == []
    print(f"screenshot: {shot}")


async def test_a_capture_module_that_did_not_load_can_be_tried_again(
    server: RunningServer, tmp_path: Path
) -> None:
    port = server.port
    wav = write_wav(tmp_path / "silencio.wav", silence(1.0))
    async with open_page(tmp_path / "perfil", flags=fake_microphone(wav)) as page:
        # The worklet's script fails to load, as Chromium reports it when the server is down
        # at that moment (an AbortError from addModule).
        await page.send("Page.addScriptToEvaluateOnNewDocument", {"source": FAILING_WORKLET})
        await page.goto(f"http://127.0.0.1:{port}/balcao")
        await page.wait_for(f"{text_of('#microfone-erro')}.includes('captura de áudio')")
        assert await page.evaluate(text_of("#microfone-estado")) == "Microfone desligado"
        assert await page.evaluate("!document.getElementById('ligar').hidden")
        # Back: "Ligar o microfone" asks again and the microphone runs.
        await page.evaluate("window.__falharCaptura = false")
        await microphone_on(page)
        assert await page.evaluate(text_of("#microfone-erro")) == ""
        assert await page.csp_violations() == []
        assert page.problems == []


async def test_a_complaint_in_a_natural_voice_becomes_a_card_that_records_the_sale(
    tmp_path: Path, base_model: Path
) -> None:
    wav = complaint_wav(tmp_path, COMPLAINT)
    shots = artefacts_dir()
    saved: list[Path] = []

    def whisper() -> WhisperTranscriber:
        return WhisperTranscriber(base_model, n_threads=2)

    async with open_page(tmp_path / "perfil", flags=fake_microphone(wav)) as page:
        async with trio.open_nursery() as first:
            running = await start_server(first, tmp_path, whisper)
            port = running.port
            chain = await new_chain(port, "balcao@redepharma.com")
            key = await new_counter(port, chain, "Loja 01 - Centro")
            await recognizer_ready(port)  # a counter meets a server that has long been up
            await open_counter(page, f"http://127.0.0.1:{port}/balcao#chave={key}")
            await page.wait_for(phase_is("conectado"))
            await microphone_on(page)
            await page.wait_for("document.querySelectorAll('#cartoes article').length > 0", 90)
            await page.wait_for("window.__medidas.cartoes.length > 0")
            card = "#cartoes article"
            card_id = await page.evaluate(f"document.querySelector('{card}').dataset.id")
            delay = await measured_delay_s(page, card_id)
            print(f"end of speech → card on screen: {delay:+.2f} s")
            assert await page.evaluate(f"document.querySelector('{card}').dataset.tipo") == (
                "sugerir"
            )
            assert await page.evaluate(text_of(f"{card} .produto strong")) != ""
            saved.append(await page.screenshot(shots / "balcao-3-sugestao.png"))
            await page.click(f"{card} button.vendeu")
            await page.wait_for(f"{text_of(card)}.includes('Registrado: Vendeu')")
            saved.append(await page.screenshot(shots / "balcao-4-vendeu.png"))
            db = running.database()
            row = db.interacao(card_id)
            db.close()
            assert row is not None and row["resultado"] == "venda_realizada"
            # The server stops (closing with 1001); the nursery waits until it has ended.
            running.lifecycle.stop()
        await page.wait_for(phase_is("esperando"))
        saved.append(await page.screenshot(shots / "balcao-5-sem-conexao.png"))

        # Back on the same port and database: the page reconnects and authenticates by itself.
        async with trio.open_nursery() as second:
            again = await start_server(second, tmp_path, whisper, port=port)
            await page.wait_for(phase_is("conectado"), 60)
            # The microphone kept playing: the new session hears the next loop.
            await page.wait_for(
                f"[...document.querySelectorAll('{card}')].some("
                f"c => c.dataset.id !== {json.dumps(card_id)})",
                90,
            )
            new_id = await page.evaluate(f"document.querySelector('{card}').dataset.id")
            print(f"after the restart: {await measured_delay_s(page, new_id):+.2f} s")
            await page.click(f"{card} button.nao-vendeu")
            await page.wait_for(f"{text_of(card)}.includes('Registrado: Não vendeu')")
            saved.append(await page.screenshot(shots / "balcao-6-reconectado.png"))
            db = again.database()
            row = db.interacao(new_id)
            db.close()
            assert row is not None and row["resultado"] == "venda_perdida"
            # Both answers are in the chain's report, as the panel shows it.
            r = await api(port, "GET", "/api/relatorios?agrupar=balcao", chain)
            assert r.status == 200, r.body
            (line,) = r.json()["linhas"]
            assert line["nome_balcao"] == "Loja 01 - Centro"
            assert (line["vendas_realizadas"], line["vendas_perdidas"]) == (1, 1)
            assert await page.csp_violations() == []
            # Retries while the server was down are the only console lines allowed.
            refused = [p for p in page.problems if "ERR_CONNECTION_REFUSED" in p]
            assert [p for p in page.problems if p not in refused] == []
            again.lifecycle.stop()
    for path in saved:
        print(f"screenshot: {path}")
