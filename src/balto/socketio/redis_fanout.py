"""The Trio shell of :mod:`balto.socketio.fanout` on Redis pub/sub.

:meth:`RedisFanout.publish` puts a :class:`~balto.socketio.fanout.RoomMessage` on the channel;
:meth:`RedisFanout.run` keeps one subscribed connection and hands each message to ``deliver``
(by default: emit it to the room's local members). A lost connection is logged and opened
again after a pause (growing to ``MAX_BACKOFF_S``); pub/sub is at-most-once, so what was
published while it was down is not delivered (the apps' replay covers latecomers). A message
that breaks ``deliver`` is reported at the crash boundary and ends nothing but itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import trio

from balto.core.isolation import Boundary
from balto.core.redis.client import Redis
from balto.core.redis.subscription import Subscription
from balto.socketio.fanout import (
    BadRoomMessage,
    RoomMessage,
    decode_room_message,
    encode_room_message,
)

__all__ = ["RedisFanout"]

log = logging.getLogger(__name__)


class RedisFanout:
    def __init__(self, redis: Redis, channel: str, *, boundary: Boundary) -> None:
        self.redis = redis
        self.channel = channel
        self._boundary = boundary
        self._subscription = Subscription(redis.address, channel)

    @property
    def subscribed(self) -> bool:
        """Whether messages are being received now (for /health)."""
        return self._subscription.subscribed

    async def publish(self, message: RoomMessage) -> int:
        """Publish ``message``; how many instances were subscribed."""
        receivers: int = await self.redis.execute(
            "PUBLISH", self.channel, encode_room_message(message)
        )
        return receivers

    async def run(
        self,
        deliver: Callable[[RoomMessage], None],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Deliver every message until cancelled; ``task_status.started()`` once the first
        subscription is confirmed (a connection that fails before that raises)."""
        await self._subscription.run(
            lambda data: self._deliver(deliver, data), task_status=task_status
        )

    def _deliver(self, deliver: Callable[[RoomMessage], None], data: bytes) -> None:
        try:
            message = decode_room_message(data)
        except BadRoomMessage as exc:
            log.warning("redis pub/sub %s: %s", self.channel, exc.message)
            return
        with self._boundary.guard("socketio_fanout", message.room):
            deliver(message)
