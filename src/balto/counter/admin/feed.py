"""The live feed's fan-out and its Server-Sent Events spelling. No I/O.

Counter sessions :meth:`FeedHub.publish` what happens (a recommendation sent, a feedback
recorded) under their chain's id; each open ``GET /api/ao-vivo`` holds a :class:`Subscription`
of its own chain and drains it. Publishing never waits: every subscription has a bounded buffer
(``AO_VIVO_BUFFER_EVENTS``), and a subscriber too slow to keep up loses the oldest events,
which it is told about (a ``perdidos`` event with how many) before the ones it still gets.
So a stalled browser costs a bounded amount of memory and never holds a counter up.

The shell parks a waker (a ``trio.Event``) on its subscription; publishing and :meth:`close`
(server shutdown) set it.
"""

from __future__ import annotations

import dataclasses
import json
from collections import deque
from collections.abc import Mapping
from typing import Any, Protocol

#: Event names on the wire (the SSE ``event:`` field).
RECOMMENDATION = "recomendacao"
FEEDBACK = "feedback"
LOST = "perdidos"
END = "fim"
SHUTTING_DOWN = "Servidor encerrando"
CHAIN_DELETED = "Os dados da rede foram apagados"

OPENING = b": ao vivo\n\n"  # the first bytes: the browser's EventSource opens at once
KEEPALIVE = b": keepalive\n\n"  # a comment line: keeps proxies and the peer's timers quiet


class Waker(Protocol):
    def set(self) -> None: ...


@dataclasses.dataclass(frozen=True, slots=True)
class FeedEvent:
    seq: int  # server-wide order (the SSE ``id:``); restarts with the process
    kind: str
    data: Mapping[str, Any]


@dataclasses.dataclass(frozen=True, slots=True)
class Batch:
    """What a subscriber has to send now: events lost before ``events`` (0: none), the
    events, and the reason the feed ended (None: it goes on)."""

    lost: int
    events: tuple[FeedEvent, ...]
    ended: str | None

    def encode(self) -> bytes:
        chunks: list[bytes] = []
        if self.lost:
            chunks.append(encode_event(None, LOST, {"quantidade": self.lost}))
        chunks += [encode_event(event.seq, event.kind, event.data) for event in self.events]
        if self.ended is not None:
            chunks.append(encode_event(None, END, {"motivo": self.ended}))
        return b"".join(chunks)


class Subscription:
    def __init__(self, cliente_id: int, capacity: int) -> None:
        self.cliente_id = cliente_id
        self.capacity = capacity
        self._events: deque[FeedEvent] = deque()
        self._lost = 0
        self._ended: str | None = None
        self._waker: Waker | None = None

    def take(self) -> Batch:
        """Everything pending, once."""
        batch = Batch(self._lost, tuple(self._events), self._ended)
        self._events.clear()
        self._lost = 0
        return batch

    def park(self, waker: Waker) -> None:
        """Wake ``waker`` at the next event or at the end (at once if one is pending)."""
        self._waker = waker
        if self._events or self._lost or self._ended is not None:
            self._wake()

    def _push(self, event: FeedEvent) -> None:
        if len(self._events) >= self.capacity:
            self._events.popleft()
            self._lost += 1
        self._events.append(event)
        self._wake()

    def _end(self, reason: str) -> None:
        self._ended = reason
        self._wake()

    def _wake(self) -> None:
        waker, self._waker = self._waker, None
        if waker is not None:
            waker.set()


class FeedHub:
    def __init__(self, buffer_events: int = 256) -> None:
        if buffer_events < 1:
            raise ValueError("buffer_events must be >= 1")
        self.buffer_events = buffer_events
        self._by_chain: dict[int, set[Subscription]] = {}
        self._seq = 0
        self._closed: str | None = None

    def subscribe(self, cliente_id: int) -> Subscription:
        subscription = Subscription(cliente_id, self.buffer_events)
        if self._closed is not None:
            subscription._end(self._closed)
        else:
            self._by_chain.setdefault(cliente_id, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        chain = self._by_chain.get(subscription.cliente_id)
        if chain is None:
            return
        chain.discard(subscription)
        if not chain:
            del self._by_chain[subscription.cliente_id]

    def subscribers(self, cliente_id: int) -> int:
        return len(self._by_chain.get(cliente_id, ()))

    def publish(self, cliente_id: int, kind: str, data: Mapping[str, Any]) -> int:
        """Hand the event to the chain's subscribers (never waits); how many got it."""
        subscriptions = self._by_chain.get(cliente_id)
        if not subscriptions:
            return 0
        self._seq += 1
        event = FeedEvent(self._seq, kind, data)
        for subscription in subscriptions:
            subscription._push(event)
        return len(subscriptions)

    def end_chain(self, cliente_id: int, reason: str = CHAIN_DELETED) -> int:
        """End the chain's feeds (its data was deleted: its id may go to a new chain)."""
        chain = self._by_chain.pop(cliente_id, set())
        for subscription in chain:
            subscription._end(reason)
        return len(chain)

    def close(self, reason: str = SHUTTING_DOWN) -> None:
        """End every feed (server shutdown): each sends what it has, then a ``fim`` event."""
        self._closed = reason
        for chain in self._by_chain.values():
            for subscription in chain:
                subscription._end(reason)
        self._by_chain.clear()


def encode_event(seq: int | None, kind: str, data: Mapping[str, Any]) -> bytes:
    """One SSE event: ``id`` (when given), ``event`` and one ``data`` line of JSON (JSON text
    has no raw newlines, so one line always suffices)."""
    lines = [] if seq is None else [f"id: {seq}"]
    lines += [f"event: {kind}", "data: " + json.dumps(data, ensure_ascii=False)]
    return ("\n".join(lines) + "\n\n").encode("utf-8")


def recommendation_data(
    *,
    balcao_id: int,
    nome_balcao: str,
    regra: str,
    mensagem: str,
    produto: str | None,
    id_interacao: str,
    em: str,
    tipo: str = "sugerir",
) -> dict[str, Any]:
    return {
        "balcao_id": balcao_id,
        "nome_balcao": nome_balcao,
        "regra": regra,
        "tipo": tipo,
        "mensagem": mensagem,
        "produto": produto,
        "id_interacao": id_interacao,
        "em": em,
    }


def feedback_data(
    *, balcao_id: int, nome_balcao: str, id_interacao: str, resultado: str, em: str
) -> dict[str, Any]:
    return {
        "balcao_id": balcao_id,
        "nome_balcao": nome_balcao,
        "id_interacao": id_interacao,
        "resultado": resultado,
        "em": em,
    }
