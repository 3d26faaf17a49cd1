"""The smaller holes an outside attack found: framing, text fields, close frames, shutdown."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

import pytest
import trio
from trio_websocket import open_websocket_url

from balto.core.errors import BadRequest
from balto.counter.cadastro.validate import parse_cliente
from tests.conftest import start_server
from tests.e2e.test_counter_ws import closed_with
from tests.e2e.test_http import CLIENTE
from tests.helpers import ScriptedTranscriber, http


async def raw_exchange(port: int, data: bytes, wait_s: float = 3.0) -> tuple[bytes, bool]:
    """Send ``data``; return everything received and whether the server closed."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    received = b""
    closed = False
    async with stream:
        await stream.send_all(data)
        with trio.move_on_after(wait_s):
            while chunk := await stream.receive_some(65536):
                received += chunk
            closed = True
    return received, closed


async def test_content_length_with_transfer_encoding_is_refused_and_closed(server):
    """RFC 9112 §6.1: reject, and close whatever we answered (request smuggling)."""
    request = (
        b"POST /cadastro/cliente HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    received, closed = await raw_exchange(server.port, request)
    assert received.startswith(b"HTTP/1.1 400 ")
    assert b"Transfer-Encoding" in received and received.count(b"HTTP/1.1") == 1
    assert closed


async def test_head_is_served_by_get_without_a_body(server):
    get = await http(server.port, "GET", "/health")
    received, _ = await raw_exchange(
        server.port, b"HEAD /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ") and body == b""
    assert b"content-length: " in head and get.status == 200


@pytest.mark.parametrize("telefone", ["1199999888²", "١١٩٩٩٩٩٨٨٨٨", "１１９９９９９８８８８"])
def test_telefone_takes_ascii_digits_only(telefone: str) -> None:
    with pytest.raises(BadRequest, match="telefone"):
        parse_cliente(dict(CLIENTE, telefone=telefone))


@pytest.mark.parametrize(
    "razao", ["Rede\x00Pharma", "Rede\r\nX-Injected: 1", "Rede\x1b[2JPharma", "Rede \u202eamrahP"]
)
def test_text_fields_refuse_control_characters(razao: str) -> None:
    with pytest.raises(BadRequest, match="controle"):
        parse_cliente(dict(CLIENTE, razao_social=razao))


def test_ordinary_text_still_passes() -> None:
    parsed = parse_cliente(dict(CLIENTE, razao_social="Drogaria São João — Filial 2"))
    assert parsed.razao_social == "Drogaria São João — Filial 2"


def masked_frame(opcode_byte: int, payload: bytes) -> bytes:
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes((opcode_byte, 0x80 | len(payload))) + mask + masked


async def websocket_close_code(port: int, frame: bytes) -> int | None:
    """Handshake by hand, send ``frame``, return the close code the server sends."""
    key = base64.b64encode(os.urandom(16))
    handshake = (
        b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        await stream.send_all(handshake)
        received = b""
        with trio.fail_after(5):
            while b"\r\n\r\n" not in received:
                received += await stream.receive_some(4096)
            assert received.startswith(b"HTTP/1.1 101")
            received = received.partition(b"\r\n\r\n")[2]
            await stream.send_all(frame)
            while chunk := await stream.receive_some(4096):
                received += chunk
    if len(received) >= 4 and received[0] == 0x88:
        return int.from_bytes(received[2:4], "big")
    return None


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (masked_frame(0x81, b"\xff\xfe not utf-8"), 1007),  # a text frame that is not UTF-8
        (masked_frame(0x83, b"x"), 1002),  # a reserved opcode
        (masked_frame(0xC1, b"{}"), 1002),  # RSV1 set without an extension
    ],
    ids=["invalid-utf8", "reserved-opcode", "rsv1"],
)
async def test_websocket_protocol_errors_get_their_close_frame(server, frame, code):
    assert await websocket_close_code(server.port, frame) == code


async def test_unauthenticated_socket_is_closed_1001_at_shutdown_at_once(nursery, tmp_path):
    running = await start_server(
        nursery, tmp_path, lambda: ScriptedTranscriber([]), shutdown_grace_s=30.0
    )
    async with open_websocket_url(running.ws_url) as ws:
        await trio.sleep(0.1)  # the session is waiting for its auth message
        running.lifecycle.stop()
        closed = await closed_with(ws, wait_s=3)
    assert closed.reason.code == 1001


def test_an_unusable_database_is_one_clear_line(tmp_path):
    blocker = tmp_path / "arquivo"
    blocker.write_text("not a folder")
    env = dict(os.environ, DB_FILE=str(blocker / "registro.db"), PORT="0")
    done = subprocess.run(
        [sys.executable, "-m", "balto", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("erro:")]
    assert len(errors) == 1 and "banco de dados" in errors[0]
    assert "Traceback" not in done.stderr
    assert json.dumps(done.stderr).count("\\n") < 5
