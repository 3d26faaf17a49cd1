"""The counter page's pure parts (``estado.js``, ``cartoes.js``), run in the real headless
Chromium on the modules as ``/balcao`` serves them: the phase table, the backoff, the key from
the fragment, the close codes, the waiting countdown's text, and the cards' answers to
``feedback_ok`` / ``erro`` (a duplicate feedback, ``codigo`` ``feedback_ja_registrado``, is a
success)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import RunningServer
from tests.e2e.cdp import chromium_path, open_page

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        chromium_path() is None, reason="chromium missing: apt-get install chromium"
    ),
]
# A card list of its own, outside the page's, and a feedback the server already has.
CARDS = """
const make = (Cartoes) => {
  const list = document.createElement('div');
  const sent = [];
  const cards = new Cartoes(list, (m) => (sent.push(m), true));
  cards.mostrar({id_interacao: 'x1', mensagem: 'Sugerir X', produto: 'X', tipo: 'sugerir'});
  const line = () => list.querySelector('.situacao').textContent;
  const card = () => list.querySelector('article');
  const button = (kind) => list.querySelector(`button.${kind}`);
  return {list, sent, cards, line, card, button};
};
const duplicate = (code) => ({comando: 'erro', codigo: code,
                              mensagem: 'Feedback já registrado para a interação x1'});
"""


def in_block(expression: str) -> str:
    """``expression`` after :data:`CARDS`, in a block: its consts do not outlive the call."""
    return f"{{ {CARDS} {expression} }}"


async def test_the_pages_pure_parts(server: RunningServer, tmp_path: Path) -> None:
    async with open_page(tmp_path / "perfil") as page:
        await page.goto(f"http://127.0.0.1:{server.port}/balcao")
        # The phase table refuses what it lacks; backoff grows; the countdown's text.
        checks = await page.evaluate(
            """import('/balcao/estado.js').then(e => {
              let refused = '';
              try { e.proxima('conectado', 'auth_ok'); } catch (err) { refused = err.name; }
              return {
                refused,
                waits: [0, 1, 2, 3, 10].map(n => e.esperaMs(n, 0.5)),
                fragment: [e.chaveDoFragmento('#chave=%20a%2Bb%20'), e.chaveDoFragmento('#x=1')],
                wrong: e.motivoDoFechamento(1008, 'api_key inválida').evento,
                full: e.motivoDoFechamento(1013, 'Servidor lotado').evento,
                countdown: [4300, 3300, 2001, 1000, 1, 0, -50].map(
                  ms => e.textoEspera('Sem conexão.', ms)),
              };
            })"""
        )
        assert checks == {
            "refused": "Error",
            "waits": [1000, 2000, 4000, 8000, 30000],
            "fragment": ["a+b", None],
            "wrong": "recusada",
            "full": "caiu",
            "countdown": [
                f"Sem conexão. Tentando de novo em {n} s…" for n in (5, 4, 3, 1, 1, 1, 1)
            ],
        }

        # An ``erro`` answers the oldest feedback in flight: shown on its card, buttons back.
        refused = await page.evaluate(
            in_block(
                """import('/balcao/cartoes.js').then(({Cartoes}) => {
              const c = make(Cartoes);
              c.button('vendeu').click();
              const sending = c.button('vendeu').disabled;
              c.cards.erro({comando: 'erro', codigo: 'feedback_recusado',
                            mensagem: 'Interação desconhecida: x1'});
              return {sent: c.sent, sending, again: !c.button('vendeu').disabled,
                      line: c.line()};
            })"""
            )
        )
        assert refused == {
            "sent": [{"comando": "feedback", "id_interacao": "x1", "resultado": "venda_realizada"}],
            "sending": True,
            "again": True,
            "line": "Não registrado: Interação desconhecida: x1",
        }

        # "Vendeu", the socket falls before feedback_ok, "Vendeu" again: the server already
        # stored the first one and says so (codigo, not the text): the card is registered.
        resent = await page.evaluate(
            in_block(
                """import('/balcao/cartoes.js').then(({Cartoes, JA_REGISTRADO}) => {
              const c = make(Cartoes);
              c.button('vendeu').click();
              c.cards.semConexao();
              const fell = c.line();
              c.button('vendeu').click();
              const answered = c.cards.erro(duplicate(JA_REGISTRADO));
              return {code: JA_REGISTRADO, fell, answered, line: c.line(),
                      tipo: c.list.querySelector('.situacao').dataset.tipo,
                      resultado: c.card().dataset.resultado,
                      respondido: c.card().classList.contains('respondido'),
                      locked: c.button('vendeu').disabled && c.button('nao-vendeu').disabled,
                      pendente: c.cards.pendente() === null, sent: c.sent.length};
            })"""
            )
        )
        assert resent == {
            "code": "feedback_ja_registrado",
            "fell": "A conexão caiu antes da confirmação: toque de novo.",
            "answered": True,
            "line": "Registrado: Vendeu ✓",
            "tipo": "ok",
            "resultado": "venda_realizada",
            "respondido": True,
            "locked": True,
            "pendente": True,
            "sent": 2,
        }

        # Different answers before and after the fall: which one the server kept is unknown.
        mixed = await page.evaluate(
            in_block(
                """import('/balcao/cartoes.js').then(({Cartoes, JA_REGISTRADO}) => {
              const c = make(Cartoes);
              c.button('vendeu').click();
              c.cards.semConexao();
              c.button('nao-vendeu').click();
              c.cards.erro(duplicate(JA_REGISTRADO));
              return {line: c.line(), respondido: c.card().classList.contains('respondido')};
            })"""
            )
        )
        assert mixed == {
            "line": "Já registrado ✓ (vale a primeira resposta que chegou ao servidor)",
            "respondido": True,
        }
        assert await page.csp_violations() == []
