"""``/balcao`` over HTTPS as a store would run it: the Balto app under hypercorn with TLS
(``balto tls``'s runner), reached by a name that is not loopback (``balto.test``, mapped to
127.0.0.1 inside Chromium), so the microphone is there only because the page is ``https://``.

Chromium trusts the test's certificate by its public key (``--ignore-certificate-errors-spki-list``,
Chromium's switch for exactly this), not by ignoring every certificate error. The page builds
``wss://`` from ``location.protocol``; the fake microphone streams the complaint, a scripted
transcriber stands in for whisper.cpp, the card appears and "Vendeu" is stored.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from balto.counter.balcao.site import BalcaoSite
from tests.core.asgi.conftest import Tls, issue_tls
from tests.core.asgi.test_balto_tls import BaltoTls, https, register, start_balto
from tests.e2e.cdp import chromium_path, fake_microphone, open_page
from tests.e2e.test_admin_api import COMPLAINT, needs_espeak
from tests.e2e.test_balcao_browser import (
    complaint_wav,
    microphone_on,
    open_counter,
    phase_is,
)
from tests.e2e.test_panel_browser import artefacts_dir, text_of

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        chromium_path() is None, reason="chromium missing: apt-get install chromium"
    ),
    needs_espeak,
]
HOST = "balto.test"  # a name, not loopback: only https:// makes this origin secure
# Injected before the page's scripts: the URL of every WebSocket the page opens.
SOCKETS = """
window.__sockets = [];
window.WebSocket = class extends WebSocket {
  constructor(url, protocols) {
    super(url, protocols);
    window.__sockets.push(this.url);
  }
};
"""


def spki_sha256(certfile: Path) -> str:
    """The base64 SHA-256 of the leaf certificate's public key, as Chromium's
    ``--ignore-certificate-errors-spki-list`` wants it."""
    cert = x509.load_pem_x509_certificate(certfile.read_bytes())
    der = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def trusting(tls: Tls) -> tuple[str, ...]:
    """Switches that send ``balto.test`` to 127.0.0.1 and accept only this certificate."""
    return (
        f"--host-resolver-rules=MAP {HOST} 127.0.0.1",
        f"--ignore-certificate-errors-spki-list={spki_sha256(tls.certfile)}",
    )


@pytest.fixture
async def balto_tls(nursery: trio.Nursery, tmp_path: Path) -> AsyncIterator[BaltoTls]:
    folder = tmp_path / "tls"
    folder.mkdir()
    tls = issue_tls(folder, HOST, "127.0.0.1", "localhost")
    running = await start_balto(nursery, tmp_path, tls)
    yield running
    if not running.server.stopped.is_set():
        await running.server.stop()


async def test_the_counter_page_over_https_streams_over_wss(
    balto_tls: BaltoTls, tmp_path: Path
) -> None:
    server = balto_tls.server
    balto_tls.transcriber.texts.extend([COMPLAINT] * 200)
    _, key = await register(server)
    page_headers = (await https(server, "GET", "/balcao")).headers
    wav = complaint_wav(tmp_path, COMPLAINT)
    origin = f"https://{HOST}:{server.port}"
    flags = (*fake_microphone(wav), *trusting(server.tls))
    async with open_page(tmp_path / "perfil", flags=flags) as page:
        await page.send("Page.addScriptToEvaluateOnNewDocument", {"source": SOCKETS})
        await open_counter(page, f"{origin}/balcao#chave={key}")
        assert await page.evaluate("location.href") == f"{origin}/balcao"
        assert await page.evaluate("window.isSecureContext") is True
        await page.wait_for(phase_is("conectado"))
        assert await page.evaluate(text_of("#conexao")) == "Conectado — Loja 01"
        # The socket the page opened is wss:// on the same origin (connect-src 'self').
        assert await page.evaluate("window.__sockets") == [f"wss://{HOST}:{server.port}/ws"]
        await microphone_on(page)
        card = "#cartoes article"
        await page.wait_for(f"document.querySelectorAll('{card}').length > 0", 60)
        assert await page.evaluate(f"document.querySelector('{card}').dataset.tipo") == "sugerir"
        card_id = await page.evaluate(f"document.querySelector('{card}').dataset.id")
        shot = await page.screenshot(artefacts_dir() / "balcao-tls-sugestao.png")
        await page.click(f"{card} button.vendeu")
        await page.wait_for(f"{text_of(card)}.includes('Registrado: Vendeu')")
        assert await page.csp_violations() == []
        assert page.problems == []
    db = balto_tls.database()
    try:
        row = db.interacao(card_id)
    finally:
        db.close()
    assert row is not None and row["resultado"] == "venda_realizada"
    # The static site's security headers, exactly as ``balto serve`` sends them.
    for name, value in BalcaoSite().headers:
        assert page_headers[name.lower()] == value, name
    print(f"screenshot: {shot}")
