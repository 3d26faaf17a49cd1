"""Method + path → handler, with ``{name}`` path parameters. No I/O.

A path that matches no route is a 404; a path that matches with another method is a 405 with
an ``Allow`` header. ``HEAD`` is served by the ``GET`` route (RFC 9110 §9.3.2: the same answer
without its content; the connection leaves the body out).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable

from balto.core.errors import BaltoError, MethodNotAllowed, NotFound
from balto.core.http.messages import (
    INTERNAL_ERROR,
    Request,
    Response,
    error_response,
    json_response,
)
from balto.core.isolation import Boundary

Handler = Callable[[Request], Awaitable[Response]]


@dataclasses.dataclass(frozen=True, slots=True)
class Route:
    method: str
    pattern: str
    handler: Handler

    def match(self, path: str) -> dict[str, str] | None:
        want = self.pattern.strip("/").split("/")
        got = path.strip("/").split("/")
        if len(want) != len(got):
            return None
        params: dict[str, str] = {}
        for expected, actual in zip(want, got, strict=True):
            if expected.startswith("{") and expected.endswith("}"):
                if not actual:
                    return None
                params[expected[1:-1]] = actual
            elif expected != actual:
                return None
        return params


@dataclasses.dataclass(frozen=True, slots=True)
class Match:
    route: Route
    params: dict[str, str]


@dataclasses.dataclass(frozen=True, slots=True)
class Routed:
    response: Response
    route: str  # the matched pattern, or "unmatched" (a bounded label for metrics)


class Router:
    """``boundary``: where a handler's bug is counted and logged (it becomes a 500)."""

    def __init__(self, boundary: Boundary | None = None) -> None:
        self._routes: list[Route] = []
        self._boundary = boundary or Boundary()

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append(Route(method.upper(), pattern, handler))

    def resolve(self, method: str, path: str) -> Match:
        method = method.upper()
        allowed: list[str] = []
        for route in self._routes:
            params = route.match(path)
            if params is None:
                continue
            if route.method == method or (method == "HEAD" and route.method == "GET"):
                return Match(route, params)
            allowed.append(route.method)
            if route.method == "GET":
                allowed.append("HEAD")
        if allowed:
            raise MethodNotAllowed(
                f"Método {method} não permitido em {path}", allowed=tuple(sorted(set(allowed)))
            )
        raise NotFound(f"Rota não encontrada: {path}")

    async def dispatch(self, request: Request, *, answer_preflight: bool = False) -> Routed:
        """Resolve ``request`` and run its handler. Our errors become their JSON answer and a
        bug becomes a 500, reported at the boundary, so one request never takes the server down.
        ``answer_preflight``: an OPTIONS on an existing route is a 200 (CORS preflight)."""
        route = "unmatched"
        try:
            try:
                match = self.resolve(request.method, request.path)
            except MethodNotAllowed:
                if answer_preflight and request.method == "OPTIONS":
                    return Routed(
                        Response(200, b"", content_type="text/plain; charset=utf-8"), route
                    )
                raise
            route = match.route.pattern
            response = await self._run(match.route.handler, request, match.params)
        except BaltoError as exc:
            response = error_response(exc)
        return Routed(response, route)

    async def _run(self, handler: Handler, request: Request, params: dict[str, str]) -> Response:
        request = dataclasses.replace(request, params=params)
        return await guarded_answer(handler, request, self._boundary, "http_handler")


async def guarded_answer(
    handle: Handler, request: Request, boundary: Boundary, label: str
) -> Response:
    """``handle(request)`` as one isolated job: our errors become their JSON answer, a bug a
    500 reported at ``boundary`` under ``label`` (see :mod:`balto.core.isolation`)."""
    response = json_response(500, {"error": INTERNAL_ERROR})
    with boundary.guard(label, request.client):
        try:
            response = await handle(request)
        except BaltoError as exc:  # an answer, not a crash
            response = error_response(exc)
    return response
