"""A fair job queue: round-robin across owners (sockets), so one talkative counter cannot
starve the others. An owner's pending interim job is replaced by its newer job. No I/O."""

from __future__ import annotations

import dataclasses
from collections import OrderedDict, deque
from collections.abc import Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclasses.dataclass(slots=True)
class Job(Generic[T]):
    owner: Hashable
    payload: T
    interim: bool
    enqueued_at: float


class FairQueue(Generic[T]):
    def __init__(self) -> None:
        self._queues: OrderedDict[Hashable, deque[Job[T]]] = OrderedDict()

    def __len__(self) -> int:
        return sum(len(q) for q in self._queues.values())

    def put(self, job: Job[T]) -> Job[T] | None:
        """Queue ``job``; return the interim job it supersedes, if any (the caller resolves it)."""
        queue = self._queues.setdefault(job.owner, deque())
        superseded = None
        if queue and queue[-1].interim:
            superseded = queue.pop()
        queue.append(job)
        return superseded

    def get(self) -> Job[T] | None:
        """The next job, taking owners in turn; None when empty."""
        if not self._queues:
            return None
        owner, queue = next(iter(self._queues.items()))
        job = queue.popleft()
        del self._queues[owner]
        if queue:
            self._queues[owner] = queue  # to the back of the line
        return job

    def discard_owner(self, owner: Hashable) -> list[Job[T]]:
        return list(self._queues.pop(owner, ()))
