"""Crash isolation on real servers: a bug reached by one peer ends that peer alone.

Each test injects a bug (or sends what used to reach one) and checks that the other peers go
on and the listener keeps accepting, and that ``/metrics`` counts what was stopped.
"""

from __future__ import annotations

import contextlib
import json

import numpy as np
import pytest
import trio
from bench.speech import espeak_available, silence, synthesize, to_pcm16
from trio_websocket import ConnectionClosed, open_websocket_url

from balto.counter.store import Database
from balto.partnumber.app import PartnumberApp
from tests.conftest import RunningServer, start_server
from tests.e2e.test_counter_ws import auth, closed_with, next_json
from tests.e2e.test_http import register
from tests.helpers import ScriptedTranscriber, feedback, http
from tests.partnumber.eio_client import PollingClient

needs_espeak = pytest.mark.skipif(not espeak_available(), reason="espeak-ng missing")


async def metric(port: int, name: str, path: str = "/metrics") -> float:
    text = (await http(port, "GET", path)).body.decode()
    return sum(
        float(line.split()[-1])
        for line in text.splitlines()
        if line.startswith(name) and not line.startswith("#")
    )


async def new_interaction(running: RunningServer, api_key: str) -> str:
    def create() -> str:
        db = Database(running.config.db_file)
        try:
            balcao = db.authenticate(api_key)
            assert balcao is not None
            return db.create_interacao(
                balcao.id, regra="r", categoria="c", mensagem="m", produto="p", gatilho="g"
            )
        finally:
            db.close()

    return await trio.to_thread.run_sync(create)


async def canary_feedback(running: RunningServer, api_key: str) -> None:
    """A healthy counter on another socket: authenticates and gets its ``feedback_ok``."""
    iid = await new_interaction(running, api_key)
    with trio.fail_after(10):
        async with open_websocket_url(running.ws_url) as ws:
            await auth(ws, api_key)
            await ws.send_message(feedback(iid))
            reply = await next_json(ws)
    assert reply == {"comando": "feedback_ok", "id_interacao": iid, "resultado": "venda_realizada"}
    assert (await http(running.port, "GET", "/health")).status == 200


@pytest.mark.parametrize(
    "first",
    [
        '{"comando": "auth", "api_key": "\\ud800"}',
        '{"comando": "auth", "api_key": "k", "sample_rate": ' + "1" * 5000 + "}",
        "[" * 5000 + "]" * 5000,  # within the 16 KB command limit: the depth limit answers
    ],
    ids=["surrogate", "long-int", "deep"],
)
async def test_what_ended_the_process_now_ends_one_socket_with_1007(server, first):
    _, api_key = await register(server.port)
    async with open_websocket_url(server.ws_url) as bystander:
        await auth(bystander, api_key)
        async with open_websocket_url(server.ws_url) as attacker:
            await attacker.send_message(first)
            closed = await closed_with(attacker)
        assert closed.reason.code == 1007
        iid = await new_interaction(server, api_key)
        await bystander.send_message(feedback(iid))
        assert (await next_json(bystander))["comando"] == "feedback_ok"
    await canary_feedback(server, api_key)


async def test_surrogate_in_feedback_is_an_erro_and_the_session_stays(server):
    _, api_key = await register(server.port)
    async with open_websocket_url(server.ws_url) as ws:
        await auth(ws, api_key)
        await ws.send_message(
            '{"comando": "feedback", "id_interacao": "\\udc00", "resultado": "venda_perdida"}'
        )
        assert (await next_json(ws))["comando"] == "erro"
        iid = await new_interaction(server, api_key)
        await ws.send_message(feedback(iid))
        assert (await next_json(ws))["comando"] == "feedback_ok"


async def test_bug_in_a_counter_session_closes_it_1011_and_others_go_on(server, monkeypatch):
    real = Database.record_feedback

    def record_feedback(self, balcao_id, interacao_id, resultado):
        if interacao_id == "boom":
            raise RuntimeError("injected bug in the feedback task")
        return real(self, balcao_id, interacao_id, resultado)

    monkeypatch.setattr(Database, "record_feedback", record_feedback)
    _, api_key = await register(server.port)
    async with open_websocket_url(server.ws_url) as bystander:
        await auth(bystander, api_key)
        async with open_websocket_url(server.ws_url) as victim:
            await auth(victim, api_key)
            await victim.send_message(feedback("boom"))
            closed = await closed_with(victim)
        assert closed.reason.code == 1011
        iid = await new_interaction(server, api_key)
        await bystander.send_message(feedback(iid))
        assert (await next_json(bystander))["comando"] == "feedback_ok"
    await canary_feedback(server, api_key)
    assert await metric(server.port, 'balto_crashes_total{boundary="websocket"}') == 1


