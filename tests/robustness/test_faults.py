"""Faults: a broken database, a failing or slow recogniser, peers that vanish mid-inference."""

import json
import time

import numpy as np
import pytest
import trio
from bench.speech import espeak_available, silence, synthesize, to_pcm16
from trio_websocket import open_websocket_url

from balto.core.errors import RecognizerError
from balto.core.http.messages import Request
from balto.core.lifecycle import Lifecycle
from balto.counter.app import BaltoApp
from balto.counter.config import CounterConfig
from balto.counter.metrics import CounterMetrics
from balto.counter.store import Database, Store
from balto.counter.ws.rules_cache import RulesCache
from balto.counter.ws.session import CounterServices
from tests.conftest import start_server
from tests.e2e.test_http import CLIENTE, register
from tests.helpers import ScriptedTranscriber, http

needs_espeak = pytest.mark.skipif(not espeak_available(), reason="espeak-ng missing")


class ReadyRecognizer:
    ready = True
    busy = False

    async def transcribe(self, *args, **kwargs):
        raise AssertionError("not used")


def app_on(database: Database) -> BaltoApp:
    services = CounterServices(
        config=CounterConfig(cadastro_cliente_burst=1000),  # the test registers hundreds
        store=Store(database),
        recognizer=ReadyRecognizer(),
        metrics=CounterMetrics(),
        lifecycle=Lifecycle(),
        rules=RulesCache(),
    )
    return BaltoApp(services)


def post(path: str, body: dict) -> Request:
    return Request(
        "POST",
        path,
        (("content-type", "application/json"),),
        json.dumps(body).encode(),
        "127.0.0.1",
    )


@pytest.mark.parametrize("fault", ["read-only", "disk full"])
async def test_read_only_or_full_database_gives_503_not_a_crash(tmp_path, fault):
    database = Database(tmp_path / "d.db")
    if fault == "read-only":
        database.query("PRAGMA query_only = ON")
    else:  # the file may not grow by a single page any more
        pages = database.query("PRAGMA page_count")[0][0]
        database.query(f"PRAGMA max_page_count = {pages}")
    app = app_on(database)
    statuses = []
    for i in range(300):
        response = await app.handle_http(
            post("/cadastro/cliente", dict(CLIENTE, email=f"c{i}@x.com.br"))
        )
        statuses.append(response.status)
        if response.status != 201:
            break
    assert statuses[-1] == 503 and set(statuses[:-1]) <= {201}
    assert "Falha ao gravar o cliente" in json.loads(response.body)["error"]
    # reads and the rest of the service still answer
    assert (await app.handle_http(Request("GET", "/health", ()))).status == 200


class FailingTranscriber(ScriptedTranscriber):
    """Fails every decode; ``failures`` counts them, and the test can wait for a number."""

    def __init__(self):
        super().__init__([])
        self.failures = 0
        self.wanted = 2
        self.reached = trio.Event()

    def transcribe(self, audio, options):
        self.failures += 1
        if self.failures >= self.wanted:
            trio.from_thread.run_sync(self.reached.set)
        raise RecognizerError("whisper.cpp falhou")


class SlowTranscriber(ScriptedTranscriber):
    def transcribe(self, audio, options):
        time.sleep(0.3)
        return super().transcribe(audio, options)


async def stream_speech(ws, text: str) -> None:
    audio = np.concatenate([silence(0.3), synthesize(text), silence(1.0)])
    pcm = to_pcm16(audio)
    for offset in range(0, len(pcm), 8000):
        await ws.send_message(pcm[offset : offset + 8000])


async def metric(port: int, name: str) -> float:
    text = (await http(port, "GET", "/metrics")).body.decode()
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name))


@needs_espeak
async def test_failing_recogniser_degrades_to_no_recommendation(nursery, tmp_path):
    failing = FailingTranscriber()
    running = await start_server(nursery, tmp_path, lambda: failing)
    _, api_key = await register(running.port)
    async with open_websocket_url(running.ws_url) as ws:
        await ws.send_message(json.dumps({"comando": "auth", "api_key": api_key}))
        await ws.get_message()
        await stream_speech(ws, "Estou com dor de cabeça.")
        await stream_speech(ws, "Estou com dor de cabeça.")
        with trio.fail_after(10):
            await failing.reached.wait()
        await ws.send_message('{"comando": "voar"}')  # the socket is alive and answering
        assert json.loads(await ws.get_message())["comando"] == "erro"
    # one worker, one job at a time: the second decode began after the first was counted
    assert await metric(running.port, "balto_asr_failures_total") >= 1
    running.lifecycle.stop()


