"""Fuzzing a live server through real sockets (hypothesis).

The sans-IO fuzzers (test_fuzz.py) never reached the crash that ended the process: it was at
the task boundary, where a decoded value met the database. Here each example talks to a real
server *process* over real sockets: WebSocket messages (text and binary, before and after auth)
and raw HTTP requests. After each example the process must still be running, answer
``/health``, and serve a healthy counter on another socket its ``feedback_ok``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from trio_websocket import ConnectionClosed, HandshakeError, open_websocket_url

from balto.counter.store import Database
from tests.e2e.test_http import register
from tests.helpers import feedback, http


@dataclasses.dataclass
class Live:
    process: subprocess.Popen[bytes]
    port: int
    db_file: Path
    api_key: str

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    db_file = tmp_path_factory.mktemp("fuzz") / "registro.db"
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.robustness.fake_server", str(db_file)],
        stdout=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline().split()[1])
        _, api_key = trio.run(register, port)
        yield Live(process, port, db_file, api_key)
    finally:
        process.terminate()
        process.wait(10)


def new_interaction(live: Live) -> str:
    db = Database(live.db_file)
    try:
        balcao = db.authenticate(live.api_key)
        assert balcao is not None
        return db.create_interacao(
            balcao.id, regra="r", categoria="c", mensagem="m", produto="p", gatilho="g"
        )
    finally:
        db.close()


async def still_serving(live: Live) -> None:
    """The process lives, answers, serves a healthy counter, and stopped no bug on the way
    (a bug stopped at a boundary is counted: the fuzzer must not reach one either)."""
    assert live.process.poll() is None, "the server process ended"
    with trio.fail_after(10):
        assert (await http(live.port, "GET", "/health")).status == 200
        metrics = (await http(live.port, "GET", "/metrics")).body.decode()
        crashes = [line for line in metrics.splitlines() if line.startswith("balto_crashes_total")]
        assert crashes == [], crashes
        iid = await trio.to_thread.run_sync(new_interaction, live)
        async with open_websocket_url(live.ws_url) as ws:
            await ws.send_message(json.dumps({"comando": "auth", "api_key": live.api_key}))
            assert json.loads(await ws.get_message())["comando"] == "auth_ok"
            await ws.send_message(feedback(iid))
            assert json.loads(await ws.get_message())["comando"] == "feedback_ok"


# -- what the fuzzer sends --------------------------------------------------------------

NASTY_TEXT = ["\ud800", "\udfff", "\x00", "\r\n", "\x1b[2J", "\u202e", "９", "²", "", " " * 200]
strings = st.text(max_size=40) | st.sampled_from(NASTY_TEXT)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | strings
)
values = st.recursive(
    scalars, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(strings, kids, max_size=4)
)
commands = st.fixed_dictionaries(
    {"comando": st.sampled_from(["auth", "feedback", "recomendar", ""]) | values},
    optional={
        "api_key": values,
        "sample_rate": values,
        "id_interacao": values,
        "resultado": st.sampled_from(["venda_realizada", "venda_perdida"]) | values,
    },
)
literals = st.one_of(
    st.integers(4000, 6000).map(
        lambda n: '{"comando": "feedback", "id_interacao": ' + "9" * n + "}"
    ),
    st.integers(4000, 6000).map(
        lambda n: '{"comando": "auth", "api_key": "k", "sample_rate": 1' + "0" * n + "}"
    ),
    st.integers(100, 60_000).map(lambda n: "[" * n + "]" * n),
    st.integers(100, 20_000).map(lambda n: '{"a":' * n + "1" + "}" * n),
    st.sampled_from(["NaN", "1e999", '{"comando": "auth", "api_key": Infinity}']),
)
ws_messages = st.one_of(
    commands.map(json.dumps),  # ensure_ascii: lone surrogates travel as \\ud800 escapes
    literals,
    st.text(max_size=200),
    st.binary(max_size=4000),
)


async def websocket_example(live: Live, authenticate: bool, messages: list[str | bytes]) -> None:
    with trio.fail_after(10):
        try:
            async with open_websocket_url(live.ws_url) as ws:
                if authenticate:
                    await ws.send_message(json.dumps({"comando": "auth", "api_key": live.api_key}))
                for message in messages:
                    await ws.send_message(message)
                with trio.move_on_after(0.2):
                    while True:
                        await ws.get_message()
        except (ConnectionClosed, HandshakeError, trio.BrokenResourceError):
            pass  # the server may end this socket: that is its right
    await still_serving(live)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(authenticate=st.booleans(), messages=st.lists(ws_messages, min_size=1, max_size=4))
def test_websocket_messages_never_stop_the_server(
    live: Live, authenticate: bool, messages: list[str | bytes]
) -> None:
    trio.run(websocket_example, live, authenticate, messages)


header_text = st.text(st.characters(min_codepoint=1, max_codepoint=255), max_size=30)
http_requests = st.builds(
    lambda method, path, headers, body, typed: (
        f"{method} {path} HTTP/1.1\r\nHost: x\r\n".encode("latin-1", "replace")
        + b"".join(f"{k}: {v}\r\n".encode("latin-1", "replace") for k, v in headers)
        + (b"Content-Type: application/json\r\n" if typed else b"")
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    ),
    method=st.sampled_from(["GET", "POST", "HEAD", "OPTIONS", "PUT", "DELETE"]) | header_text,
    path=st.sampled_from(["/health", "/metrics", "/cadastro/cliente", "/cadastro/balcao", "/ws"])
    | header_text,
    headers=st.lists(st.tuples(header_text, header_text), max_size=3),
    body=st.one_of(
        commands.map(lambda c: json.dumps(c).encode()),
        values.map(lambda v: json.dumps(v).encode()),
        literals.map(str.encode),
        st.binary(max_size=2000),
    ),
    typed=st.booleans(),
)


async def http_example(live: Live, request: bytes) -> None:
    with trio.fail_after(10):
        stream = await trio.open_tcp_stream("127.0.0.1", live.port)
        async with stream:
            with contextlib.suppress(trio.BrokenResourceError):
                await stream.send_all(request)
                with trio.move_on_after(0.5):
                    reply = await stream.receive_some(65536)
                    # a 5xx here would be a bug reached (the boundary answers 500)
                    assert not reply.startswith(b"HTTP/1.1 500"), reply
    await still_serving(live)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=http_requests)
def test_http_requests_never_stop_the_server(live: Live, request: bytes) -> None:
    trio.run(http_example, live, request)
