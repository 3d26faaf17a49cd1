"""The counter WebSocket through a real server and a real trio-websocket client.

Recognition here is a scripted transcriber double (the whisper.cpp path has its own end-to-end
test in tests/e2e/test_speech.py); everything else is real: segmentation of real synthetic
speech, the detector, SQLite, the sockets.
"""

import json
import time

import numpy as np
import pytest
import trio
from bench.speech import espeak_available, silence, synthesize, to_pcm16
from trio_websocket import open_websocket_url

from balto.counter.config import CounterConfig
from balto.counter.detect import default_rules
from balto.counter.offline import transcribe_audio
from balto.counter.pipeline import (
    ECONOMY_POLICY,
    DecodePolicy,
    counter_pipeline,
)
from tests.conftest import start_server
from tests.e2e.test_http import register
from tests.helpers import ScriptedTranscriber, closed_with, feedback, http, next_json

needs_espeak = pytest.mark.skipif(not espeak_available(), reason="espeak-ng missing")


async def auth(ws, api_key, **extra):
    await ws.send_message(json.dumps({"comando": "auth", "api_key": api_key, **extra}))
    reply = json.loads(await ws.get_message())
    assert reply["comando"] == "auth_ok", reply
    return reply


async def test_wrong_key_closes_1008(server):
    async with open_websocket_url(server.ws_url) as ws:
        await ws.send_message(
            json.dumps({"comando": "auth", "api_key": "00000000-0000-4000-8000-000000000000"})
        )
        closed = await closed_with(ws)
        assert closed.reason.code == 1008 and "api_key" in closed.reason.reason


async def test_auth_failures_are_labelled_by_close_reason_name(server):
    async with open_websocket_url(server.ws_url) as ws:
        await ws.send_message(json.dumps({"comando": "auth", "api_key": "k", "x": 1}))
        await closed_with(ws)
    async with open_websocket_url(server.ws_url) as ws:
        await ws.send_message(b"\x00\x01")
        await closed_with(ws)
    text = (await http(server.port, "GET", "/metrics")).body.decode()
    assert 'balto_auth_failures_total{reason="unknown_fields"} 1.0' in text
    assert 'balto_auth_failures_total{reason="audio_before_auth"} 1.0' in text


async def test_audio_before_auth_closes_1008(server):
    async with open_websocket_url(server.ws_url) as ws:
        await ws.send_message(b"\x00\x01" * 100)
        closed = await closed_with(ws)
        assert closed.reason.code == 1008


async def test_auth_timeout_closes_1008(nursery, tmp_path):
    running = await start_server(
        nursery, tmp_path, lambda: ScriptedTranscriber([]), auth_timeout_s=0.3
    )
    async with open_websocket_url(running.ws_url) as ws:
        closed = await closed_with(ws)
        assert closed.reason.code == 1008 and "Tempo" in closed.reason.reason
    running.lifecycle.stop()


async def test_bad_messages_get_erro_and_socket_stays_open(server):
    _, api_key = await register(server.port)
    async with open_websocket_url(server.ws_url) as ws:
        await auth(ws, api_key)
        for text, fragment, code in [
            ("isto não é json", "JSON", "json_invalido"),
            ('{"comando": "voar"}', "Comando desconhecido", "comando_desconhecido"),
            (
                '{"comando": "feedback", "id_interacao": "nao-existe", '
                '"resultado": "venda_perdida"}',
                "desconhecida",
                "feedback_recusado",
            ),
            (
                '{"comando": "feedback", "id_interacao": "x", "resultado": "talvez"}',
                "Resultado inválido",
                "resultado_invalido",
            ),
        ]:
            await ws.send_message(text)
            reply = await next_json(ws)
            assert reply["comando"] == "erro" and fragment in reply["mensagem"]
            assert reply["codigo"] == code
        await ws.send_message(b"\x01")  # odd-length audio is fine, too
        await ws.send_message('{"comando": "voar"}')
        assert (await next_json(ws))["comando"] == "erro"


