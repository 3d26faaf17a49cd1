"""Streaming utterance segmentation: 16 kHz float32 in, decode jobs out. Sans-IO.

Time is counted in samples, never read from a clock, so the same input always gives the
same jobs. Policy (all in ``SegmenterConfig``):

* an utterance starts after ``start_frames`` consecutive speech frames; ``preroll_s`` of
  audio before them is included so the first syllable is not cut;
* it ends after ``hangover_s`` without speech → one ``final`` job with the whole utterance
  (trailing silence trimmed to ``tail_s``); utterances with less than ``min_speech_s`` of
  speech frames are dropped (clicks, beeps);
* every ``interim_every_s`` of talking (speech frames and the pauses shorter than
  ``INTERIM_PAUSE_S`` between them: a natural voice is not flagged as speech frame by frame,
  so counting speech frames alone made interims rare; None: never) an interim job
  (``final=False``) carries the audio so far, so a trigger can fire before the customer stops
  talking;
* when the speaker pauses ``pause_interim_s`` after at least ``pause_interim_min_s`` of audio
  no job has carried yet (a phrase has just ended), an interim job too;
* at ``max_utterance_s`` a final job is forced and a new utterance starts at once.

Either kind of interim can be switched off and on again while streaming (``periodic``,
``at_pauses``; a trigger the config leaves out stays off): a counter under load keeps only
the pause interims (:mod:`balto.counter.pipeline`).

Every job carries its utterance from the start: how much of it to decode is the scheduler's
choice (:mod:`balto.counter.ws.scheduler`), which knows what was decoded.
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from balto.counter.audio.types import SAMPLE_RATE_HZ, Audio
from balto.counter.audio.vad import Vad, make_vad

INTERIM_PAUSE_S = 0.3  # a pause this long counts no more towards the next interim


@dataclasses.dataclass(frozen=True, slots=True)
class SegmenterConfig:
    start_frames: int = 3
    preroll_s: float = 0.5
    hangover_s: float = 0.8
    tail_s: float = 0.5  # natural speech ends in weak, unvoiced sounds the VAD does not flag
    interim_every_s: float | None = 1.5
    max_utterance_s: float = 15.0
    min_speech_s: float = 0.15
    # None: no interim at pauses. A number: an interim when the speaker pauses this long
    # after speech the last job has not carried (a phrase just ended: decode it now).
    pause_interim_s: float | None = None
    pause_interim_min_s: float = 0.0  # ... and only after at least this much new audio

    def __post_init__(self) -> None:
        if self.start_frames < 1:
            raise ValueError("start_frames must be at least 1")
        for name in ("preroll_s", "hangover_s", "tail_s", "min_speech_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.max_utterance_s <= 0:
            raise ValueError("max_utterance_s must be positive")
        if self.interim_every_s is not None and self.interim_every_s <= 0:
            raise ValueError("interim_every_s must be positive (None: no periodic interims)")
        if self.pause_interim_s is not None and self.pause_interim_s <= 0:
            raise ValueError("pause_interim_s must be positive")
        if self.pause_interim_min_s < 0:
            raise ValueError("pause_interim_min_s must not be negative")


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class DecodeJob:
    """Audio to transcribe. ``start_s``/``end_s`` are positions in the stream, in seconds;
    ``speech_end_s`` is where the last speech frame in it ended and ``ready_s`` how far the
    segmenter had read when it gave the job out (None: taken as ``end_s``): a final is ready
    only after the hangover, past the end of its (trimmed) audio."""

    utterance_id: int
    audio: Audio
    final: bool
    start_s: float
    end_s: float
    speech_end_s: float | None = None
    ready_s: float | None = None

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def ready_at_s(self) -> float:
        return self.end_s if self.ready_s is None else self.ready_s

    @property
    def last_speech_s(self) -> float:
        return self.end_s if self.speech_end_s is None else self.speech_end_s

    def since(self, start_s: float) -> DecodeJob:
        """This job with only its audio from stream position ``start_s`` on."""
        if start_s <= self.start_s:
            return self
        skip = min(len(self.audio), round((start_s - self.start_s) * SAMPLE_RATE_HZ))
        return dataclasses.replace(
            self, audio=self.audio[skip:], start_s=self.start_s + skip / SAMPLE_RATE_HZ
        )


class _Utterance:
    __slots__ = (
        "frames",
        "id",
        "job_end",
        "last_speech_end",
        "since_job",
        "speech_frames",
        "start",
    )

    def __init__(self, start: int, frames: list[Audio]) -> None:
        self.start = start  # stream position (samples) of the first sample
        self.frames = frames
        self.id: int | None = None  # assigned when the first job is emitted
        self.speech_frames = 0
        self.since_job = 0  # frames since the last job
        self.last_speech_end = start  # stream position just after the last speech frame
        self.job_end = start  # stream position where the last job's audio ended


class Segmenter:
    """Feed any number of samples with ``push``; collect the ``DecodeJob`` list it returns."""

    def __init__(
        self,
        config: SegmenterConfig | None = None,
        *,
        vad_factory: Callable[[], Vad] = make_vad,
    ) -> None:
        self.config = cfg = config or SegmenterConfig()
        self._vad_factory = vad_factory
        self._vad = vad_factory()
        self.frame_samples = n = self._vad.frame_samples
        self._preroll_frames = round(cfg.preroll_s * SAMPLE_RATE_HZ / n)
        self._hangover_frames = max(1, round(cfg.hangover_s * SAMPLE_RATE_HZ / n))
        self._tail_samples = round(cfg.tail_s * SAMPLE_RATE_HZ)
        self._interim_frames = (
            None
            if cfg.interim_every_s is None
            else max(1, round(cfg.interim_every_s * SAMPLE_RATE_HZ / n))
        )
        self._pause_frames = max(1, round(INTERIM_PAUSE_S * SAMPLE_RATE_HZ / n))
        # samples of new audio a pause interim needs: at least one (some speech is new)
        self._pause_interim_min = max(1, round(cfg.pause_interim_min_s * SAMPLE_RATE_HZ))
        self._pause_interim_frames = (
            None
            if cfg.pause_interim_s is None
            else max(1, round(cfg.pause_interim_s * SAMPLE_RATE_HZ / n))
        )
        self.periodic = cfg.interim_every_s is not None  # interims every interim_every_s
        self.at_pauses = cfg.pause_interim_s is not None  # interims at pause_interim_s pauses
        self._max_samples = max(n, round(cfg.max_utterance_s * SAMPLE_RATE_HZ))
        self._min_speech_frames = round(cfg.min_speech_s * SAMPLE_RATE_HZ / n)
        self._next_id = 0
        self._reset_stream()

    def _reset_stream(self) -> None:
        self._pending: Audio = np.zeros(0, dtype=np.float32)
        self._position = 0  # samples consumed as whole frames
        self._history: collections.deque[Audio] = collections.deque(
            maxlen=self._preroll_frames + self.config.start_frames
        )
        self._run = 0  # consecutive speech frames while idle
        self._silence = 0  # consecutive non-speech frames while in an utterance
        self._utt: _Utterance | None = None

    @property
    def position_s(self) -> float:
        """Stream time of the end of the last complete frame processed."""
        return self._position / SAMPLE_RATE_HZ

    @property
    def in_utterance(self) -> bool:
        return self._utt is not None

    def push(self, samples: npt.ArrayLike) -> list[DecodeJob]:
        data = np.asarray(samples, dtype=np.float32).reshape(-1)
        if len(self._pending):
            data = np.concatenate((self._pending, data))
        n = self.frame_samples
        whole = len(data) - len(data) % n
        self._pending = data[whole:].copy()
        jobs: list[DecodeJob] = []
        for offset in range(0, whole, n):
            self._step(data[offset : offset + n], jobs)
        return jobs

    def flush(self) -> list[DecodeJob]:
        """End of stream: close the open utterance (if it has enough speech) and reset."""
        jobs: list[DecodeJob] = []
        utt = self._utt
        if utt is not None:
            if len(self._pending):
                utt.frames.append(self._pending)
            self._finish(utt, jobs, trim=True)
        self._vad.reset()
        self._reset_stream()
        return jobs

    def _step(self, frame: Audio, jobs: list[DecodeJob]) -> None:
        speech = self._vad.is_speech(frame)
        start = self._position
        self._position += len(frame)
        utt = self._utt
        if utt is None:
            self._history.append(frame)
            self._run = self._run + 1 if speech else 0
            if self._run >= self.config.start_frames:
                frames = list(self._history)
                utt = _Utterance(self._position - len(frames) * len(frame), frames)
                utt.speech_frames = utt.since_job = self._run
                utt.last_speech_end = self._position
                self._utt = utt
                self._history.clear()
                self._run = 0
                self._silence = 0
            return
        utt.frames.append(frame)
        if speech:
            self._silence = 0
            utt.speech_frames += 1
            utt.last_speech_end = start + len(frame)
        else:
            self._silence += 1
        if self._silence <= self._pause_frames:  # speech, or a short pause inside it
            utt.since_job += 1
        if self._silence >= self._hangover_frames:
            self._finish(utt, jobs, trim=True)
            self._utt = None
            self._silence = 0
        elif self._position - utt.start >= self._max_samples:
            self._finish(utt, jobs, trim=False)
            self._utt = _Utterance(self._position, [])
            self._silence = 0
        elif self._interim_due(utt) or self._phrase_ended(utt):
            jobs.append(self._job(utt, final=False, end=self._position))
            utt.since_job = 0

    def _interim_due(self, utt: _Utterance) -> bool:
        return (
            self.periodic
            and self._interim_frames is not None
            and utt.since_job >= self._interim_frames
        )

    def _phrase_ended(self, utt: _Utterance) -> bool:
        """The speaker has paused ``pause_interim_s`` after speech no job has carried yet."""
        return (
            self.at_pauses
            and self._silence == self._pause_interim_frames
            and utt.last_speech_end - utt.job_end >= self._pause_interim_min
        )

    def _finish(self, utt: _Utterance, jobs: list[DecodeJob], *, trim: bool) -> None:
        if utt.speech_frames < self._min_speech_frames and utt.id is None:
            return
        end = utt.start + sum(len(f) for f in utt.frames)
        if trim:
            end = min(end, utt.last_speech_end + self._tail_samples)
        jobs.append(self._job(utt, final=True, end=end))

    def _job(self, utt: _Utterance, *, final: bool, end: int) -> DecodeJob:
        if utt.id is None:
            utt.id = self._next_id
            self._next_id += 1
        audio = (
            np.concatenate(utt.frames)[: end - utt.start]
            if utt.frames
            else np.zeros(0, dtype=np.float32)
        )
        utt.job_end = utt.start + len(audio)
        return DecodeJob(
            utterance_id=utt.id,
            audio=audio,
            final=final,
            start_s=utt.start / SAMPLE_RATE_HZ,
            end_s=utt.job_end / SAMPLE_RATE_HZ,
            speech_end_s=min(utt.last_speech_end, utt.job_end) / SAMPLE_RATE_HZ,
            ready_s=self._position / SAMPLE_RATE_HZ,
        )
