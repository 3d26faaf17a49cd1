"""The service over a real loopback server: REST, Socket.IO events, late join and replay."""

from __future__ import annotations

import threading

import pytest
import trio

from balto.core.config import ConfigError
from balto.core.errors import BadRequest
from balto.partnumber.config import PartnumberConfig
from tests.helpers import http
from tests.partnumber.conftest import PartnumberServer, start_partnumber
from tests.partnumber.doubles import STEPS, ScriptedClassifier
from tests.partnumber.eio_client import PollingClient
from tests.partnumber.support import PN, post_task, wait_state


async def test_post_accepts_and_the_task_runs(pn_server: PartnumberServer) -> None:
    accepted = await post_task(pn_server, dict(PN, manufacturer="Dell", supplier=""))
    assert set(accepted) == {"message", "task_id", "room_id"}
    assert accepted["task_id"] != accepted["room_id"]
    assert "aceito" in accepted["message"]
    snapshot = await wait_state(pn_server, accepted["task_id"], "done")
    assert snapshot["room_id"] == accepted["room_id"]
    assert snapshot["status"] == {
        "task_id": accepted["task_id"],
        "current": "3",
        "total": "3",
        "status": "processing",
        "message": STEPS[-1],
    }
    result = snapshot["result"]
    assert isinstance(result, dict)
    assert result["status"] == "done" and result["partnumber"] == "PN-TEST-12345"
    assert result["classification"]["code"] == "8471.30"
    assert [c["code"] for c in result["candidates"]] == ["8471.30", "8471.41"]
    classifier = pn_server.classifier
    assert isinstance(classifier, ScriptedClassifier)
    assert classifier.requests[0].manufacturer == "Dell"
    assert classifier.requests[0].supplier is None  # empty optional fields are absent


async def test_bad_requests_are_400_with_a_portuguese_error(pn_server: PartnumberServer) -> None:
    port = pn_server.port
    cases: list[tuple[bytes, str]] = [
        (b'{"partnumber": ', "JSON malformado"),
        (b"", "vazio"),
        (b"[1, 2]", "objeto JSON"),
        (b'{"description": "x"}', "'partnumber' é obrigatório"),
        (b'{"partnumber": "   "}', "'partnumber' é obrigatório"),
        (b'{"partnumber": 123}', "'partnumber' deve ser texto"),
        (b'{"partnumber": "A", "description": ["x"]}', "'description' deve ser texto"),
        (b'{"partnumber": "' + b"9" * 101 + b'"}', "'partnumber' excede 100 caracteres"),
        (b'{"partnumber": "---"}', "Partnumber inválido"),
    ]
    for raw, fragment in cases:
        reply = await http(port, "POST", "/classify-partnumber", raw_body=raw)
        assert reply.status == 400, raw
        assert fragment in reply.json()["error"], (raw, reply.json())
    reply = await http(port, "GET", "/tasks/nao-existe")
    assert reply.status == 404 and "Tarefa não encontrada" in reply.json()["error"]
    reply = await http(port, "GET", "/classify-partnumber")
    assert reply.status == 405


async def test_engineio_request_errors(pn_server: PartnumberServer) -> None:
    port = pn_server.port
    reply = await http(port, "GET", "/socket.io/?EIO=4&transport=polling&sid=desconhecido")
    assert reply.status == 400 and "Invalid session" in reply.json()["error"]
    reply = await http(port, "GET", "/socket.io/?EIO=3&transport=polling")
    assert reply.status == 400 and "unsupported version" in reply.json()["error"]
    reply = await http(port, "POST", "/socket.io/?EIO=4&transport=polling", raw_body=b"40")
    assert reply.status == 400
    reply = await http(
        port,
        "GET",
        "/socket.io/?EIO=4&transport=polling",
        headers=[("origin", "http://evil.example")],
    )
    assert reply.status == 403


async def test_connected_pong_and_echo(pn_server: PartnumberServer) -> None:
    client = PollingClient(pn_server.port)
    with trio.fail_after(5):
        sid = await client.connect()
        assert await client.until("connected") == [{"socket_session_id": sid}]
        await client.emit("ping_event", {"qualquer": 1})
        assert await client.until("pong_event") == [{"message": "pong"}]
        await client.emit("message", "olá, servidor")
        assert await client.until("message") == ["olá, servidor"]
        await client.close()


