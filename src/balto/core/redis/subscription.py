"""One Redis pub/sub channel kept subscribed: after any failure the subscription is opened again
after a pause that grows from ``FIRST_BACKOFF_S`` to ``MAX_BACKOFF_S``.

Pub/sub is at-most-once: what is published while the subscription is down is lost.
``subscribed`` says whether messages are being received now (for ``/health``), and
``on_resubscribed`` lets the owner catch up from its source of truth after a gap.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import trio

from balto.core.redis.client import PubSub, RedisError
from balto.core.redis.url import RedisAddress

log = logging.getLogger("balto.redis")

FIRST_BACKOFF_S = 0.2
MAX_BACKOFF_S = 5.0


class Subscription:
    def __init__(self, address: RedisAddress, channel: str) -> None:
        self.address = address
        self.channel = channel
        self.subscribed = False

    async def run(
        self,
        on_message: Callable[[bytes], None],
        on_resubscribed: Callable[[], None] | None = None,
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Hand each message's data to ``on_message`` until cancelled; ``task_status.started()``
        once the first subscription is confirmed (a connection that fails before that raises);
        ``on_resubscribed`` after every later one."""
        backoff_s = FIRST_BACKOFF_S
        started = False
        while True:
            try:
                async with PubSub.open(self.address) as pubsub:
                    await pubsub.subscribe(self.channel)
                    self.subscribed = True
                    if not started:
                        started = True
                        task_status.started()
                    elif on_resubscribed is not None:
                        on_resubscribed()
                    backoff_s = FIRST_BACKOFF_S
                    async for _channel, data in pubsub.messages():
                        on_message(data)
            except RedisError as exc:
                self.subscribed = False
                if not started:
                    raise
                log.warning("redis pub/sub %s: %s; reconnecting", self.channel, exc.message)
            await trio.sleep(backoff_s)  # a backoff before reconnecting, not a poll
            backoff_s = min(MAX_BACKOFF_S, backoff_s * 2)
