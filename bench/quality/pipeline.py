"""The pipeline under test for the labelled set: exactly a counter's (``balto transcrever``'s
:func:`balto.counter.offline.transcribe_audio` over :func:`balto.counter.pipeline.counter_pipeline`:
the server's segmenter, decode scheduler, decoding options and detector, interim decodes
included), one fresh pipeline per clip, as a new counter."""

from __future__ import annotations

import dataclasses

from balto.counter.asr.base import Transcriber
from balto.counter.audio.types import Audio
from balto.counter.config import CounterConfig
from balto.counter.detect import find_opportunities
from balto.counter.detect.rules import RuleSet
from balto.counter.offline import transcribe_audio
from balto.counter.pipeline import counter_pipeline
from bench.quality.labelled import Hear, Heard, Read


def hearing(
    transcriber: Transcriber, config: CounterConfig, rules: RuleSet, *, prompt: str | None = None
) -> Hear:
    """``prompt`` overrides the server's decoding prompt (to measure another policy)."""

    def hear(audio: Audio) -> Heard:
        pipeline = counter_pipeline(config, rules, config.language)
        if prompt is not None:
            options = dataclasses.replace(pipeline.options, prompt=prompt)
            pipeline = dataclasses.replace(pipeline, options=options)
        segments, findings = transcribe_audio(audio, transcriber, pipeline)
        return Heard(
            " ".join(s.text for s in segments),
            frozenset(f.opportunity.rule_id for f in findings),
        )

    return hear


def reading(rules: RuleSet) -> Read:
    """The rules the server's detector fires on a text (one text at a time: no cooldown)."""

    def read(text: str) -> frozenset[str]:
        return frozenset(o.rule_id for o in find_opportunities(rules, text))

    return read
