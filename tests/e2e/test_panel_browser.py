"""The panel in a real headless Chromium (Debian's ``chromium``), driven over the DevTools
Protocol against a real server: a manager logs in through the form, watches a streaming
counter's recommendation arrive in the live feed, dry-runs and saves a rule through the editor
(a validation error first), and revokes the counter, whose socket is closed with 1008. The
page must log no error and violate no Content-Security-Policy on the way.

Screenshots go to ``$BALTO_ARTEFACTS_DIR`` (default ``tests/artefacts/``, git-ignored)."""

import json
import os
from pathlib import Path

import pytest
import trio
from trio_websocket import ConnectionClosed, open_websocket_url

from tests.e2e.cdp import Page, chromium_path, open_page
from tests.e2e.test_admin_api import COMPLAINT, Chain, auth, needs_espeak, new_chain, new_counter
from tests.e2e.test_experiments_api import RULE, TEXTS, experiment_set, shown
from tests.e2e.test_rules_api import SUN, put_rules, speak
from tests.helpers import feedback, http, next_json

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        chromium_path() is None, reason="chromium missing: apt-get install chromium"
    ),
]
EMAIL = "gerente@redepharma.com"


def artefacts_dir() -> Path:
    configured = os.environ.get("BALTO_ARTEFACTS_DIR")
    return Path(configured) if configured else Path(__file__).parents[1] / "artefacts"


async def log_in(page: Page, port: int, chain: Chain) -> None:
    """Open the panel and log in as ``chain``'s manager, through the form; wait until loaded."""
    await page.goto(f"http://127.0.0.1:{port}/painel")
    await page.wait_for("!document.getElementById('entrar').hidden")
    await page.type_into("#email", EMAIL)
    await page.type_into("#chave", chain.chave_admin)
    await page.press_enter()
    await page.wait_for("document.body.dataset.pronto === '1'")


def text_of(selector: str) -> str:
    return f"(document.querySelector({json.dumps(selector)}) || {{}}).textContent || ''"


