"""Classification tasks, sans-IO: state, latest status, final result, replay on join.

The registry only decides *what* to send: each transition returns the Socket.IO
``(event, payload)`` emissions for the task's room, and :meth:`TaskRegistry.replay` those a
socket that joins the room must get privately. Nothing here does I/O or reads a clock.

Event payloads (Portuguese messages, ``current``/``total`` as strings like the API document):

* ``classification_update_status``: ``{"task_id", "current", "total", "status", "message"}``
  with ``status`` ``processing`` at each classifier step, or ``failed`` once on failure;
* ``classification_finished`` (exactly once per task): ``{"task_id", "partnumber",
  "description", "classification", "candidates", "confidence", "source", "message",
  "status"}`` with ``status`` ``done``, or ``failed`` (no classification, ``message`` says why).

Replay: a socket joining a task's room gets the latest status while the task runs; once it has
ended, only the final state: ``classification_finished`` (after the ``failed`` status when it
failed), never a ``processing`` status that is no longer true. A socket already in the room
gets nothing again: it has been receiving the live events since it joined.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from balto.core.errors import NotFound
from balto.partnumber.classify.models import Candidate, Classification, ClassifyRequest, Progress

__all__ = [
    "FINISHED_EVENT",
    "STATUS_EVENT",
    "Emission",
    "Task",
    "TaskRegistry",
    "TaskState",
    "replay_of",
]

STATUS_EVENT = "classification_update_status"
FINISHED_EVENT = "classification_finished"
DEFAULT_RETENTION_S = 3600.0
DEFAULT_MAX_FINISHED = 1000

Emission = tuple[str, dict[str, Any]]


class TaskState(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"


@dataclasses.dataclass(eq=False)
class Task:
    task_id: str
    room_id: str
    request: ClassifyRequest
    created_at: float
    socket_session_id: str | None = None
    state: TaskState = TaskState.QUEUED
    status: dict[str, Any] | None = None  # latest classification_update_status payload
    result: dict[str, Any] | None = None  # the classification_finished payload
    finished_at: float | None = None

    @property
    def ended(self) -> bool:
        return self.state in (TaskState.DONE, TaskState.FAILED)

    def snapshot(self) -> dict[str, Any]:
        """The JSON answer of ``GET /tasks/<task_id>``."""
        return {
            "task_id": self.task_id,
            "room_id": self.room_id,
            "partnumber": self.request.partnumber,
            "state": self.state.value,
            "status": self.status,
            "result": self.result,
        }


def candidate_payload(candidate: Candidate) -> dict[str, Any]:
    return {
        "code": candidate.code,
        "description": candidate.description,
        "score": round(candidate.score, 4),
    }


def _new_id() -> str:
    return str(uuid.uuid4())


class TaskRegistry:
    """Live and recently finished tasks. Finished tasks are kept ``retention_s`` seconds (for
    late joins and ``GET /tasks``), and at most ``max_finished`` of them (oldest go first)."""

    def __init__(
        self,
        *,
        retention_s: float = DEFAULT_RETENTION_S,
        max_finished: int = DEFAULT_MAX_FINISHED,
        new_id: Callable[[], str] = _new_id,
    ) -> None:
        self.retention_s = retention_s
        self.max_finished = max_finished
        self._new_id = new_id
        self._tasks: dict[str, Task] = {}  # insertion order = creation order
        self._rooms: dict[str, str] = {}  # room id → task id

    def __len__(self) -> int:
        return len(self._tasks)

    def get(self, task_id: str) -> Task | None:
        return self._tasks.get(task_id)

    def by_room(self, room_id: str) -> Task | None:
        task_id = self._rooms.get(room_id)
        return self._tasks.get(task_id) if task_id is not None else None

    def create(
        self, request: ClassifyRequest, now: float, *, socket_session_id: str | None = None
    ) -> Task:
        self.prune(now)
        task = Task(self._new_id(), self._new_id(), request, now, socket_session_id)
        self._tasks[task.task_id] = task
        self._rooms[task.room_id] = task.task_id
        return task

    def adopt(self, task: Task) -> None:
        """Hold ``task``, made elsewhere (loaded from the shared store), to run its transitions."""
        self._tasks[task.task_id] = task
        self._rooms[task.room_id] = task.task_id

    def discard(self, task_id: str) -> None:
        """Forget a task that was never queued (the queue was full)."""
        task = self._tasks.pop(task_id, None)
        if task is not None:
            self._rooms.pop(task.room_id, None)

    def start(self, task_id: str) -> None:
        task = self._require(task_id)
        if task.state is TaskState.QUEUED:
            task.state = TaskState.PROCESSING

    def progress(self, task_id: str, progress: Progress) -> list[Emission]:
        """A classifier step: record it as the latest status and broadcast it."""
        task = self._require(task_id)
        if task.ended:
            return []  # a late report from the worker thread: the result is already out
        task.state = TaskState.PROCESSING
        task.status = {
            "task_id": task.task_id,
            "current": str(progress.current),
            "total": str(progress.total),
            "status": TaskState.PROCESSING.value,
            "message": progress.message,
        }
        return [(STATUS_EVENT, task.status)]

    def finish(self, task_id: str, result: Classification, now: float) -> list[Emission]:
        task = self._require(task_id)
        if task.ended:
            return []
        best = result.classification
        task.result = {
            "task_id": task.task_id,
            "partnumber": result.partnumber,
            "description": result.description,
            "classification": candidate_payload(best) if best is not None else None,
            "candidates": [candidate_payload(c) for c in result.candidates],
            "confidence": round(result.confidence, 4),
            "source": result.source,
            "message": result.message,
            "status": TaskState.DONE.value,
        }
        task.state, task.finished_at = TaskState.DONE, now
        return [(FINISHED_EVENT, task.result)]

    def fail(self, task_id: str, message: str, now: float) -> list[Emission]:
        """The classification failed: one ``failed`` status, then the ``failed`` result."""
        task = self._require(task_id)
        if task.ended:
            return []
        previous = task.status or {}
        task.status = {
            "task_id": task.task_id,
            "current": previous.get("current", "0"),
            "total": previous.get("total", "0"),
            "status": TaskState.FAILED.value,
            "message": message,
        }
        task.result = {
            "task_id": task.task_id,
            "partnumber": task.request.partnumber,
            "description": task.request.description or "",
            "classification": None,
            "candidates": [],
            "confidence": 0.0,
            "source": None,
            "message": message,
            "status": TaskState.FAILED.value,
        }
        task.state, task.finished_at = TaskState.FAILED, now
        return [(STATUS_EVENT, task.status), (FINISHED_EVENT, task.result)]

    def replay(self, room_id: str, *, already_member: bool) -> list[Emission]:
        """What a socket joining ``room_id`` must receive privately (see module doc)."""
        task = self.by_room(room_id)
        if task is None or already_member:
            return []
        return replay_of(task)

    def prune(self, now: float) -> list[str]:
        """Forget finished tasks past their retention, and the oldest beyond the cap."""
        finished = [t for t in self._tasks.values() if t.finished_at is not None]
        expired = [t for t in finished if now - (t.finished_at or now) >= self.retention_s]
        gone = {t.task_id for t in expired}
        alive = sorted(
            (t for t in finished if t.task_id not in gone), key=lambda t: t.finished_at or 0.0
        )
        expired += alive[: max(0, len(alive) - self.max_finished)]
        for task in expired:
            self.discard(task.task_id)
        return [t.task_id for t in expired]

    def _require(self, task_id: str) -> Task:
        task = self._tasks.get(task_id)
        if task is None:
            raise NotFound(f"Tarefa não encontrada: {task_id}")
        return task


def replay_of(task: Task) -> list[Emission]:
    """What a socket that was not in ``task``'s room gets when it joins (see module doc)."""
    if task.result is None:  # still running: where it stands now
        return [] if task.status is None else [(STATUS_EVENT, task.status)]
    # Ended: the final state only, never a stale "processing" just before the result.
    emissions: list[Emission] = []
    if task.state is TaskState.FAILED and task.status is not None:
        emissions.append((STATUS_EVENT, task.status))
    return [*emissions, (FINISHED_EVENT, task.result)]
