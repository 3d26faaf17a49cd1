"""Which segmenter jobs a counter session decodes, without I/O.

Recognition runs behind the live stream. A recommendation for talk long gone is useless, so
stale work is skipped (and counted), never queued:

* an interim job is superseded by any newer job of its utterance that is already waiting;
* a job whose end lies too far behind the live stream is skipped: more than
  ``INTERIM_MAX_LAG_S`` for an interim, more than ``final_max_lag_s`` for a final. A skipped
  final's audio is lost (``Skip.dropped_s``); a skipped interim loses nothing, since its
  utterance's final carries the same audio.

With ``window_overlap_s`` set, work is bounded: a job decodes only the audio of its utterance
that no decode has covered yet, plus that overlap before it (enough to hold a trigger phrase
and the negation before it), instead of the whole utterance again. Superseded or skipped
interims lose nothing, since the next decode starts where the last *decoded* one ended (the
shell reports each decode that ran with ``decoded``). With ``whole_finals``, only the
interims are windowed: a final decodes its whole utterance, once, with all its context.

With ``skip_covered_finals`` (windowed or not), a final whose speech all lay inside decoded
audio is not decoded again (``Covered``): the interim at the pause already heard it. The
shell may switch it while streaming (a counter under load does).

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


@dataclasses.dataclass(frozen=True, slots=True)
class Covered:
    """A final whose speech earlier decodes already heard: nothing to decode."""

    job: DecodeJob


Step = Decode | Skip | Covered


class RecognitionScheduler:
    def __init__(
        self,
        *,
        final_max_lag_s: float,
        interim_max_lag_s: float = INTERIM_MAX_LAG_S,
        window_overlap_s: float | None = None,
        skip_covered_finals: bool = False,
        whole_finals: bool = False,
    ) -> None:
        if final_max_lag_s < 0 or interim_max_lag_s < 0:
            raise ValueError("lag limits must not be negative")
        if window_overlap_s is not None and window_overlap_s < 0:
            raise ValueError("window_overlap_s must not be negative")
        self.final_max_lag_s = final_max_lag_s
        self.interim_max_lag_s = interim_max_lag_s
        self.window_overlap_s = window_overlap_s
        self.skip_covered_finals = skip_covered_finals
        self.whole_finals = whole_finals
        self._pending: collections.deque[DecodeJob] = collections.deque()
        self._position_s = 0.0
        self._decoded_until: dict[int, float] = {}  # utterance → end of its last decode

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
        decoded_until = self._decoded_until.get(job.utterance_id)
        if job.final:
            self._decoded_until.pop(job.utterance_id, None)
        if decoded_until is not None:
            if self.skip_covered_finals and job.final and job.last_speech_s <= decoded_until:
                return Covered(job)
            if self.window_overlap_s is not None and not (job.final and self.whole_finals):
                job = job.since(decoded_until - self.window_overlap_s)
        if lag_s > limit_s:
            return Skip(job, lag_s, job.duration_s if job.final else 0.0)
        return Decode(job)

    def decoded(self, job: DecodeJob) -> None:
        """The shell ran ``job`` (a step's job) to the end: later jobs start from its end.

        Not called for a decode that failed or was superseded in the pool: its audio is then
        still ahead of the utterance's next job.
        """
        if not job.final:
            self._decoded_until[job.utterance_id] = job.end_s


def _superseded(job: DecodeJob, newer: list[DecodeJob]) -> bool:
    return any(other.utterance_id == job.utterance_id for other in newer)
