"""The pipeline under test for the labelled set: the server's segmenter, transcriber options
and detector over a whole clip (interim and final decodes, as a live session makes them)."""

from __future__ import annotations

from balto.counter.asr.base import DecodeOptions, Transcriber
from balto.counter.audio.segmenter import Segmenter
from balto.counter.audio.types import Audio
from balto.counter.detect.detector import find_opportunities
from balto.counter.detect.rules import RuleSet
from bench.quality.labelled import Hear, Heard

CHUNK_SAMPLES = 1600  # 100 ms, the counters' frame


def hearing(transcriber: Transcriber, options: DecodeOptions, rules: RuleSet) -> Hear:
    def hear(audio: Audio) -> Heard:
        segmenter = Segmenter()
        jobs = []
        for offset in range(0, len(audio), CHUNK_SAMPLES):
            jobs += segmenter.push(audio[offset : offset + CHUNK_SAMPLES])
        jobs += segmenter.flush()
        finals: list[str] = []
        fired: set[str] = set()
        for job in jobs:
            text = transcriber.transcribe(job.audio, options)
            fired.update(o.rule_id for o in find_opportunities(rules, text))
            if job.final and text:
                finals.append(text)
        return Heard(" ".join(finals), frozenset(fired))

    return hear
