"""Fuzzing the sans-IO parsers: whatever arrives, they answer with our types, never crash.

Crashers found by hypothesis are pinned below as ``@example`` regression cases.
"""

import contextlib
import json

import trio
import trio.testing
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from balto.core.config import HttpConfig
from balto.core.errors import BadRequest, ClientError, MethodNotAllowed, NotFound
from balto.core.http.connection import HttpConnection
from balto.core.http.messages import Request, Response, json_response
from balto.core.http.router import Router
from balto.core.lifecycle import Lifecycle
from balto.counter.cadastro.validate import parse_balcao, parse_cliente
from balto.counter.detect import Detector, default_rules
from balto.counter.ws import protocol

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


@given(st.text())
@example('{"comando": "auth", "api_key": "\\u0000"}')
@example('{"comando": "auth", "api_key": "k", "sample_rate": 1e400}')
def test_first_message_always_gets_an_action(text):
    action = protocol.CounterProtocol().receive_text(text)
    assert isinstance(action, protocol.Authenticate | protocol.Close)


@given(st.one_of(st.text(), json_values.map(json.dumps)), st.binary(max_size=64))
def test_active_session_never_crashes(text, audio):
    proto = protocol.CounterProtocol()
    assert isinstance(
        proto.receive_text('{"comando": "auth", "api_key": "k"}'), protocol.Authenticate
    )
    proto.authenticated("Loja")
    assert isinstance(proto.receive_text(text), protocol.Reply | protocol.Feedback)
    assert isinstance(proto.receive_binary(audio), protocol.Audio)


@given(st.dictionaries(st.sampled_from(["email", "razao_social", "telefone", "x"]), json_values))
def test_cliente_validation_only_raises_bad_request(body):
    with contextlib.suppress(BadRequest):
        parse_cliente(body)


@given(st.dictionaries(st.sampled_from(["nome_balcao", "user_codigo", "y"]), json_values))
def test_balcao_validation_only_raises_bad_request(body):
    with contextlib.suppress(BadRequest):
        parse_balcao(body)


@given(st.binary(max_size=200), st.sampled_from(["application/json", "text/plain", ""]))
def test_json_bodies_only_raise_client_errors(body, content_type):
    request = Request("POST", "/", (("content-type", content_type),), body)
    with contextlib.suppress(ClientError):
        assert isinstance(request.json_object(), dict)


@given(st.text(max_size=10), st.text(max_size=60))
def test_router_answers_match_404_or_405(method, path):
    router = Router()

    async def handler(request: Request) -> Response:
        return Response(200)

    router.add("GET", "/tasks/{task_id}", handler)
    with contextlib.suppress(NotFound, MethodNotAllowed):
        router.resolve(method, path)


@settings(max_examples=60)
@given(st.text(max_size=300))
def test_detector_never_crashes(text):
    Detector(default_rules(), cooldown_s=1.0).detect(text, 0.0)


class EchoApp:
    async def handle_http(self, request: Request) -> Response:
        return json_response(200, {"path": request.path, "size": len(request.body)})

    def websocket_handler(self, request: Request):
        return None


http_noise = st.lists(
    st.one_of(
        st.binary(max_size=40),
        st.sampled_from(
            [
                b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n",
                b"Transfer-Encoding: chunked\r\n",
                b"\r\n",
                b"0\r\n\r\n",
                b"Upgrade: websocket\r\n",
                b"Content-Length: -1\r\n",
                b"HTTP/1.0\r\n",
                b"Expect: 100-continue\r\n",
            ]
        ),
    ),
    max_size=8,
)


@settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(http_noise)
def test_http_connection_survives_any_bytes(chunks):
    async def main() -> None:
        client, server = trio.testing.memory_stream_pair()
        config = HttpConfig(request_timeout_s=0.05, keepalive_timeout_s=0.05)
        connection = HttpConnection(server, EchoApp(), config, Lifecycle(), "fuzz")
        async with trio.open_nursery() as nursery:
            nursery.start_soon(connection.run)
            with contextlib.suppress(trio.BrokenResourceError):  # the server may hang up first
                for chunk in chunks:
                    await client.send_all(chunk)
                await client.send_eof()
            with trio.fail_after(5):
                while await client.receive_some(65536):
                    pass  # the server answers what it can, then closes

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
