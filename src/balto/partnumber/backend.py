"""Where the service's tasks live: in this process (:class:`LocalTasks`, the default) or in
Redis, run by worker processes (:class:`balto.partnumber.remote.RedisTasks`). The app talks to
either through :class:`TaskBackend`."""

from __future__ import annotations

from typing import Any, Protocol

import trio

from balto.core.isolation import Boundary
from balto.partnumber.classify.models import ClassifyRequest
from balto.partnumber.tasks import Task, TaskRegistry
from balto.partnumber.worker import ClassificationWorker, ClassifierLike
from balto.socketio.shell import SocketIOShell

__all__ = ["LocalTasks", "TaskBackend"]


class TaskBackend(Protocol):
    async def submit(self, request: ClassifyRequest, socket_session_id: str | None) -> Task:
        """Queue a classification (a full queue raises ``TooManyRequests``)."""

    async def snapshot(self, task_id: str) -> dict[str, Any] | None:
        """``GET /tasks/<id>``'s answer; ``None`` when unknown or expired."""

    def join(self, sid: str, room: str) -> None:
        """``sid`` joins a task's room: it gets the replay and, from then on, the live events."""

    async def health(self) -> tuple[bool, dict[str, Any]]:
        """Whether the backend can work (``/health`` answers 503 if not), and its figures."""

    async def run(self) -> None:
        """What must run next to the server for as long as it serves."""


class LocalTasks:
    """Tasks in a :class:`TaskRegistry`, classified by an in-process worker (one process)."""

    def __init__(
        self,
        classifier: ClassifierLike,
        shell: SocketIOShell,
        *,
        boundary: Boundary,
        registry: TaskRegistry | None = None,
        queue_size: int,
    ) -> None:
        self.shell = shell
        self.registry = registry or TaskRegistry()
        self.worker = ClassificationWorker(
            classifier, self.registry, shell, boundary=boundary, queue_size=queue_size
        )

    async def submit(self, request: ClassifyRequest, socket_session_id: str | None) -> Task:
        task = self.registry.create(
            request, trio.current_time(), socket_session_id=socket_session_id
        )
        self.worker.submit(task)
        return task

    async def snapshot(self, task_id: str) -> dict[str, Any] | None:
        task = self.registry.get(task_id)
        return None if task is None else task.snapshot()

    def join(self, sid: str, room: str) -> None:
        already_member = room in self.shell.rooms_of(sid)
        self.shell.enter_room(sid, room)
        for event, payload in self.registry.replay(room, already_member=already_member):
            self.shell.emit(event, payload, to=sid)

    async def health(self) -> tuple[bool, dict[str, Any]]:
        return True, {"tasks": len(self.registry), "queued": self.worker.queued}

    async def run(self) -> None:
        await self.worker.run()
