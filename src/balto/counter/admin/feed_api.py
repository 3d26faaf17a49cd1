"""The Trio shell of the live feed: ``GET /api/ao-vivo``, Server-Sent Events.

Authenticated like every ``/api/`` call (the bearer key or the panel's cookie); the stream
carries only the caller's chain's events (:mod:`balto.counter.admin.feed`). While idle it sends
a comment line every ``AO_VIVO_KEEPALIVE_S``; at server shutdown it sends a ``fim`` event and
ends. The subscription lives inside the body's generator, so the shell closing it (the peer
gone, a HEAD) is what gives it back.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import trio

from balto.core.http.messages import Request, Response
from balto.core.http.router import Router
from balto.core.lifecycle import Lifecycle
from balto.counter.admin.api import NO_STORE, ChainKeys
from balto.counter.admin.feed import KEEPALIVE, OPENING, FeedHub, Subscription
from balto.counter.ws.session import CounterServices

EVENT_STREAM = "text/event-stream; charset=utf-8"


class FeedApi:
    def __init__(self, services: CounterServices, keys: ChainKeys) -> None:
        self.services = services
        self.keys = keys

    def install(self, router: Router) -> None:
        router.add("GET", "/api/ao-vivo", self.ao_vivo)

    async def ao_vivo(self, request: Request) -> Response:
        cliente = await self.keys.chain_of(request)
        headers = (*NO_STORE, ("X-Accel-Buffering", "no"))  # nginx: do not hold events back
        return Response(
            200, content_type=EVENT_STREAM, headers=headers, stream=self._stream(cliente.id)
        )

    async def _stream(self, cliente_id: int) -> AsyncGenerator[bytes, None]:
        hub = self.services.feed
        subscription = hub.subscribe(cliente_id)
        try:
            yield OPENING
            while True:
                batch = subscription.take()
                chunk = batch.encode()
                if chunk:
                    yield chunk
                if batch.ended is not None:
                    return
                if not chunk and not await self._wait(subscription):
                    yield KEEPALIVE
        finally:
            hub.unsubscribe(subscription)

    async def _wait(self, subscription: Subscription) -> bool:
        """Until the next event or the end (True), or the keepalive interval passed (False)."""
        waker = trio.Event()
        subscription.park(waker)
        with trio.move_on_after(self.services.config.ao_vivo_keepalive_s):
            await waker.wait()
            return True
        return False


async def end_feeds_on_shutdown(lifecycle: Lifecycle, hub: FeedHub) -> None:
    """At shutdown every live feed sends its ``fim`` event and ends (its HTTP response with
    it), so none holds the server's graceful stop up to its deadline."""
    await lifecycle.stopping.wait()
    hub.close()