@needs_espeak
async def test_speech_to_recommendation_to_feedback(server, scripted):
    scripted.texts.extend(["Estou com uma dor nas costas terrível."] * 10)
    _, api_key = await register(server.port)
    audio = np.concatenate(
        [silence(0.5), synthesize("Estou com uma dor nas costas terrível."), silence(1.5)]
    )
    pcm = to_pcm16(audio)
    async with open_websocket_url(server.ws_url) as ws:
        await auth(ws, api_key)
        for offset in range(0, len(pcm), 3201):  # odd-sized frames, faster than real time
            await ws.send_message(pcm[offset : offset + 3201])
        rec = await next_json(ws)
        assert rec["comando"] == "recomendar" and rec["mensagem"].startswith("Sugerir")
        assert rec["id_interacao"]
        await ws.send_message(feedback(rec["id_interacao"], "venda_realizada"))
        ack = await next_json(ws)
        assert ack == {
            "comando": "feedback_ok",
            "id_interacao": rec["id_interacao"],
            "resultado": "venda_realizada",
        }
        await ws.send_message(feedback(rec["id_interacao"], "venda_perdida"))
        again = await next_json(ws)
        assert again["comando"] == "erro" and "já registrado" in again["mensagem"]
        assert again["codigo"] == "feedback_ja_registrado"  # what a client tests, not the text
        # the cooldown: the repeated complaint in later decodes gave no second recommendation
        with trio.move_on_after(0.5):
            extra = await ws.get_message()
            pytest.fail(f"unexpected message {extra}")
    db = server.database()
    row = db.interacao(rec["id_interacao"])
    db.close()
    assert row["resultado"] == "venda_realizada" and row["transcricao"] is None
    assert "costas" in row["gatilho"]
    # the decoder got the cliente's language and no vocabulary prompt (it leaks into text)
    assert scripted.calls
    assert {(options.language, options.prompt) for _, options in scripted.calls} == {("pt", "")}
    # cost accounting: the utterance counted once as speech (pre-roll and tail included)
    text = (await http(server.port, "GET", "/metrics")).body.decode()
    spoken_s = len(audio) / 16_000 - 2.0
    speech_s = float(text.split("\nbalto_speech_seconds_total ")[1].split()[0])
    assert spoken_s <= speech_s <= spoken_s + 1.2
    assert "\nbalto_asr_cpu_seconds_total " in text


async def test_another_counters_interaction_is_unknown(server):
    codigo, key_a = await register(server.port)
    from tests.helpers import http

    r = await http(
        server.port, "POST", "/cadastro/balcao", {"nome_balcao": "Loja 02", "user_codigo": codigo}
    )
    key_b = r.json()["api_key"]
    db = server.database()
    balcao_a = db.authenticate(key_a)
    iid = db.create_interacao(
        balcao_a.id, regra="r", categoria="c", mensagem="m", produto="p", gatilho="g"
    )
    db.close()
    async with open_websocket_url(server.ws_url) as ws:
        await auth(ws, key_b)
        await ws.send_message(feedback(iid, "venda_realizada"))
        reply = await next_json(ws)
        assert reply["comando"] == "erro" and "desconhecida" in reply["mensagem"]
        assert reply["codigo"] == "feedback_recusado"


async def test_graceful_shutdown_closes_with_1001(nursery, tmp_path):
    running = await start_server(nursery, tmp_path, lambda: ScriptedTranscriber([]))
    _, api_key = await register(running.port)
    async with open_websocket_url(running.ws_url) as ws:
        await auth(ws, api_key)
        running.lifecycle.stop()
        closed = await closed_with(ws)
        assert closed.reason.code == 1001
    with pytest.raises(OSError):
        await trio.open_tcp_stream("127.0.0.1", running.port)


async def test_session_outlives_the_http_request_deadline(nursery, tmp_path):
    running = await start_server(
        nursery, tmp_path, lambda: ScriptedTranscriber([]), request_timeout_s=0.2
    )
    _, api_key = await register(running.port)
    async with open_websocket_url(running.ws_url) as ws:
        await auth(ws, api_key)
        await trio.sleep(0.6)
        await ws.send_message('{"comando": "voar"}')
        assert (await next_json(ws))["comando"] == "erro"
    running.lifecycle.stop()


