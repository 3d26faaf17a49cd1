"""Method + path → handler, with ``{name}`` path parameters. No I/O.

A path that matches no route is a 404; a path that matches with another method is a 405 with
an ``Allow`` header.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable

from balto.errors import BaltoError, MethodNotAllowed, NotFound
from balto.http.messages import Request, Response, error_response, json_response

log = logging.getLogger(__name__)

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
    def __init__(self) -> None:
        self._routes: list[Route] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append(Route(method.upper(), pattern, handler))

    def resolve(self, method: str, path: str) -> Match:
        allowed: list[str] = []
        for route in self._routes:
            params = route.match(path)
            if params is None:
                continue
            if route.method == method.upper():
                return Match(route, params)
            allowed.append(route.method)
        if allowed:
            raise MethodNotAllowed(
                f"Método {method} não permitido em {path}", allowed=tuple(sorted(set(allowed)))
            )
        raise NotFound(f"Rota não encontrada: {path}")

    async def dispatch(self, request: Request, *, answer_preflight: bool = False) -> Routed:
        """Resolve ``request`` and run its handler. Our errors become their JSON answer and a
        bug becomes a logged 500, so one request never takes the server down.
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
            response = await match.route.handler(dataclasses.replace(request, params=match.params))
        except BaltoError as exc:
            response = error_response(exc)
        except Exception:  # a bug: answer 500, keep serving, keep the traceback
            log.exception("unhandled error in %s %s", request.method, request.path)
            response = json_response(500, {"error": "Erro interno do servidor"})
        return Routed(response, route)