@needs_espeak
async def test_a_manager_uses_the_panel_end_to_end(server, scripted, tmp_path):
    scripted.texts.extend([COMPLAINT] * 200)
    port = server.port
    chain = await new_chain(port, EMAIL)
    key = await new_counter(port, chain, "Loja 01 - Centro")
    await new_counter(port, chain, "Loja 02 - Bairro")
    shots = artefacts_dir()
    saved: list[Path] = []
    async with open_page(tmp_path / "perfil") as page:
        await page.goto(f"http://127.0.0.1:{port}/painel")
        await page.wait_for("!document.getElementById('entrar').hidden")
        assert await page.evaluate("document.activeElement.id") == "email"
        saved.append(await page.screenshot(shots / "painel-1-entrar.png"))

        # A wrong key first: the server's message, and no way in.
        await page.type_into("#email", EMAIL)
        await page.type_into("#chave", "chave-errada")
        await page.press_enter()
        await page.wait_for(f"{text_of('#entrar-erro')}.includes('inválidos')")
        # The refused login's 401 is the one expected console line (and shows the watch works).
        assert [p for p in page.problems if "401" in p] == page.problems != []
        page.problems.clear()
        await page.type_into("#chave", chain.chave_admin)
        await page.press_enter()  # the keyboard submits the form
        await page.wait_for("document.body.dataset.pronto === '1'")
        await page.wait_for(f"{text_of('#ao-vivo-estado')}.startsWith('Conectado')")
        assert await page.evaluate(text_of("#hoje-online")) == "0 de 2"

        async with open_websocket_url(server.ws_url) as ws:
            await auth(ws, key)
            await speak(ws)
            rec = await next_json(ws)
            assert rec["comando"] == "recomendar", rec
            await ws.send_message(feedback(rec["id_interacao"], "venda_realizada"))
            assert (await next_json(ws))["comando"] == "feedback_ok"

            # The live feed, newest first: the answer above its recommendation.
            await page.wait_for("document.querySelectorAll('#ao-vivo-lista li').length >= 2")
            items = await page.evaluate(
                "[...document.querySelectorAll('#ao-vivo-lista li')].map(li => li.textContent)"
            )
            assert "Venda realizada" in items[0] and "Loja 01 - Centro" in items[0]
            assert rec["mensagem"] in items[1] and "Loja 01 - Centro" in items[1]
            # The numbers follow the events: today's counts, online counter, the charts.
            await page.wait_for(f"{text_of('#hoje-vendas')} === '1'")
            await page.wait_for(f"{text_of('#hoje-online')} === '1 de 2'")
            await page.wait_for(
                "document.querySelectorAll('#grafico-regra svg rect.barra').length === 1"
            )
            assert "dor_costas_muscular" in await page.evaluate(text_of("#grafico-regra svg"))
            assert (
                await page.evaluate(
                    "document.querySelectorAll('#grafico-regra svg line.bigode').length"
                )
                == 3
            )  # the whisker and its two caps
            saved.append(await page.screenshot(shots / "painel-2-ao-vivo.png"))

            # The rule editor: the default set, plus a sunburn rule.
            await page.wait_for("document.getElementById('regras-texto').value.length > 0")
            current = json.loads(
                await page.evaluate("document.getElementById('regras-texto').value")
            )
            # The exported set is format versao 2: a product suggestion must say it is a MIP.
            sun = {**SUN, "mip": True}
            broken = {**current, "regras": [*current["regras"], {**sun, "cor": "azul"}]}
            await page.type_into("#regras-texto", json.dumps(broken, ensure_ascii=False, indent=2))
            await page.click("#regras-salvar")
            await page.wait_for(f"{text_of('#regras-erro')}.includes('cor')")
            assert (
                await page.evaluate(
                    "document.getElementById('regras-texto').getAttribute('aria-invalid')"
                )
                == "true"
            )
            assert [p for p in page.problems if "400" in p] == page.problems != []
            page.problems.clear()  # the refused PUT's 400 was the expected console line
            fixed = {**current, "regras": [*current["regras"], sun]}
            await page.type_into("#regras-texto", json.dumps(fixed, ensure_ascii=False, indent=2))
            await page.type_into("#frase", "ontem tive uma queimadura de sol")
            await page.click("#form-testar button[type=submit]")
            await page.wait_for(f"{text_of('#teste-resultado')}.includes('Sugerir protetor solar')")
            await page.click("#regras-salvar")
            await page.wait_for(f"{text_of('#regras-ok')}.includes('revisão 1')")
            assert await page.evaluate(text_of("#regras-erro")) == ""
            r = await http(port, "GET", "/api/regras", headers=chain.bearer)
            assert r.json()["revisao"] == 1 and r.headers["etag"] == '"1"'
            sun = next(rule for rule in r.json()["conjunto"]["regras"] if rule["id"] == "sol")
            assert sun["mensagem"] == SUN["mensagem"] and sun["gatilhos"] == SUN["gatilhos"]
            saved.append(await page.screenshot(shots / "painel-3-regras.png"))

            # Revoke the streaming counter: confirm in the dialog, then its socket closes.
            counter_row = "tr[data-estado='online']"
            await page.click(f"{counter_row} button[data-revogar]")
            await page.wait_for("document.getElementById('confirmar').open")
            # The safe choice has the focus: Enter or Escape would cancel.
            assert await page.evaluate("document.activeElement.textContent") == "Cancelar"
            saved.append(await page.screenshot(shots / "painel-4-confirmar.png"))
            await page.click("#confirmar-revogar")
            with trio.fail_after(10), pytest.raises(ConnectionClosed) as closed:
                await ws.get_message()
            assert closed.value.reason.code == 1008
            assert closed.value.reason.reason == "api_key revogada"
        await page.wait_for("!!document.querySelector(\"tr[data-estado='revogado']\")")
        revoked = await page.evaluate(text_of("tr[data-estado='revogado'] th"))
        assert revoked == "Loja 01 - Centro"
        await page.wait_for(f"{text_of('#balcoes-aviso')}.includes('revogado')")
        assert "Revogar Loja 01" not in await page.evaluate("document.body.innerHTML")
        saved.append(await page.screenshot(shots / "painel-5-balcoes.png"))

        assert await page.csp_violations() == []
        assert page.problems == []

        # A reload keeps the session (the cookie) and fetches its CSRF token again.
        await page.goto(f"http://127.0.0.1:{port}/painel")
        await page.wait_for("document.body.dataset.pronto === '1'")
        await page.wait_for("!!document.querySelector(\"tr[data-estado='revogado']\")")
        cookies = await page.send("Network.getCookies", {"urls": [f"http://127.0.0.1:{port}/"]})
        (cookie,) = [c for c in cookies["cookies"] if c["name"] == "balto_sessao"]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        await page.click("#sair")
        await page.wait_for("!document.getElementById('entrar').hidden")
        ended = [("cookie", f"balto_sessao={cookie['value']}")]
        assert (await http(port, "GET", "/api/sessao", headers=ended)).status == 401
        await page.goto(f"http://127.0.0.1:{port}/painel")  # logged out: the form, no request
        await page.wait_for("!document.getElementById('entrar').hidden")
        r = await http(port, "GET", "/api/balcoes", headers=chain.bearer)
        assert {b["nome_balcao"]: b["revogado_em"] is not None for b in r.json()["balcoes"]} == {
            "Loja 01 - Centro": True,
            "Loja 02 - Bairro": False,
        }
        assert page.problems == []
    for path in saved:
        print(f"screenshot: {path}")