@needs_espeak
async def test_windowed_decodes_of_one_complaint_are_read_whole(nursery, tmp_path):
    """With windowed decodes (ASR_WINDOW_OVERLAP_S) each decode hears only what the last one
    did not: a complaint split between two windows still reaches the detector whole."""
    scripted = ScriptedTranscriber(["Estou com uma dor", "nas costas terrível."])
    running = await start_server(
        nursery,
        tmp_path,
        lambda: scripted,
        scripted,
        asr_interim_every_s=0.0,
        asr_pause_interim_s=0.3,
        asr_pause_interim_min_s=0.5,
        asr_window_overlap_s=0.5,
        store_transcripts=True,
    )
    _, api_key = await register(running.port)
    speech = [synthesize("Estou com uma dor."), silence(0.45), synthesize("Nas costas, terrível.")]
    pcm = to_pcm16(np.concatenate([silence(0.5), *speech, silence(1.5)]))
    async with open_websocket_url(running.ws_url) as ws:
        await auth(ws, api_key)
        for offset in range(0, len(pcm), 3200):
            await ws.send_message(pcm[offset : offset + 3200])
        rec = await next_json(ws)
        assert rec["comando"] == "recomendar" and "Dorflex" in rec["mensagem"]
    assert len(scripted.calls) >= 2  # the complaint was heard in two windows
    row = running.database().interacao(rec["id_interacao"])
    assert row["transcricao"] == "Estou com uma dor nas costas terrível."
    running.lifecycle.stop()


class SlowScript(ScriptedTranscriber):
    """A scripted transcriber that holds its worker 0.1 s per decode, as whisper.cpp would."""

    def transcribe(self, audio, options):
        time.sleep(0.1)
        return super().transcribe(audio, options)


CHUNK_SAMPLES = 1_600


def decodes_offline(audio: np.ndarray, policy: DecodePolicy) -> int:
    """How many decodes a counter pipeline under ``policy`` runs on ``audio`` heard live in
    0.1 s frames, each decode done before the next frame (``balto transcrever``'s driver)."""
    counting = ScriptedTranscriber([])
    pipeline = counter_pipeline(CounterConfig(), default_rules(), "pt", policy=policy)
    transcribe_audio(audio, counting, pipeline)
    return len(counting.calls)


@needs_espeak
@pytest.mark.parametrize(
    ("economy_load", "policy"), [(0.01, ECONOMY_POLICY), (0.0, DecodePolicy())]
)
async def test_a_busy_pool_switches_counters_to_the_economy_policy(
    nursery, tmp_path, economy_load, policy
):
    """ASR_ECONOMY_LOAD: once the workers were busy that share of the time (here from the
    greeting's decode on), a counter decodes the next utterance by the economy policy: no
    periodic interims, and no final after a pause decode that heard all its speech. 0 keeps
    the full policy (growing interims, every final) whatever the load."""
    scripted = SlowScript(["Bom dia.", "Estou com uma dor nas costas"])  # then silence
    running = await start_server(
        nursery, tmp_path, lambda: scripted, scripted, asr_economy_load=economy_load
    )
    _, api_key = await register(running.port)
    complaint = "Estou com uma dor nas costas muito forte desde ontem de manhã e não durmo"
    audio = np.concatenate(
        [silence(0.5), synthesize("Bom dia."), silence(2.0), synthesize(complaint), silence(1.5)]
    )
    expected = decodes_offline(audio, policy)
    assert decodes_offline(audio, ECONOMY_POLICY) < decodes_offline(audio, DecodePolicy())
    pcm = to_pcm16(audio)
    async with open_websocket_url(running.ws_url) as ws:
        await auth(ws, api_key)
        start = trio.current_time()
        for k, offset in enumerate(range(0, len(pcm), 2 * CHUNK_SAMPLES)):
            await trio.sleep_until(start + k * CHUNK_SAMPLES / 16_000)  # in real time
            await ws.send_message(pcm[offset : offset + 2 * CHUNK_SAMPLES])
        rec = await next_json(ws)
        assert rec["comando"] == "recomendar" and "Dorflex" in rec["mensagem"]
        await trio.sleep(1.0)  # the stream's last decode (0.1 s) runs meanwhile
    assert len(scripted.calls) == expected
    result = await http(running.port, "GET", "/metrics")
    assert f"balto_asr_economy {float(economy_load > 0)}" in result.body.decode()
    running.lifecycle.stop()
