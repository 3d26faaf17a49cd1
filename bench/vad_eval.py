"""Segmentation quality on a labelled stream: misses, false starts, splits, delay, cost.

Pure functions over arrays, so unit tests and ``bench/vad.py`` share them. Building the
stream from speech clips (and the clips themselves) is left to the caller.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence

import numpy as np

from balto.counter.audio.segmenter import Segmenter
from balto.counter.audio.types import Audio
from balto.counter.audio.vad import SAMPLE_RATE_HZ


@dataclasses.dataclass(frozen=True, slots=True)
class Span:
    start_s: float
    end_s: float

    def overlaps(self, other: Span) -> bool:
        return self.start_s < other.end_s and other.start_s < self.end_s


@dataclasses.dataclass(frozen=True, slots=True)
class LabelledStream:
    audio: Audio
    sentences: tuple[Span, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class FinalJob:
    span: Span
    emitted_s: float  # stream position when ``push`` returned it


@dataclasses.dataclass(frozen=True, slots=True)
class VadReport:
    sentences: int
    finals: int
    interims: int
    missed: int
    false_starts: int
    split: int
    merged: int
    mean_delay_ms: float
    max_delay_ms: float
    us_per_frame: float


def trim_silence(clip: Audio, threshold: float = 1e-3) -> Audio:
    """Cut leading and trailing samples quieter than ``threshold``."""
    loud = np.flatnonzero(np.abs(clip) > threshold)
    if len(loud) == 0:
        return clip[:0]
    return clip[loud[0] : loud[-1] + 1]


def build_stream(
    clips: Sequence[Audio],
    *,
    seed: int = 0,
    gap_range_s: tuple[float, float] = (1.0, 3.0),
    lead_s: float = 1.0,
) -> LabelledStream:
    """Concatenate trimmed ``clips`` with random gaps of silence; label each clip's span."""
    rng = np.random.default_rng(seed)
    parts: list[Audio] = [np.zeros(round(lead_s * SAMPLE_RATE_HZ), dtype=np.float32)]
    position = len(parts[0])
    spans: list[Span] = []
    for clip in clips:
        speech = trim_silence(clip)
        spans.append(Span(position / SAMPLE_RATE_HZ, (position + len(speech)) / SAMPLE_RATE_HZ))
        gap = np.zeros(round(rng.uniform(*gap_range_s) * SAMPLE_RATE_HZ), dtype=np.float32)
        parts += [speech.astype(np.float32), gap]
        position += len(speech) + len(gap)
    return LabelledStream(np.concatenate(parts), tuple(spans))


def run_segmenter(
    segmenter: Segmenter, audio: Audio, *, chunk_s: float = 0.02
) -> tuple[list[FinalJob], int, float]:
    """Push ``audio`` in chunks; return final jobs, interim count and CPU µs per frame.

    CPU time (``process_time``) rather than wall time, so other load on the machine does not
    inflate the figure.
    """
    chunk = max(1, round(chunk_s * SAMPLE_RATE_HZ))
    finals: list[FinalJob] = []
    interims = 0
    elapsed = 0.0
    for offset in range(0, len(audio), chunk):
        piece = audio[offset : offset + chunk]
        began = time.process_time()
        jobs = segmenter.push(piece)
        elapsed += time.process_time() - began
        emitted = (offset + len(piece)) / SAMPLE_RATE_HZ
        for job in jobs:
            if job.final:
                finals.append(FinalJob(Span(job.start_s, job.end_s), emitted))
            else:
                interims += 1
    for job in segmenter.flush():
        if job.final:
            finals.append(FinalJob(Span(job.start_s, job.end_s), len(audio) / SAMPLE_RATE_HZ))
        else:
            interims += 1
    frames = max(1, len(audio) // segmenter.frame_samples)
    return finals, interims, elapsed / frames * 1e6


def score(
    sentences: Sequence[Span], finals: Sequence[FinalJob], interims: int, us_per_frame: float
) -> VadReport:
    missed = split = 0
    delays: list[float] = []
    for sentence in sentences:
        hits = [f for f in finals if f.span.overlaps(sentence)]
        if not hits:
            missed += 1
            continue
        if len(hits) > 1:
            split += 1
        delays.append(max(f.emitted_s for f in hits) - sentence.end_s)
    false_starts = sum(1 for f in finals if not any(f.span.overlaps(s) for s in sentences))
    merged = sum(1 for f in finals if sum(f.span.overlaps(s) for s in sentences) > 1)
    return VadReport(
        sentences=len(sentences),
        finals=len(finals),
        interims=interims,
        missed=missed,
        false_starts=false_starts,
        split=split,
        merged=merged,
        mean_delay_ms=float(np.mean(delays)) * 1000 if delays else float("nan"),
        max_delay_ms=max(delays) * 1000 if delays else float("nan"),
        us_per_frame=us_per_frame,
    )


def evaluate(
    stream: LabelledStream,
    make_segmenter: Callable[[], Segmenter] = Segmenter,
    *,
    chunk_s: float = 0.02,
) -> VadReport:
    """Segment ``stream.audio`` and score the final jobs against ``stream.sentences``."""
    finals, interims, us = run_segmenter(make_segmenter(), stream.audio, chunk_s=chunk_s)
    return score(stream.sentences, finals, interims, us)
