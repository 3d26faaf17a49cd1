"""The one builder of a counter's recognition parts, shared by the server and the CLI."""

from __future__ import annotations

from balto.counter.config import CounterConfig
from balto.counter.detect import default_rules
from balto.counter.pipeline import counter_pipeline, decode_options


def test_decode_options_carry_the_language_and_no_prompt() -> None:
    options = decode_options("es")
    assert options.language == "es"
    assert options.prompt == ""  # a vocabulary prompt leaks its words into transcripts


def test_the_pipeline_follows_the_config() -> None:
    config = CounterConfig.from_env({}, recommendation_cooldown_s=7.0, asr_max_lag_s=3.0)
    pipeline = counter_pipeline(config, default_rules(), "pt")
    assert pipeline.detector.cooldown_s == 7.0
    assert pipeline.scheduler.final_max_lag_s == 3.0
    assert pipeline.options == decode_options("pt")
    assert pipeline.segmenter.position_s == 0.0


def test_each_pipeline_is_fresh() -> None:
    config = CounterConfig.from_env({})
    first = counter_pipeline(config, default_rules(), "pt")
    second = counter_pipeline(config, default_rules(), "pt")
    assert first.segmenter is not second.segmenter
    assert first.detector is not second.detector
