"""Method + path → handler, with ``{name}`` path parameters. No I/O.

A path that matches no route is a 404; a path that matches with another method is a 405 with
an ``Allow`` header.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable

from balto.errors import MethodNotAllowed, NotFound
from balto.http.messages import Request, Response

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
