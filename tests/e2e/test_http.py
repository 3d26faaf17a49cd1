"""Registration and the HTTP surface through a real server and a real h11 client."""

import h11
import trio

from tests.helpers import http, request_on

CLIENTE = {
    "email": "contato@redepharma.com",
    "razao_social": "Rede Pharma LTDA",
    "telefone": "11999998888",
}


async def register(port: int, email: str = "contato@redepharma.com") -> tuple[str, str]:
    r = await http(port, "POST", "/cadastro/cliente", dict(CLIENTE, email=email))
    assert r.status == 201, r.body
    codigo = r.json()["codigo"]
    r = await http(
        port, "POST", "/cadastro/balcao", {"nome_balcao": "Loja 01 - Centro", "user_codigo": codigo}
    )
    assert r.status == 201, r.body
    return codigo, r.json()["api_key"]


async def test_registration_flow_as_the_seed(server):
    r = await http(server.port, "POST", "/cadastro/cliente", CLIENTE)
    assert r.status == 201
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    codigo = r.json()["codigo"]
    assert len(codigo) == 6 and codigo.isdigit()

    r = await http(server.port, "POST", "/cadastro/cliente", CLIENTE)
    assert r.status == 409 and r.json() == {"error": "Email ou código já existe..."}

    r = await http(
        server.port, "POST", "/cadastro/balcao", {"nome_balcao": "Loja 01", "user_codigo": codigo}
    )
    assert r.status == 201
    api_key = r.json()["api_key"]
    assert len(api_key) == 36 and api_key[14] == "4"

    wrong = f"{(int(codigo) + 1) % 1000000:06d}"
    r = await http(
        server.port, "POST", "/cadastro/balcao", {"nome_balcao": "Loja 02", "user_codigo": wrong}
    )
    assert r.status == 400 and r.json() == {"error": "Código de usuário inválido"}

    db = server.database()
    assert db.authenticate(api_key) is not None
    db.close()


async def test_bad_input_gets_precise_errors(server):
    port = server.port
    r = await http(
        port,
        "POST",
        "/cadastro/cliente",
        raw_body=b'{"email": ',
        headers=[("content-type", "application/json")],
    )
    assert r.status == 400 and "JSON malformado" in r.json()["error"]
    r = await http(
        port,
        "POST",
        "/cadastro/cliente",
        raw_body=b"email=a",
        headers=[("content-type", "application/x-www-form-urlencoded")],
    )
    assert r.status == 415
    r = await http(port, "POST", "/cadastro/cliente", dict(CLIENTE, telefone="123"))
    assert r.status == 400 and "telefone" in r.json()["error"]
    r = await http(
        port,
        "POST",
        "/cadastro/cliente",
        raw_body=b"x" * 70000,
        headers=[("content-type", "application/json")],
    )
    assert r.status == 413
    r = await http(port, "GET", "/cadastro/cliente")
    assert r.status == 405 and r.headers["allow"] == "POST"
    r = await http(port, "GET", "/nao-existe")
    assert r.status == 404 and "error" in r.json()
    r = await http(port, "GET", "/ws")
    assert r.status == 426
    # the server still serves after all that
    await register(port)


async def test_keep_alive_and_pipelining(server):
    stream = await trio.open_tcp_stream("127.0.0.1", server.port)
    async with stream:
        conn = h11.Connection(h11.CLIENT)
        for _ in range(3):
            r = await request_on(stream, conn, "GET", "/health")
            assert r.status == 200
            conn.start_next_cycle()
        # two requests in one write: both answered, in order
        await stream.send_all(
            b"GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        data = b""
        with trio.fail_after(5):
            while data.count(b"HTTP/1.1 ") < 2:
                data += await stream.receive_some(65536)
        assert data.index(b"200 ") < data.index(b"404 ")


async def test_malformed_request_line_gets_400_and_close(server):
    stream = await trio.open_tcp_stream("127.0.0.1", server.port)
    async with stream:
        await stream.send_all(b"BLAH\r\n\r\n")
        data = b""
        with trio.fail_after(5):
            while chunk := await stream.receive_some(65536):
                data += chunk
        assert data.startswith(b"HTTP/1.1 400 ")


async def test_expect_100_continue_like_curl(server):
    body = b'{"email": "x@y.com.br", "razao_social": "R", "telefone": "11999998888"}'
    stream = await trio.open_tcp_stream("127.0.0.1", server.port)
    async with stream:
        await stream.send_all(
            b"POST /cadastro/cliente HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body)
        )
        with trio.fail_after(5):
            interim = await stream.receive_some(65536)
        assert interim.startswith(b"HTTP/1.1 100 ")
        await stream.send_all(body)
        with trio.fail_after(5):
            final = await stream.receive_some(65536)
        assert final.startswith(b"HTTP/1.1 201 ")


async def test_health_and_metrics(server):
    r = await http(server.port, "GET", "/health")
    body = r.json()
    assert r.status == 200 and body["version"] and body["uptime_s"] >= 0
    # the recognizer loads beside the listener: "iniciando" until it is ready, then "ok"
    assert body["status"] == ("ok" if body["recognizer_ready"] else "iniciando")
    await register(server.port)
    r = await http(server.port, "GET", "/metrics")
    assert r.status == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.body.decode()
    assert (
        "balto_http_request_duration_seconds_count"
        '{method="POST",route="/cadastro/cliente",status="201"} 1.0'
        in text
    )
    assert "balto_audio_received_seconds_total" in text


async def test_slow_headers_get_408(nursery, tmp_path):
    from tests.conftest import start_server
    from tests.helpers import ScriptedTranscriber

    running = await start_server(
        nursery, tmp_path, lambda: ScriptedTranscriber([]), request_timeout_s=0.3
    )
    stream = await trio.open_tcp_stream("127.0.0.1", running.port)
    async with stream:
        await stream.send_all(b"POST /cadastro/cliente HTTP/1.1\r\nHost: x\r\n")  # never finished
        data = b""
        with trio.fail_after(5):
            while chunk := await stream.receive_some(65536):
                data += chunk
        assert data.startswith(b"HTTP/1.1 408 ")
    running.lifecycle.stop()
