"""The Trio shell of the panel's login: ``/api/sessao`` (log in, read the CSRF token, log out).

The rules (cookie, CSRF token, Origin) are in :mod:`balto.counter.admin.sessions`; wrong
e-mails and keys are counted with the bearer's wrong keys, in :class:`ChainKeys`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from balto.core.errors import NotFound
from balto.core.http.messages import Request, Response, json_response
from balto.core.http.router import Router
from balto.counter.admin import sessions
from balto.counter.admin.api import NO_STORE, Caller, ChainKeys


class SessionApi:
    def __init__(self, keys: ChainKeys) -> None:
        self.keys = keys

    def install(self, router: Router) -> None:
        router.add("POST", "/api/sessao", self.login)
        router.add("GET", "/api/sessao", self.current)
        router.add("DELETE", "/api/sessao", self.logout)

    async def login(self, request: Request) -> Response:
        """E-mail and chave_admin → the session cookie and, in the body, its CSRF token."""
        sessions.check_origin(request)  # no other site logs a browser into its own chain
        email, chave_admin = sessions.parse_login(request.json_object())
        new = await self.keys.login(request, email, chave_admin)
        cookie = sessions.set_cookie(
            new.sessao, new.expira_em, datetime.now(UTC), secure=_secure(request)
        )
        return json_response(
            200,
            {"csrf": sessions.csrf_token(new.sessao), "expira_em": new.expira_em},
            headers=(*NO_STORE, ("Set-Cookie", cookie)),
        )

    async def current(self, request: Request) -> Response:
        """The session of the cookie: its CSRF token again (a reloaded panel) and expiry."""
        caller = await self._session_caller(request)
        assert caller.sessao is not None
        return json_response(
            200,
            {"csrf": sessions.csrf_token(caller.sessao), "expira_em": caller.expira_em},
            headers=NO_STORE,
        )

    async def logout(self, request: Request) -> Response:
        caller = await self._session_caller(request)  # DELETE: CSRF checked
        assert caller.sessao is not None
        store = self.keys.services.store
        await store.run(store.database.end_session, caller.sessao)
        clear = sessions.clear_cookie(secure=_secure(request))
        return json_response(
            200, {"sessao": "encerrada"}, headers=(*NO_STORE, ("Set-Cookie", clear))
        )

    async def _session_caller(self, request: Request) -> Caller:
        caller = await self.keys.caller(request)
        if caller.sessao is None:  # a valid bearer key, but no session to speak of
            raise NotFound(sessions.NO_SESSION)
        return caller


def _secure(request: Request) -> bool:
    """Secure cookies only over TLS: a plain-HTTP browser would not send them back."""
    return request.scheme == "https"
