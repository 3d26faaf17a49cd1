"""The sans-IO task registry: transitions, payloads, replay decisions and retention."""

from __future__ import annotations

from itertools import count

import pytest

from balto.core.errors import NotFound
from balto.partnumber.classify.models import Classification, ClassifyRequest, Progress
from balto.partnumber.tasks import FINISHED_EVENT, STATUS_EVENT, TaskRegistry, TaskState
from tests.partnumber.doubles import ScriptedClassifier


def registry(**kwargs: object) -> TaskRegistry:
    ids = count()
    return TaskRegistry(new_id=lambda: f"id{next(ids)}", **kwargs)  # type: ignore[arg-type]


def result_for(partnumber: str = "PN-1") -> Classification:
    return ScriptedClassifier(steps=[]).classify(ClassifyRequest(partnumber), lambda p: None)


def test_lifecycle_and_payloads() -> None:
    tasks = registry()
    task = tasks.create(ClassifyRequest("PN-1", "Cabo USB"), 0.0, socket_session_id="s1")
    assert (task.task_id, task.room_id, task.state) == ("id0", "id1", TaskState.QUEUED)
    assert tasks.by_room("id1") is task and tasks.get("id0") is task
    assert tasks.replay("id1", already_member=False) == []  # nothing happened yet
    tasks.start(task.task_id)
    assert task.state is TaskState.PROCESSING
    (emission,) = tasks.progress(task.task_id, Progress(2, 5, "Analisando dados..."))
    assert emission == (
        STATUS_EVENT,
        {
            "task_id": "id0",
            "current": "2",
            "total": "5",
            "status": "processing",
            "message": "Analisando dados...",
        },
    )
    ((event, payload),) = tasks.finish(task.task_id, result_for(), 3.0)
    assert event == FINISHED_EVENT and payload["status"] == "done"
    assert payload["classification"] == {
        "code": "8471.30",
        "description": "Máquinas automáticas portáteis para processamento de dados",
        "score": 0.91,
    }
    assert task.state is TaskState.DONE and task.finished_at == 3.0
    # Exactly once: later reports and results are dropped.
    assert tasks.progress(task.task_id, Progress(5, 5, "tarde")) == []
    assert tasks.finish(task.task_id, result_for(), 4.0) == []
    assert tasks.fail(task.task_id, "x", 4.0) == []
    assert task.snapshot()["state"] == "done" and task.snapshot()["result"] == payload


def test_replay_decisions() -> None:
    tasks = registry()
    task = tasks.create(ClassifyRequest("PN-1"), 0.0)
    tasks.progress(task.task_id, Progress(1, 3, "um"))
    tasks.progress(task.task_id, Progress(2, 3, "dois"))
    (latest,) = tasks.replay(task.room_id, already_member=False)
    assert latest[0] == STATUS_EVENT and latest[1]["current"] == "2"  # only the latest
    assert tasks.replay(task.room_id, already_member=True) == []
    tasks.finish(task.task_id, result_for(), 1.0)
    # Ended: the final state only, not the stale "processing 2/3" before it.
    assert [e for e, _ in tasks.replay(task.room_id, already_member=False)] == [FINISHED_EVENT]
    assert tasks.replay("another-room", already_member=False) == []


def test_replay_of_a_failed_task_is_its_failed_status_and_result() -> None:
    tasks = registry()
    task = tasks.create(ClassifyRequest("PN-1"), 0.0)
    tasks.progress(task.task_id, Progress(1, 3, "um"))
    tasks.fail(task.task_id, "quebrou", 1.0)
    replayed = tasks.replay(task.room_id, already_member=False)
    assert [(e, p["status"]) for e, p in replayed] == [
        (STATUS_EVENT, "failed"),
        (FINISHED_EVENT, "failed"),
    ]


def test_failure_emits_failed_status_then_failed_result() -> None:
    tasks = registry()
    task = tasks.create(ClassifyRequest("PN-9", "Parafuso"), 0.0)
    tasks.progress(task.task_id, Progress(1, 4, "um"))
    (status_event, status), (finished_event, result) = tasks.fail(task.task_id, "falhou", 2.0)
    assert status_event == STATUS_EVENT and finished_event == FINISHED_EVENT
    assert status == {
        "task_id": task.task_id,
        "current": "1",
        "total": "4",
        "status": "failed",
        "message": "falhou",
    }
    assert result["status"] == "failed" and result["classification"] is None
    assert result["partnumber"] == "PN-9" and result["description"] == "Parafuso"
    assert task.state is TaskState.FAILED


def test_retention_and_cap() -> None:
    tasks = registry(retention_s=10.0, max_finished=2)
    made = [tasks.create(ClassifyRequest(f"PN-{n}"), float(n)) for n in range(4)]
    for n, task in enumerate(made[:3]):
        tasks.finish(task.task_id, result_for(), float(n))
    assert tasks.prune(5.0) == [made[0].task_id]  # over the cap: the oldest finished goes
    assert tasks.by_room(made[0].room_id) is None
    assert tasks.prune(11.5) == [made[1].task_id]  # finished at 1.0, retention 10 s
    assert tasks.prune(100.0) == [made[2].task_id]
    assert [t.task_id for t in made if tasks.get(t.task_id)] == [made[3].task_id]  # unfinished


def test_unknown_task_is_not_found() -> None:
    with pytest.raises(NotFound):
        registry().progress("nope", Progress(1, 1, "x"))