async def test_late_join_replays_the_final_state_only(pn_server: PartnumberServer) -> None:
    client = PollingClient(pn_server.port)
    with trio.fail_after(5):
        sid = await client.connect()
        accepted = await post_task(pn_server, dict(PN, socket_session_id=sid))
        await wait_state(pn_server, accepted["task_id"], "done")  # finished before the join
        await client.emit("join", {"room_id": accepted["room_id"]}, ack_id=7)
        finished = await client.until("classification_finished")
        assert finished[0]["status"] == "done" and finished[0]["task_id"] == accepted["task_id"]
        assert client.acks[7] == [{"status": "ok", "room_id": accepted["room_id"]}]
        # The final state only: no "processing 3/3" just before the result.
        assert not [name for name, _ in client.events if name.endswith("update_status")]
        # Joining again replays nothing: the socket is already subscribed.
        await client.emit("join", {"room_id": accepted["room_id"]}, ack_id=8)
        while 8 not in client.acks:
            await client.poll()
    names = [name for name, _ in client.events]
    assert names.count("classification_finished") == 1


async def test_join_mid_task_gets_latest_then_live_events(
    pn_server: PartnumberServer, scripted_classifier: ScriptedClassifier
) -> None:
    scripted_classifier.gate = threading.Event()
    client = PollingClient(pn_server.port)
    with trio.fail_after(5):
        await client.connect()
        accepted = await post_task(pn_server)
        await wait_state(pn_server, accepted["task_id"], "processing")
        await client.emit("join", {"room_id": accepted["room_id"]})
        first = await client.until("classification_update_status")
        assert (first[0]["current"], first[0]["status"]) == ("1", "processing")
        scripted_classifier.gate.set()
        await client.until("classification_finished")
    statuses = [a[0]["current"] for n, a in client.events if n == "classification_update_status"]
    assert statuses == ["1", "2", "3"]


async def test_failure_is_reported_as_failed(
    pn_server: PartnumberServer, scripted_classifier: ScriptedClassifier
) -> None:
    scripted_classifier.error = BadRequest("catálogo corrompido")
    client = PollingClient(pn_server.port)
    with trio.fail_after(5):
        await client.connect()
        accepted = await post_task(pn_server)
        await wait_state(pn_server, accepted["task_id"], "failed")
        await client.emit("join", accepted["room_id"])  # a bare string room id works too
        finished = (await client.until("classification_finished"))[0]
    assert finished["status"] == "failed" and finished["classification"] is None
    assert finished["message"] == "Falha na classificação: catálogo corrompido"
    status = [a[0] for n, a in client.events if n == "classification_update_status"][-1]
    assert status["status"] == "failed" and status["current"] == "3"


async def test_crash_in_classifier_is_a_generic_failure(
    pn_server: PartnumberServer, scripted_classifier: ScriptedClassifier
) -> None:
    scripted_classifier.error = RuntimeError("bug")
    accepted = await post_task(pn_server)
    snapshot = await wait_state(pn_server, accepted["task_id"], "failed")
    result = snapshot["result"]
    assert isinstance(result, dict)
    assert result["message"] == "Erro interno ao classificar o partnumber"


async def test_health(pn_server: PartnumberServer) -> None:
    reply = await http(pn_server.port, "GET", "/health")
    assert reply.status == 200 and reply.json()["status"] == "ok"


def test_cli_has_the_partnumber_serve_command() -> None:
    from balto.cli import build_parser, cmd_partnumber_serve

    args = build_parser().parse_args(
        ["partnumber", "serve", "--port", "5001", "--catalog", "c.csv", "--cors-origin", "*"]
    )
    assert args.func is cmd_partnumber_serve
    assert (args.port, str(args.catalog), args.cors_origin) == (5001, "c.csv", ["*"])
    assert build_parser().parse_args(["partnumber", "serve"]).port is None  # → 5000 / PORT


async def test_the_queue_limit_comes_from_the_config(nursery: trio.Nursery) -> None:
    """``PARTNUMBER_MAX_QUEUED_TASKS``: one task running, one waiting, the next is a 429 whose
    Retry-After a browser may read."""
    classifier = ScriptedClassifier()
    classifier.gate = threading.Event()
    server = await start_partnumber(nursery, classifier, max_queued_tasks=1)
    try:
        running = await post_task(server)
        await wait_state(server, running["task_id"], "processing")
        await post_task(server)
        reply = await http(
            server.port,
            "POST",
            "/classify-partnumber",
            PN,
            headers=[("origin", "http://localhost")],  # the helper sends Host: localhost
        )
        assert reply.status == 429 and reply.headers["retry-after"]
        assert reply.headers["access-control-expose-headers"] == "Retry-After"
    finally:
        classifier.gate.set()
        server.lifecycle.stop()


def test_max_queued_tasks_is_read_from_the_environment() -> None:
    config = PartnumberConfig.from_env({"PARTNUMBER_MAX_QUEUED_TASKS": "8"})
    assert config.max_queued_tasks == 8
    assert PartnumberConfig.from_env({}).max_queued_tasks == 64
    with pytest.raises(ConfigError):
        PartnumberConfig.from_env({"PARTNUMBER_MAX_QUEUED_TASKS": "0"})
