#!/usr/bin/env python3
"""End-to-end test of a running Balto server, as the seed describes it.

Registers a cliente and a balcão, authenticates on the WebSocket, streams speech in real time,
waits for the recommendation and sends the feedback. Exits non-zero on any failure.

    python auto_test.py --base-url http://localhost:8765 [--wav fala.wav]

Without --wav it synthesises a Portuguese complaint: in a natural voice (Kokoro, from the
project's ``bench.speech``) when run from the repository with the test dependencies installed,
otherwise with espeak-ng's robot voice. Needs `requests` and `websockets` (pip install requests
websockets).
"""

from __future__ import annotations

import argparse
import array
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
import wave
from io import BytesIO
from pathlib import Path

import requests
from websockets.exceptions import WebSocketException
from websockets.sync.client import connect

DEFAULT_SENTENCE = "Boa tarde. Estou com muita dor nas costas."
CHUNK_S = 0.1


class Failure(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Failure(message)
    print(f"  ok  {message}")


def load_wav(data: bytes) -> tuple[bytes, int]:
    """16-bit PCM mono of any rate (stereo is mixed down); the server resamples."""
    with wave.open(BytesIO(data)) as wav:
        if wav.getsampwidth() != 2:
            raise Failure("o WAV deve ser PCM de 16 bits (converta com: sox in.wav -b 16 out.wav)")
        rate, channels = wav.getframerate(), wav.getnchannels()
        samples = array.array("h", wav.readframes(wav.getnframes()))
    if sys.byteorder == "big":
        samples.byteswap()
    if channels > 1:
        samples = array.array(
            "h",
            (sum(samples[i : i + channels]) // channels for i in range(0, len(samples), channels)),
        )
    out = samples.tobytes() if sys.byteorder == "little" else _swapped(samples)
    return out, rate


def _swapped(samples: array.array[int]) -> bytes:
    copy = array.array("h", samples)
    copy.byteswap()
    return copy.tobytes()


def synthesize(sentence: str) -> tuple[bytes, int]:
    """16 kHz PCM of ``sentence``: the natural test voice if available, else espeak-ng."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    try:
        from bench import speech
    except ImportError:
        speech = None
    finally:
        sys.path.pop(0)
    if speech is not None and speech.natural_available():
        print(f"  voz natural: {speech.default_voice()}")
        return speech.to_pcm16(speech.synthesize(sentence)), speech.SAMPLE_RATE_HZ
    print("  voz: espeak-ng (instale as dependências de teste para a voz natural)")
    if not shutil.which("espeak-ng"):
        raise Failure("espeak-ng não encontrado: instale-o ou use --wav")
    wav = subprocess.run(
        ["espeak-ng", "-v", "pt-br", "-s", "150", "--stdout", sentence],
        capture_output=True,
        check=True,
    ).stdout
    return load_wav(wav)


def stream(ws, pcm: bytes, rate: int) -> None:
    """Send the audio in real time, then 1.5 s of silence so the utterance ends."""
    step = int(rate * CHUNK_S) * 2
    silence = bytes(int(rate * 1.5) * 2)
    started = time.monotonic()
    for sent, offset in enumerate(range(0, len(pcm + silence), step)):
        ws.send((pcm + silence)[offset : offset + step])
        delay = started + (sent + 1) * CHUNK_S - time.monotonic()
        if delay > 0:
            time.sleep(delay)


def receive_until(ws, comando: str, timeout_s: float) -> dict:
    deadline = time.monotonic() + timeout_s
    while (left := deadline - time.monotonic()) > 0:
        try:
            message = json.loads(ws.recv(timeout=left))
        except TimeoutError:
            break
        print(f"  <-  {message}")
        if message.get("comando") == comando:
            return message
    raise Failure(f"nenhuma mensagem '{comando}' em {timeout_s:.0f} s")


def run(base_url: str, wav_path: str | None, timeout_s: float) -> None:
    base_url = base_url.rstrip("/")
    email = f"auto-{uuid.uuid4().hex[:10]}@teste.com.br"
    print(f"servidor: {base_url}")

    r = requests.post(
        f"{base_url}/cadastro/cliente",
        json={"email": email, "razao_social": "Rede Teste LTDA", "telefone": "11999998888"},
        timeout=10,
    )
    check(r.status_code == 201, f"POST /cadastro/cliente → 201 ({r.status_code})")
    codigo = r.json()["codigo"]
    check(len(codigo) == 6 and codigo.isdigit(), f"codigo de 6 dígitos: {codigo}")

    r = requests.post(
        f"{base_url}/cadastro/cliente",
        json={"email": email, "razao_social": "Outra", "telefone": "11999998888"},
        timeout=10,
    )
    check(r.status_code == 409, f"e-mail repetido → 409 ({r.status_code})")

    wrong = f"{(int(codigo) + 1) % 1_000_000:06d}"
    r = requests.post(
        f"{base_url}/cadastro/balcao", json={"nome_balcao": "X", "user_codigo": wrong}, timeout=10
    )
    check(r.status_code in (400, 429), f"código errado → 400 ({r.status_code})")

    r = requests.post(
        f"{base_url}/cadastro/balcao",
        json={"nome_balcao": "Loja 01 - Centro", "user_codigo": codigo},
        timeout=10,
    )
    check(r.status_code == 201, f"POST /cadastro/balcao → 201 ({r.status_code})")
    api_key = r.json()["api_key"]

    ws_url = base_url.replace("http", "ws", 1) + "/ws"
    with connect(ws_url, open_timeout=10) as ws:
        pcm, rate = (
            load_wav(Path(wav_path).read_bytes()) if wav_path else synthesize(DEFAULT_SENTENCE)
        )
        ws.send(json.dumps({"comando": "auth", "api_key": api_key, "sample_rate": rate}))
        receive_until(ws, "auth_ok", 10)
        check(True, "autenticado")
        print(f"  ->  {len(pcm) / 2 / rate:.1f} s de áudio a {rate} Hz, em tempo real")
        stream(ws, pcm, rate)
        rec = receive_until(ws, "recomendar", timeout_s)
        check(
            bool(rec.get("id_interacao")) and bool(rec.get("mensagem")),
            f"recomendação: {rec['mensagem']}",
        )
        ws.send(
            json.dumps(
                {
                    "comando": "feedback",
                    "id_interacao": rec["id_interacao"],
                    "resultado": "venda_realizada",
                }
            )
        )
        receive_until(ws, "feedback_ok", 10)
        check(True, "feedback registrado")
        ws.send(
            json.dumps(
                {
                    "comando": "feedback",
                    "id_interacao": rec["id_interacao"],
                    "resultado": "venda_perdida",
                }
            )
        )
        erro = receive_until(ws, "erro", 10)
        check("já registrado" in erro["mensagem"], "feedback repetido → erro, conexão aberta")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base-url", default=os.environ.get("BASE_URL", "http://localhost:8765"))
    parser.add_argument(
        "--wav", help="WAV 16-bit (mono ou estéreo, qualquer taxa) com a fala do cliente"
    )
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="espera máxima pela recomendação (s)"
    )
    args = parser.parse_args()
    try:
        run(args.base_url, args.wav, args.timeout)
    except (Failure, requests.RequestException, WebSocketException, OSError) as exc:
        print(f"FALHOU: {exc}", file=sys.stderr)
        return 1
    print("PASSOU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
