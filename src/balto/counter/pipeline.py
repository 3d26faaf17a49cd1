"""One counter's recognition pipeline, built from the config in one place (sans-IO).

A live session (``ws/session.py``) and ``balto transcrever`` (``offline.py``) both build their
segmenter, decode scheduler, opportunity detector and whisper decode options with
:func:`counter_pipeline`, so a recording checked offline goes through exactly what a counter's
audio goes through: the same segmentation, the same language and prompt policy, the same rules
and cooldown.
"""

from __future__ import annotations

import dataclasses
import random

from balto.counter.asr.base import DecodeOptions
from balto.counter.audio.segmenter import Segmenter, SegmenterConfig
from balto.counter.config import CounterConfig
from balto.counter.detect import Detector, RuleSet
from balto.counter.ws.scheduler import RecognitionScheduler
from balto.counter.ws.transcript import UtteranceTranscript

# The economy policy's pause trigger where the policy has none of its own (python -m
# bench.cost, row "economia": measured against the single pass and the growing interims).
ECONOMY_PAUSE_S = 0.3
ECONOMY_PAUSE_MIN_S = 1.0


@dataclasses.dataclass(frozen=True, slots=True)
class DecodePolicy:
    """When a counter's speech is decoded, and how much of it each decode carries.

    The defaults are the first version's (an interim every 1.5 s of talk, each decode the whole
    utterance so far); a server's policy comes from its config (:meth:`from_config`).

    With ``economy``, the pipeline can switch, while streaming, to an economy policy when the
    recognizer is under load (:meth:`CounterPipeline.economize`): no periodic interims, an
    interim at each phrase-end pause (the policy's own pause trigger, or ``ECONOMY_PAUSE_S``
    after ``ECONOMY_PAUSE_MIN_S`` of new audio), and no final where those already heard all
    the speech. Under load the spare looks of the growing interims are the first cost to go;
    the pause decode keeps the recommendation ahead of the end-of-speech hangover.
    """

    interim_every_s: float | None = 1.5  # an interim per this much talking (None: never)
    pause_interim_s: float | None = None  # an interim at a pause this long (None: never)
    pause_interim_min_s: float = 0.0  # ... after at least this much audio no job carried
    window_overlap_s: float | None = None  # None: every decode carries the whole utterance
    skip_covered_finals: bool = False  # no final decode when interims heard all its speech
    whole_finals: bool = False  # with windowed interims, the final still decodes it all
    economy: bool = False  # may switch to the economy policy under load

    @classmethod
    def from_config(cls, config: CounterConfig) -> DecodePolicy:
        """The policy ``config`` asks for (a 0 turns its knob off)."""
        windowed = config.asr_window_overlap_s > 0
        return cls(
            interim_every_s=config.asr_interim_every_s or None,
            pause_interim_s=config.asr_pause_interim_s or None,
            pause_interim_min_s=config.asr_pause_interim_min_s,
            window_overlap_s=config.asr_window_overlap_s if windowed else None,
            skip_covered_finals=windowed,
            economy=config.asr_economy_load > 0,
        )


@dataclasses.dataclass(frozen=True, slots=True)
class CounterPipeline:
    """The stateful parts of one counter's recognition (one per socket or per recording)."""

    segmenter: Segmenter
    scheduler: RecognitionScheduler
    detector: Detector
    options: DecodeOptions
    policy: DecodePolicy = DecodePolicy()
    transcript: UtteranceTranscript = dataclasses.field(default_factory=UtteranceTranscript)

    def economize(self, under_load: bool) -> None:
        """Decode by the economy policy while ``under_load``, by the full one otherwise (a
        policy without ``economy`` keeps the full one)."""
        policy = self.policy
        economy = under_load and policy.economy
        self.segmenter.periodic = policy.interim_every_s is not None and not economy
        self.segmenter.at_pauses = policy.pause_interim_s is not None or economy
        self.scheduler.skip_covered_finals = policy.skip_covered_finals or economy


# What a default pipeline decodes by under load (CounterPipeline.economize), as a fixed
# policy: python -m bench.cost measures it as "economia".
ECONOMY_POLICY = DecodePolicy(
    interim_every_s=None,
    pause_interim_s=ECONOMY_PAUSE_S,
    pause_interim_min_s=ECONOMY_PAUSE_MIN_S,
    skip_covered_finals=True,
)


def decode_options(language: str) -> DecodeOptions:
    """Whisper's options for a counter: its language, and no initial prompt.

    A prompt of the rules' vocabulary was tried and measured (``python -m bench.quality
    --com-prompt``, README "Qualidade do reconhecimento"): no gain on real speech, twice the
    decoding cost, repetition loops on short words, and its words leaking into what Whisper
    "heard" ("Bom dia, dor de cabeça, dor de cabeça…"), which is a false recommendation.
    """
    return DecodeOptions(language=language)


def counter_pipeline(
    config: CounterConfig,
    rules: RuleSet,
    language: str,
    *,
    policy: DecodePolicy | None = None,
    rng: random.Random | None = None,
) -> CounterPipeline:
    """A fresh pipeline for one counter speaking ``language`` under ``rules``; ``rng`` draws
    the wording experiments' variants (None: a generator seeded from the OS)."""
    policy = policy or DecodePolicy.from_config(config)
    pause_s, pause_min_s = policy.pause_interim_s, policy.pause_interim_min_s
    if pause_s is None and policy.economy:  # the trigger the economy policy switches on
        pause_s, pause_min_s = ECONOMY_PAUSE_S, ECONOMY_PAUSE_MIN_S
    segmenter_config = SegmenterConfig(
        interim_every_s=policy.interim_every_s,
        pause_interim_s=pause_s,
        pause_interim_min_s=pause_min_s,
    )
    pipeline = CounterPipeline(
        segmenter=Segmenter(segmenter_config),
        scheduler=RecognitionScheduler(
            final_max_lag_s=config.asr_max_lag_s,
            window_overlap_s=policy.window_overlap_s,
            skip_covered_finals=policy.skip_covered_finals,
            whole_finals=policy.whole_finals,
        ),
        detector=Detector(rules, cooldown_s=config.recommendation_cooldown_s, rng=rng),
        options=decode_options(language),
        policy=policy,
    )
    pipeline.economize(False)
    return pipeline
