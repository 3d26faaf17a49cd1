"""The Partnumber classification service: REST + Socket.IO on one port (Flask-SocketIO drop-in).

* ``POST /classify-partnumber`` → 202 ``{"message", "task_id", "room_id"}``;
* ``GET /tasks/<task_id>`` → the task's state, latest status and result (404 when unknown);
* ``GET /health``;
* ``/socket.io/``: ``connected`` on connect, ``ping_event`` → ``pong_event``, ``message`` →
  echoed back as ``message``, ``join`` ``{"room_id"}`` → subscribe (with replay, see
  :mod:`balto.partnumber.tasks`). Task events go to the task's room.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from balto.core.errors import (
    BadRequest,
    BaltoError,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
)
from balto.core.http.connection import WebSocketHandler
from balto.core.http.messages import Request, Response, error_response, json_response
from balto.core.http.router import Router
from balto.core.json_input import JsonLimits, decode_json_object
from balto.partnumber.backend import LocalTasks, TaskBackend
from balto.partnumber.classify.models import ClassifyRequest
from balto.partnumber.classify.validation import (
    MAX_DESCRIPTION,
    MAX_NAME,
    MAX_PARTNUMBER,
    clean_request,
)
from balto.partnumber.tasks import TaskRegistry
from balto.partnumber.worker import DEFAULT_QUEUE_SIZE, ClassifierLike
from balto.socketio.shell import SocketIOShell, cors_headers

__all__ = ["PartnumberApp", "parse_classify_body"]

log = logging.getLogger(__name__)

MAX_JSON_BODY_BYTES = 64 * 1024
FIELD_LIMITS = {
    "partnumber": MAX_PARTNUMBER,
    "description": MAX_DESCRIPTION,
    "manufacturer": MAX_NAME,
    "supplier": MAX_NAME,
    "socket_session_id": 100,
}
ACCEPTED = (
    "Seu pedido de classificação foi aceito. Emita 'join' com o room_id para acompanhar o "
    "progresso e receber o resultado."
)


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"O campo '{name}' deve ser texto")
    value = value.strip()
    limit = FIELD_LIMITS[name]
    if len(value) > limit:
        raise BadRequest(f"O campo '{name}' excede {limit} caracteres")
    return value or None


def parse_classify_body(body: bytes) -> tuple[ClassifyRequest, str | None]:
    """The classification request and the optional ``socket_session_id`` of a POST body.

    The body is read as JSON whatever its Content-Type (like Flask's ``get_json(force=True)``);
    the classifier's own request checks run here too, so a bad item is a 400, not a failed task.
    """
    if len(body) > MAX_JSON_BODY_BYTES:
        raise PayloadTooLarge(f"Corpo maior que o limite de {MAX_JSON_BODY_BYTES} bytes")
    if not body.strip():
        raise BadRequest("Corpo da requisição vazio: envie um objeto JSON")
    value = decode_json_object(body, JsonLimits(max_bytes=MAX_JSON_BODY_BYTES))
    partnumber = _text(value, "partnumber")
    if partnumber is None:
        raise BadRequest("O campo 'partnumber' é obrigatório")
    request = ClassifyRequest(
        partnumber=partnumber,
        description=_text(value, "description"),
        manufacturer=_text(value, "manufacturer"),
        supplier=_text(value, "supplier"),
    )
    return clean_request(request), _text(value, "socket_session_id")


def _room_of(data: Any) -> str | None:
    room = data.get("room_id") if isinstance(data, dict) else data
    return room if isinstance(room, str) and room else None


class PartnumberApp:
    """The :class:`~balto.core.http.connection.HttpApp` of the service. Run :attr:`tasks`'s
    ``run`` (and the shell's :meth:`~balto.socketio.shell.SocketIOShell.run`) next to the server.

    The tasks are ``backend`` when given (in Redis: :class:`balto.partnumber.remote.RedisTasks`),
    else classified in this process by ``classifier`` (:class:`~.backend.LocalTasks`)."""

    def __init__(
        self,
        classifier: ClassifierLike | None,
        shell: SocketIOShell,
        *,
        registry: TaskRegistry | None = None,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        backend: TaskBackend | None = None,
    ) -> None:
        self.shell = shell
        self.sio = shell  # the Socket.IO facade: handlers, emit, rooms
        self.metrics = shell.metrics
        if backend is None:
            if classifier is None:
                raise ValueError("in-process tasks need a classifier")
            backend = LocalTasks(
                classifier,
                shell,
                boundary=self.metrics.boundary,
                registry=registry,
                queue_size=queue_size,
            )
        self.tasks: TaskBackend = backend
        self.router = Router(self.metrics.boundary)
        self.router.add("POST", "/classify-partnumber", self.classify)
        self.router.add("GET", "/tasks/{task_id}", self.get_task)
        self.router.add("GET", "/health", self.health)
        self.router.add("GET", "/metrics", self.get_metrics)
        shell.mount(self.router)
        self.sio.on_connect(self._on_connect)
        self.sio.on("join", self._on_join)
        self.sio.on("ping_event", self._on_ping)
        self.sio.on("message", self._on_message)

    # -- the HttpApp protocol -------------------------------------------------------------

    async def handle_http(self, request: Request) -> Response:
        """Route ``request`` (``/socket.io/`` included) and add the CORS headers: the one place
        where they are applied."""
        try:
            cors = tuple(cors_headers(self.shell.cors, request))
        except BaltoError as exc:
            return error_response(exc)
        response = (await self.router.dispatch(request, answer_preflight=True)).response
        return dataclasses.replace(response, headers=response.headers + cors)

    def websocket_handler(self, request: Request) -> WebSocketHandler | None:
        return self.shell.websocket_handler(request)

    # -- REST -----------------------------------------------------------------------------

    async def classify(self, request: Request) -> Response:
        classify_request, socket_session_id = parse_classify_body(request.body)
        task = await self.tasks.submit(classify_request, socket_session_id)
        log.info("task %s: %s queued", task.task_id, classify_request.partnumber)
        return json_response(
            202, {"message": ACCEPTED, "task_id": task.task_id, "room_id": task.room_id}
        )

    async def get_task(self, request: Request) -> Response:
        snapshot = await self.tasks.snapshot(request.params["task_id"])
        if snapshot is None:
            raise NotFound("Tarefa não encontrada (id desconhecido ou expirado)")
        return json_response(200, snapshot)

    async def health(self, request: Request) -> Response:
        healthy, fields = await self.tasks.health()
        return json_response(
            200 if healthy else 503,
            {
                "status": "ok" if healthy else "indisponível",
                **fields,
                "socketio_sessions": self.sio.session_count,
            },
        )

    async def get_metrics(self, request: Request) -> Response:
        return Response(200, self.metrics.render(), content_type=self.metrics.content_type)

    # -- Socket.IO ------------------------------------------------------------------------

    def _on_connect(self, sid: str, auth: Any) -> None:
        self.sio.emit("connected", {"socket_session_id": sid}, to=sid)

    def _on_join(self, sid: str, data: Any = None, *_: Any) -> dict[str, str]:
        room = _room_of(data)
        if room is None:
            return {"status": "error", "error": 'Envie {"room_id": "..."} no evento join'}
        try:
            self.tasks.join(sid, room)
        except ServiceUnavailable as exc:  # too many joins waiting for Redis: the ack says so
            return {"status": "error", "error": exc.message}
        return {"status": "ok", "room_id": room}

    def _on_ping(self, sid: str, *_: Any) -> None:
        self.sio.emit("pong_event", {"message": "pong"}, to=sid)

    def _on_message(self, sid: str, *args: Any) -> None:
        self.sio.emit("message", *args, to=sid)