@needs_espeak
async def test_the_panel_shows_the_wording_experiments(server, scripted, tmp_path):
    """A rule with a variant, counters that drew its wordings and answered: the "Experimentos"
    section draws a bar with its interval per variant, says the verdict, and has the table."""
    scripted.texts.extend([COMPLAINT] * 200)
    port = server.port
    chain = await new_chain(port, EMAIL)
    assert (await put_rules(port, chain, experiment_set())).status == 200
    key = await new_counter(port, chain, "Loja 01 - Centro")
    shown_texts = set()
    for resultado in ["venda_realizada", "venda_perdida"] * 4:
        shown_texts.add((await shown(server.ws_url, key, resultado))["mensagem"])
    async with open_page(tmp_path / "perfil") as page:
        await log_in(page, port, chain)
        block = f"#experimento-{RULE}"
        await page.wait_for(f"!!document.querySelector('{block} svg')")
        labels = await page.evaluate(
            f"[...document.querySelectorAll('{block} svg g > title')].map(t => t.textContent)"
        )
        assert [label.split(":")[0] for label in labels] == ["padrao", "curta"]
        answered = sum(1 for text in TEXTS.values() if text in shown_texts)
        bars = await page.evaluate(f"document.querySelectorAll('{block} svg rect.barra').length")
        assert bars == answered  # a variant never drawn has no bar ("sem respostas")
        whiskers = f"document.querySelectorAll('{block} svg line.bigode').length"
        assert await page.evaluate(whiskers) == 3 * answered
        verdict = await page.evaluate(text_of(f"{block} .veredito"))
        assert verdict.startswith("Ainda não significativo"), verdict
        rows = await page.evaluate(
            f"[...document.querySelectorAll('{block} table tbody th')].map(th => th.textContent)"
        )
        assert rows == [f"padrao: “{TEXTS['padrao']}”", f"curta: “{TEXTS['curta']}”"]
        csv_link = await page.evaluate(
            "document.querySelector('#experimentos-lista a[download]').getAttribute('href')"
        )
        assert csv_link.startswith("/api/experimentos?de=") and csv_link.endswith("formato=csv")
        await page.evaluate("document.getElementById('experimentos').scrollIntoView()")
        path = await page.screenshot(artefacts_dir() / "painel-6-experimentos.png", "#experimentos")
        assert await page.csp_violations() == []
        assert page.problems == []
    print(f"screenshot: {path}")
