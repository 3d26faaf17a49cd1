"""A task as stored in Redis, sans-IO: the JSON record of a :class:`~balto.partnumber.tasks.Task`
and the room messages of its emissions.

Each task's record carries ``seq``, the number of transitions it went through; a transition is
written only over the ``seq`` it was computed from (compare-and-set, see
:mod:`balto.partnumber.queue`), and the events it publishes carry the new ``seq``. So a
stored record and the live events order themselves: an event with ``seq`` ≤ the record's is
already in the record.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from balto.core.errors import ServerFault
from balto.partnumber.classify.models import ClassifyRequest
from balto.partnumber.tasks import Emission, Task, TaskState
from balto.socketio.fanout import RoomMessage

__all__ = ["BadRecord", "StoredTask", "decode_task", "encode_task", "room_messages"]


class BadRecord(ServerFault):
    """A task record in Redis that is not ours (or was corrupted)."""


@dataclasses.dataclass(slots=True)
class StoredTask:
    task: Task
    seq: int


def encode_task(task: Task) -> bytes:
    request = task.request
    body = {
        "task_id": task.task_id,
        "room_id": task.room_id,
        "request": {
            "partnumber": request.partnumber,
            "description": request.description,
            "manufacturer": request.manufacturer,
            "supplier": request.supplier,
        },
        "created_at": task.created_at,
        "socket_session_id": task.socket_session_id,
        "state": task.state.value,
        "status": task.status,
        "result": task.result,
        "finished_at": task.finished_at,
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def _optional_text(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise BadRecord("registro de tarefa com campo de texto inválido")
    return value


def _optional_object(value: Any) -> dict[str, Any] | None:
    if value is not None and not isinstance(value, dict):
        raise BadRecord("registro de tarefa com objeto inválido")
    return value


def decode_task(data: bytes) -> Task:
    try:
        body = json.loads(data)
        request = body["request"]
        partnumber = request["partnumber"]
        if not isinstance(partnumber, str) or not isinstance(body["task_id"], str):
            raise BadRecord("registro de tarefa sem partnumber")
        room_id = body["room_id"]
        if not isinstance(room_id, str):
            raise BadRecord("registro de tarefa sem sala")
        finished_at = body.get("finished_at")
        return Task(
            task_id=body["task_id"],
            room_id=room_id,
            request=ClassifyRequest(
                partnumber=partnumber,
                description=_optional_text(request.get("description")),
                manufacturer=_optional_text(request.get("manufacturer")),
                supplier=_optional_text(request.get("supplier")),
            ),
            created_at=float(body["created_at"]),
            socket_session_id=_optional_text(body.get("socket_session_id")),
            state=TaskState(body["state"]),
            status=_optional_object(body.get("status")),
            result=_optional_object(body.get("result")),
            finished_at=None if finished_at is None else float(finished_at),
        )
    except BadRecord:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadRecord(f"registro de tarefa ilegível: {exc!r:.200}") from None


def room_messages(task: Task, emissions: list[Emission], seq: int) -> list[RoomMessage]:
    """The room messages of a transition to ``seq``."""
    return [RoomMessage(task.room_id, event, (payload,), seq) for event, payload in emissions]