@needs_espeak
async def test_audio_faster_than_real_time_is_bounded_and_counted(nursery, tmp_path):
    slow = SlowTranscriber(["nada de mais"] * 100)
    running = await start_server(
        nursery, tmp_path, lambda: slow, ring_buffer_s=2.0, asr_max_pending_per_counter=1
    )
    _, api_key = await register(running.port)
    async with open_websocket_url(running.ws_url) as ws:
        await ws.send_message(json.dumps({"comando": "auth", "api_key": api_key}))
        await ws.get_message()
        for _ in range(6):  # ~20 s of speech pushed in well under a second
            await stream_speech(
                ws, "Bom dia, eu queria saber o preço deste xampu e do condicionador."
            )
        # messages are handled in order: once this is answered, every frame went through intake
        await ws.send_message('{"comando": "voar"}')
        with trio.fail_after(10):
            assert json.loads(await ws.get_message())["comando"] == "erro"
        received = await metric(running.port, "balto_audio_received_seconds_total")
        dropped = await metric(running.port, "balto_audio_dropped_seconds_total")
        # a 2 s ring: whatever recognition did not take in time was dropped, and counted
        assert received > 15 and dropped > received - 3 * 2.0
    running.lifecycle.stop()


@needs_espeak
async def test_peer_vanishing_mid_inference_leaves_others_served(nursery, tmp_path):
    slow = SlowTranscriber(["tô com febre"] * 100)
    running = await start_server(nursery, tmp_path, lambda: slow)
    _, key_a = await register(running.port, "a@x.com.br")
    _, key_b = await register(running.port, "b@x.com.br")
    async with open_websocket_url(running.ws_url) as ws:
        await ws.send_message(json.dumps({"comando": "auth", "api_key": key_a}))
        await ws.get_message()
        await stream_speech(ws, "Estou com febre desde ontem.")
    # gone mid-inference; the next counter still gets its recommendation
    async with open_websocket_url(running.ws_url) as ws:
        await ws.send_message(json.dumps({"comando": "auth", "api_key": key_b}))
        await ws.get_message()
        await stream_speech(ws, "Estou com febre desde ontem.")
        with trio.fail_after(15):
            message = json.loads(await ws.get_message())
        assert message["comando"] == "recomendar"
    running.lifecycle.stop()


async def test_unresponsive_peer_is_dropped_by_keepalive(nursery, tmp_path):
    running = await start_server(
        nursery, tmp_path, lambda: ScriptedTranscriber([]), ws_ping_interval_s=0.2
    )
    _, api_key = await register(running.port)
    stream = await trio.open_tcp_stream("127.0.0.1", running.port)
    # a raw handshake, then silence: this peer never answers pings
    await stream.send_all(
        b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    auth = json.dumps({"comando": "auth", "api_key": api_key}).encode()
    mask = b"\x00\x00\x00\x00"
    await stream.send_all(bytes([0x81, 0x80 | len(auth)]) + mask + auth)
    with trio.fail_after(5):
        while await stream.receive_some(65536):
            pass  # handshake, auth_ok, pings... until the server hangs up
    await stream.aclose()
    running.lifecycle.stop()


async def test_frame_sent_with_the_handshake_is_not_lost(server):
    """wsproto drops bytes that precede the accept; the replay gate keeps them."""
    _, api_key = await register(server.port)
    auth = json.dumps({"comando": "auth", "api_key": api_key}).encode()
    stream = await trio.open_tcp_stream("127.0.0.1", server.port)
    async with stream:
        await stream.send_all(
            b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            + bytes([0x81, 0x80 | len(auth)])
            + b"\x00\x00\x00\x00"
            + auth
        )
        received = b""
        with trio.fail_after(5):
            while b"auth_ok" not in received:
                received += await stream.receive_some(65536)
