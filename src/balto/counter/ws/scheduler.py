"""Which segmenter jobs a counter session decodes, without I/O.

Recognition runs behind the live stream. A recommendation for talk long gone is useless, so
stale work is skipped (and counted), never queued:

* an interim job is superseded by any newer job of its utterance that is already waiting;
* a job whose end lies too far behind the live stream is skipped: more than
  ``INTERIM_MAX_LAG_S`` for an interim, more than ``final_max_lag_s`` for a final. A skipped
  final's audio is lost (``Skip.dropped_s``); a skipped interim loses nothing, since its
  utterance's final carries the same audio.

The shell feeds the segmenter's jobs with ``push`` and asks ``next_step`` with the audio
waiting upstream, before every decode: the lag grows while earlier jobs decode.
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Iterable

from balto.counter.audio.segmenter import DecodeJob

INTERIM_MAX_LAG_S = 1.0


@dataclasses.dataclass(frozen=True, slots=True)
class Decode:
    job: DecodeJob


@dataclasses.dataclass(frozen=True, slots=True)
class Skip:
    """``job`` is too late to decode; ``dropped_s`` of audio go unrecognized."""

    job: DecodeJob
    lag_s: float
    dropped_s: float


Step = Decode | Skip


class RecognitionScheduler:
    def __init__(
        self, *, final_max_lag_s: float, interim_max_lag_s: float = INTERIM_MAX_LAG_S
    ) -> None:
        if final_max_lag_s < 0 or interim_max_lag_s < 0:
            raise ValueError("lag limits must not be negative")
        self.final_max_lag_s = final_max_lag_s
        self.interim_max_lag_s = interim_max_lag_s
        self._pending: collections.deque[DecodeJob] = collections.deque()
        self._position_s = 0.0

    def __len__(self) -> int:
        """Jobs waiting."""
        return len(self._pending)

    def push(self, jobs: Iterable[DecodeJob], position_s: float) -> None:
        """Queue the segmenter's ``jobs``; ``position_s`` is how far it has read the stream."""
        self._position_s = position_s
        pending = [*self._pending, *jobs]
        self._pending = collections.deque(
            job
            for index, job in enumerate(pending)
            if job.final or not _superseded(job, pending[index + 1 :])
        )

    def next_step(self, backlog_s: float) -> Step | None:
        """The next waiting job, to decode or to skip; None when nothing waits.

        ``backlog_s``: audio received and not yet given to the segmenter.
        """
        if not self._pending:
            return None
        job = self._pending.popleft()
        lag_s = self._position_s - job.end_s + backlog_s
        limit_s = self.final_max_lag_s if job.final else self.interim_max_lag_s
        if lag_s > limit_s:
            return Skip(job, lag_s, job.duration_s if job.final else 0.0)
        return Decode(job)


def _superseded(job: DecodeJob, newer: list[DecodeJob]) -> bool:
    return any(other.utterance_id == job.utterance_id for other in newer)