async def test_bug_in_an_http_handler_is_a_500_and_counted(server, monkeypatch):
    def broken(body):
        raise RuntimeError("injected bug in a handler")

    monkeypatch.setattr("balto.counter.app.parse_cliente", broken)
    for _ in range(3):
        r = await http(server.port, "POST", "/cadastro/cliente", {"email": "x"})
        assert r.status == 500 and r.json() == {"error": "Erro interno do servidor"}
    assert await metric(server.port, 'balto_crashes_total{boundary="http_handler"}') == 3
    assert (await http(server.port, "GET", "/health")).status == 200


class CrashingTranscriber(ScriptedTranscriber):
    """A bug in recognition itself (not a ``RecognizerError``): used to end the server."""

    def __init__(self) -> None:
        super().__init__([])
        self.crashed = trio.Event()

    def transcribe(self, audio: np.ndarray, options) -> str:
        trio.from_thread.run_sync(self.crashed.set)
        raise ZeroDivisionError("injected bug in the transcriber")


@needs_espeak
async def test_bug_in_the_transcriber_fails_that_decode_only(nursery, tmp_path):
    crashing = CrashingTranscriber()
    running = await start_server(nursery, tmp_path, lambda: crashing)
    _, api_key = await register(running.port)
    speech = to_pcm16(np.concatenate([silence(0.3), synthesize("estou com dor"), silence(1.2)]))
    async with open_websocket_url(running.ws_url) as ws:
        await auth(ws, api_key)
        for offset in range(0, len(speech), 8000):
            await ws.send_message(speech[offset : offset + 8000])
        with trio.fail_after(20):
            await crashing.crashed.wait()
        # the decode failed, counted as such; the session and the worker live on
        iid = await new_interaction(running, api_key)
        await ws.send_message(feedback(iid))
        assert (await next_json(ws))["comando"] == "feedback_ok"
    assert await metric(running.port, 'balto_crashes_total{boundary="asr_job"}') >= 1
    assert await metric(running.port, "balto_asr_failures_total") >= 1
    await canary_feedback(running, api_key)
    running.lifecycle.stop()


async def test_bug_in_a_socketio_handler_fails_that_call_only(monkeypatch, nursery):
    from tests.partnumber.conftest import start_partnumber
    from tests.partnumber.doubles import ScriptedClassifier

    def broken(self, sid, *args):
        raise KeyError("injected bug in a Socket.IO handler")

    monkeypatch.setattr(PartnumberApp, "_on_message", broken)
    pn = await start_partnumber(nursery, ScriptedClassifier())
    victim, bystander = PollingClient(pn.port), PollingClient(pn.port)
    with trio.fail_after(10):
        await victim.connect()
        await bystander.connect()
        reply = await victim._raw("POST", ("42" + json.dumps(["message", "oi"])).encode())
        assert reply.status == 500 and reply.json() == {"error": "Erro interno do servidor"}
        for client in (victim, bystander):
            await client.emit("ping_event")
            assert await client.until("pong_event") == [{"message": "pong"}]
    assert await metric(pn.port, 'balto_crashes_total{boundary="socketio_handler"}') == 1
    pn.lifecycle.stop()


async def test_bug_in_a_classification_fails_that_task_only(nursery):
    from tests.partnumber.conftest import start_partnumber
    from tests.partnumber.doubles import ScriptedClassifier

    class Flaky(ScriptedClassifier):
        def classify(self, request, progress):
            if request.partnumber == "BOOM":
                raise MemoryError("injected")
            return super().classify(request, progress)

    pn = await start_partnumber(nursery, Flaky())
    client = PollingClient(pn.port)
    with trio.fail_after(10):
        await client.connect()
        for partnumber, status in (("BOOM", "failed"), ("6204-2RS", "done")):
            r = await http(pn.port, "POST", "/classify-partnumber", {"partnumber": partnumber})
            assert r.status == 202
            await client.emit("join", {"room_id": r.json()["room_id"]})
            [finished] = await client.until("classification_finished")
            assert finished["partnumber"] == partnumber and finished["status"] == status
    assert await metric(pn.port, 'balto_crashes_total{boundary="classification_job"}') == 1
    pn.lifecycle.stop()


async def test_listener_keeps_accepting_after_crashes(server):
    """Many attackers at once, each with a message that used to end the process."""
    _, api_key = await register(server.port)

    async def attack() -> None:
        async with open_websocket_url(server.ws_url) as ws:
            await ws.send_message('{"comando": "auth", "api_key": "\\udfff"}')
            with contextlib.suppress(ConnectionClosed):
                await ws.get_message()

    with trio.fail_after(20):
        async with trio.open_nursery() as attackers:
            for _ in range(50):
                attackers.start_soon(attack)
    await canary_feedback(server, api_key)
