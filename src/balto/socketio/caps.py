"""The session caps of the Socket.IO shell: how many Engine.IO sessions at once, in all and from
one client network (pure bookkeeping; the shell asks before it opens a session)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter

from balto.core.errors import ServiceUnavailable
from balto.core.limits import network_of

__all__ = ["DEFAULT_MAX_SESSIONS", "DEFAULT_MAX_SESSIONS_PER_ADDRESS", "SessionCaps"]

DEFAULT_MAX_SESSIONS = 1000
#: One address may hold this share of the sessions: one client (or one NAT) cannot take them all.
DEFAULT_MAX_SESSIONS_PER_ADDRESS = 50


class SessionCaps:
    """At most ``max_sessions`` sessions, ``max_sessions_per_address`` per client network;
    refusals are :class:`ServiceUnavailable` (503) and counted by cap in ``registry``."""

    def __init__(
        self, max_sessions: int, max_sessions_per_address: int, registry: CollectorRegistry
    ) -> None:
        self.max_sessions = max_sessions
        self.max_sessions_per_address = max_sessions_per_address
        self._refused = Counter(
            "balto_socketio_sessions_refused",
            "Socket.IO sessions refused by the session caps",
            ["cap"],
            registry=registry,
        )
        self._networks: dict[str, str] = {}  # engine sid → client network, while open

    def check(self, address: str, open_count: int, alive: Callable[[str], bool]) -> None:
        """Raise if one more session from ``address`` would pass a cap; ``alive(sid)`` tells
        which recorded sessions still exist."""
        for sid in [sid for sid in self._networks if not alive(sid)]:
            del self._networks[sid]  # reaped since
        if open_count >= self.max_sessions:
            self._refused.labels("total").inc()
            raise ServiceUnavailable("Limite de conexões Socket.IO atingido; tente mais tarde")
        network = network_of(address)
        if sum(1 for n in self._networks.values() if n == network) >= (
            self.max_sessions_per_address
        ):
            self._refused.labels("per_address").inc()
            raise ServiceUnavailable(
                "Limite de conexões Socket.IO por endereço atingido; tente mais tarde"
            )

    def opened(self, sid: str, address: str) -> None:
        self._networks[sid] = network_of(address)
