"""The one builder of a counter's recognition parts, shared by the server and the CLI."""

from __future__ import annotations

import numpy as np
import pytest

from balto.core.config import ConfigError
from balto.counter.config import CounterConfig
from balto.counter.detect import default_rules
from balto.counter.pipeline import (
    ECONOMY_PAUSE_MIN_S,
    ECONOMY_PAUSE_S,
    ECONOMY_POLICY,
    CounterPipeline,
    counter_pipeline,
    decode_options,
)
from balto.counter.ws.scheduler import Decode
from tests.counter.audio.speech_fixtures import needs_espeak, sentence


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


def test_under_load_the_pipeline_switches_to_the_economy_policy_and_back() -> None:
    pipeline = counter_pipeline(CounterConfig.from_env({}), default_rules(), "pt")
    segmenter, scheduler = pipeline.segmenter, pipeline.scheduler
    assert pipeline.policy.economy  # the default (ASR_ECONOMY_LOAD 0.3)
    full = (segmenter.periodic, segmenter.at_pauses, scheduler.skip_covered_finals)
    assert full == (True, False, False)  # growing interims, every final
    pipeline.economize(True)
    assert (segmenter.periodic, segmenter.at_pauses, scheduler.skip_covered_finals) == (
        False,
        True,
        True,
    )
    assert segmenter.config.pause_interim_s == ECONOMY_PAUSE_S
    assert segmenter.config.pause_interim_min_s == ECONOMY_PAUSE_MIN_S
    pipeline.economize(False)
    assert (segmenter.periodic, segmenter.at_pauses, scheduler.skip_covered_finals) == full


def test_without_an_economy_load_the_policy_never_changes() -> None:
    config = CounterConfig.from_env({"ASR_ECONOMY_LOAD": "0"})
    pipeline = counter_pipeline(config, default_rules(), "pt")
    assert not pipeline.policy.economy
    assert pipeline.segmenter.config.pause_interim_s is None
    pipeline.economize(True)
    assert pipeline.segmenter.periodic and not pipeline.segmenter.at_pauses
    assert not pipeline.scheduler.skip_covered_finals


def test_a_configured_pause_trigger_is_the_economy_one_and_stays_on() -> None:
    config = CounterConfig.from_env({"ASR_PAUSE_INTERIM_S": "0.5", "ASR_PAUSE_INTERIM_MIN_S": "2"})
    pipeline = counter_pipeline(config, default_rules(), "pt")
    assert pipeline.segmenter.config.pause_interim_s == 0.5
    assert pipeline.segmenter.config.pause_interim_min_s == 2.0
    assert pipeline.segmenter.at_pauses
    pipeline.economize(True)
    pipeline.economize(False)
    assert pipeline.segmenter.at_pauses and pipeline.segmenter.periodic


@pytest.mark.parametrize("value", ["-0.1", "1.5"])
def test_an_economy_load_outside_zero_one_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match="ASR_ECONOMY_LOAD"):
        CounterConfig.from_env({"ASR_ECONOMY_LOAD": value})


@needs_espeak
def test_the_economy_policy_decodes_as_the_static_one_it_switches_to() -> None:
    # what bench.cost measures as "economia" is what a pipeline under load does
    config = CounterConfig.from_env({})
    loaded = counter_pipeline(config, default_rules(), "pt")
    loaded.economize(True)
    reference = counter_pipeline(config, default_rules(), "pt", policy=ECONOMY_POLICY)
    pause = np.zeros(round(0.6 * 16_000), dtype=np.float32)
    audio = np.concatenate([pause, sentence(0), pause, sentence(1), sentence(2), pause, pause])

    def steps(pipeline: CounterPipeline) -> list[tuple[str, float, float, bool]]:
        out = []
        for i in range(0, len(audio), 1_600):
            jobs = pipeline.segmenter.push(audio[i : i + 1_600])
            pipeline.scheduler.push(jobs, pipeline.segmenter.position_s)
            while (step := pipeline.scheduler.next_step(0.0)) is not None:
                out.append((type(step).__name__, step.job.start_s, step.job.end_s, step.job.final))
                if isinstance(step, Decode):
                    pipeline.scheduler.decoded(step.job)
        return out

    got = steps(loaded)
    assert got == steps(reference)
    kinds = [(kind, final) for kind, _, _, final in got]
    assert ("Decode", False) in kinds and ("Covered", True) in kinds
