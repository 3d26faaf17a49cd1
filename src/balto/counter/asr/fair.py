"""A fair job queue: round-robin across owners (sockets), so one talkative counter cannot
starve the others. An owner's pending interim job is replaced by its newer job, and an owner
never has more than ``max_pending`` jobs waiting (the oldest go first). With ``finals_first``
an owner whose next job is a final goes before every owner whose next job is an interim (in
turn among themselves): under load the utterance that ended is heard before talk in progress.
No I/O."""

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
    def __init__(self, *, max_pending: int = 4, finals_first: bool = False) -> None:
        if max_pending < 1:
            raise ValueError("max_pending must be >= 1")
        self.max_pending = max_pending
        self.finals_first = finals_first
        self._queues: OrderedDict[Hashable, deque[Job[T]]] = OrderedDict()

    def __len__(self) -> int:
        return sum(len(q) for q in self._queues.values())

    def put(self, job: Job[T]) -> list[Job[T]]:
        """Queue ``job``; return the jobs it displaced (the caller resolves them): a pending
        interim job of the same owner, and the owner's oldest jobs beyond ``max_pending``."""
        queue = self._queues.setdefault(job.owner, deque())
        displaced = []
        if queue and queue[-1].interim:
            displaced.append(queue.pop())
        queue.append(job)
        while len(queue) > self.max_pending:
            displaced.append(queue.popleft())
        return displaced

    def get(self) -> Job[T] | None:
        """The next job, taking owners in turn; None when empty."""
        if not self._queues:
            return None
        owner, queue = next(iter(self._queues.items()))
        if self.finals_first and queue[0].interim:
            owner, queue = next(
                ((o, q) for o, q in self._queues.items() if not q[0].interim), (owner, queue)
            )
        job = queue.popleft()
        del self._queues[owner]
        if queue:
            self._queues[owner] = queue  # to the back of the line
        return job

    def discard_owner(self, owner: Hashable) -> list[Job[T]]:
        return list(self._queues.pop(owner, ()))
