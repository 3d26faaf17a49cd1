"""The live feed (``GET /api/ao-vivo``, Server-Sent Events) through a real server: a real
counter WebSocket session's recommendation and feedback arrive on its chain's feeds (by bearer
and by cookie), a second chain's feed gets nothing of them, and shutdown ends the stream."""

import json

import h11
import trio
from trio_websocket import open_websocket_url

from tests.e2e.test_admin_api import (
    COMPLAINT,
    Chain,
    auth,
    needs_espeak,
    new_chain,
    new_counter,
)
from tests.e2e.test_admin_sessions import login
from tests.e2e.test_rules_api import speak
from tests.helpers import feedback, http, next_json

WAIT_S = 10


class Feed:
    """One SSE response read incrementally with h11."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.conn = h11.Connection(h11.CLIENT)
        self.buffer = ""
        self.comments = 0
        self.finished = False

    @classmethod
    async def open(cls, port: int, headers: list[tuple[str, str]]) -> "Feed":
        feed = cls(await trio.open_tcp_stream("127.0.0.1", port))
        request = h11.Request(
            method="GET",
            target="/api/ao-vivo",
            headers=[("host", "localhost"), ("accept", "text/event-stream"), *headers],
        )
        await feed.stream.send_all(feed.conn.send(request) + feed.conn.send(h11.EndOfMessage()))
        head = await feed._event()
        assert isinstance(head, h11.Response), head
        got = {k.decode(): v.decode() for k, v in head.headers}
        assert head.status_code == 200, head
        assert got["content-type"] == "text/event-stream; charset=utf-8"
        assert got["cache-control"] == "no-store" and "content-length" not in got
        return feed

    async def _event(self) -> h11.Event:
        while True:
            event = self.conn.next_event()
            if event is not h11.NEED_DATA:
                return event  # type: ignore[return-value]
            self.conn.receive_data(await self.stream.receive_some(65536))

    async def next(self, wait_s: float = WAIT_S) -> tuple[str, dict] | None:
        """The next event (name, data); None when the response ended."""
        with trio.fail_after(wait_s):
            while True:
                block, sep, rest = self.buffer.partition("\n\n")
                if sep:
                    self.buffer = rest
                    if block.startswith(":"):
                        self.comments += 1
                        continue
                    fields = dict(line.split(": ", 1) for line in block.split("\n"))
                    return fields["event"], json.loads(fields["data"])
                event = await self._event()
                if isinstance(event, h11.EndOfMessage):
                    self.finished = True
                    return None
                assert isinstance(event, h11.Data), event
                self.buffer += bytes(event.data).decode()

    async def assert_quiet(self, seconds: float) -> None:
        with trio.move_on_after(seconds):
            event = await self.next(seconds + 1)
            raise AssertionError(f"unexpected event {event!r}")


async def test_the_feed_needs_a_key_or_a_session(server):
    r = await http(server.port, "GET", "/api/ao-vivo")
    assert r.status == 401 and "Chave de administração" in r.json()["error"]
    r = await http(
        server.port, "GET", "/api/ao-vivo", headers=[("cookie", "balto_sessao=" + "A" * 43)]
    )
    assert r.status == 401


@needs_espeak
async def test_a_counters_recommendation_and_feedback_reach_only_its_chains_feeds(server, scripted):
    scripted.texts.extend([COMPLAINT] * 200)
    port = server.port
    chain, other = await new_chain(port, "rede@a.com"), await new_chain(port, "rede@b.com")
    key = await new_counter(port, chain, "Loja 01")
    await new_counter(port, other, "Loja B")
    session = await login(port, "rede@a.com", chain)
    by_bearer = await Feed.open(port, chain.bearer)
    by_cookie = await Feed.open(port, session.headers())
    theirs = await Feed.open(port, Chain(other.codigo, other.chave_admin).bearer)
    counter_id = (await http(port, "GET", "/api/balcoes", headers=chain.bearer)).json()["balcoes"][
        0
    ]["id"]
    async with open_websocket_url(server.ws_url) as ws:
        await auth(ws, key)
        await speak(ws)
        rec = await next_json(ws)
        assert rec["comando"] == "recomendar", rec
        await ws.send_message(feedback(rec["id_interacao"], "venda_realizada"))
        assert (await next_json(ws))["comando"] == "feedback_ok"
    for feed in (by_bearer, by_cookie):
        kind, data = await feed.next()
        assert kind == "recomendacao"
        assert data == {
            "balcao_id": counter_id,
            "nome_balcao": "Loja 01",
            "regra": "dor_costas_muscular",
            "tipo": "sugerir",
            "mensagem": rec["mensagem"],
            "produto": rec["produto"],
            "id_interacao": rec["id_interacao"],
            "em": data["em"],
        }
        assert data["em"].endswith("+00:00")
        kind, data = await feed.next()
        assert (kind, data["id_interacao"], data["resultado"]) == (
            "feedback",
            rec["id_interacao"],
            "venda_realizada",
        )
        assert data["balcao_id"] == counter_id and data["nome_balcao"] == "Loja 01"
    await theirs.assert_quiet(0.5)  # the second chain's feed saw nothing of it
    server.lifecycle.stop()
    for feed in (by_bearer, by_cookie, theirs):
        assert await feed.next() == ("fim", {"motivo": "Servidor encerrando"})
        assert await feed.next() is None and feed.finished  # the response ends cleanly
        await feed.stream.aclose()


async def test_shutdown_ends_an_idle_feed_at_once(server):
    chain = await new_chain(server.port, "rede@a.com")
    feed = await Feed.open(server.port, chain.bearer)
    with trio.fail_after(2):  # far less than the keepalive or the shutdown grace
        server.lifecycle.stop()
        assert await feed.next() == ("fim", {"motivo": "Servidor encerrando"})
        assert await feed.next() is None
    assert feed.comments == 1  # the opening line
    await feed.stream.aclose()
