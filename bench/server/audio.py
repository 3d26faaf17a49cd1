"""Counter audio for the server load benchmark: espeak-ng Portuguese in light shop noise.

Sentences are synthesised once; each counter streams a loop of them (its own order, gaps of
1–3 s and noise seed) as 100 ms frames of 16 kHz s16le PCM. The loop knows in which frame each
sentence's speech starts and ends, so the client can time the end of speech exactly.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence

import numpy as np

from balto.counter.detect import default_rules
from balto.counter.detect.detector import find_opportunities
from bench.counters import FRAME_BYTES, FRAME_S
from bench.noise import mix, shop_noise
from bench.speech import SAMPLE_RATE_HZ, synthesize, to_pcm16
from bench.vad_eval import trim_silence

FRAME_SAMPLES = FRAME_BYTES // 2

# Complaints, one per rule (so the server's per-rule cooldown never hides a repeat within a
# loop), chosen among those whisper base transcribes well from espeak-ng; and neutral talk.
COMPLAINTS = (
    "Estou com muita dor nas costas.",
    "Estou com uma dor de cabeça muito forte.",
    "Minha garganta está doendo.",
    "Sinto muita azia depois do almoço.",
    "Estou com o nariz entupido.",
    "Estou com muita tosse.",
)
NEUTRAL = (
    "Vocês têm protetor solar?",
    "Vou pagar no cartão de crédito.",
    "Onde fica o caixa?",
    "Pode me dar uma sacola, por favor?",
)


@dataclasses.dataclass(frozen=True, slots=True)
class Sentence:
    text: str
    categoria: str | None  # what the default rules recommend for it; None: neutral talk
    audio: np.ndarray  # trimmed to the speech itself (16 kHz float32)


@dataclasses.dataclass(frozen=True, slots=True)
class Utterance:
    sentence: int  # index into the sentence list
    first_frame: int  # loop frame holding the first speech sample
    last_frame: int  # loop frame holding the last speech sample


@dataclasses.dataclass(frozen=True)
class CounterLoop:
    """One counter's looping stream: speech in noise, and the same noise alone."""

    sentences: tuple[Sentence, ...]
    speech: bytes  # s16le PCM, a whole number of frames
    noise: bytes  # the noise bed alone, streamed once the counter stops talking
    utterances: tuple[Utterance, ...]

    @property
    def frames(self) -> int:
        return len(self.speech) // FRAME_BYTES

    @property
    def duration_s(self) -> float:
        return self.frames * FRAME_S

    @functools.cached_property
    def starting(self) -> dict[int, Utterance]:
        return {u.first_frame: u for u in self.utterances}

    @functools.cached_property
    def ending(self) -> dict[int, Utterance]:
        return {u.last_frame: u for u in self.utterances}

    def frame(self, index: int, *, talking: bool) -> bytes:
        start = (index % self.frames) * FRAME_BYTES
        source = self.speech if talking else self.noise
        return source[start : start + FRAME_BYTES]


def expected_categoria(text: str) -> str | None:
    found = find_opportunities(default_rules(), text)
    if len(found) > 1:
        raise ValueError(f"{text!r} fires several rules: {[o.rule_id for o in found]}")
    return found[0].categoria if found else None


def synthesize_sentences(
    progress: Callable[[str], None] = print,
    complaints: Sequence[str] = COMPLAINTS,
    neutral: Sequence[str] = NEUTRAL,
) -> tuple[Sentence, ...]:
    """Synthesise every sentence once (espeak-ng) and label it with the rule it fires."""
    progress(f"synthesising {len(complaints) + len(neutral)} sentences with espeak-ng")
    sentences = []
    for text in (*complaints, *neutral):
        categoria = expected_categoria(text)
        if (categoria is None) != (text in neutral):
            raise ValueError(f"{text!r}: the default rules disagree with its label")
        sentences.append(Sentence(text, categoria, trim_silence(synthesize(text))))
    return tuple(sentences)


def build_loop(
    sentences: tuple[Sentence, ...],
    *,
    seed: int,
    snr_db: float = 30.0,
    gap_range_s: tuple[float, float] = (1.0, 3.0),
) -> CounterLoop:
    """Every sentence once in a seeded order, separated by gaps, over seeded shop noise."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(sentences))
    parts: list[np.ndarray] = [np.zeros(FRAME_SAMPLES * 5, dtype=np.float32)]
    position = len(parts[0])
    spans: list[tuple[int, int, int]] = []
    for index in order:
        clip = sentences[int(index)].audio
        spans.append((int(index), position, position + len(clip)))
        gap = np.zeros(round(rng.uniform(*gap_range_s) * SAMPLE_RATE_HZ), dtype=np.float32)
        parts += [clip, gap]
        position += len(clip) + len(gap)
    track = np.concatenate(parts)
    track = np.concatenate([track, np.zeros(-len(track) % FRAME_SAMPLES, dtype=np.float32)])
    noise = shop_noise(len(track) / SAMPLE_RATE_HZ, seed=seed)
    mixed = mix(track, noise, snr_db)
    noise_alone = np.clip(mixed - track, -1.0, 1.0).astype(np.float32)
    utterances = tuple(
        Utterance(index, start // FRAME_SAMPLES, (end - 1) // FRAME_SAMPLES)
        for index, start, end in spans
    )
    return CounterLoop(sentences, to_pcm16(mixed), to_pcm16(noise_alone), utterances)


class LoopBank:
    """A few distinct loops, built on demand; counter ``i`` plays loop ``i % size``."""

    def __init__(self, sentences: tuple[Sentence, ...], *, size: int = 8, snr_db: float = 30.0):
        self.sentences = sentences
        self.size = size
        self.snr_db = snr_db
        self._loops: dict[int, CounterLoop] = {}

    def for_counter(self, counter: int) -> CounterLoop:
        key = counter % self.size
        if key not in self._loops:
            self._loops[key] = build_loop(self.sentences, seed=1000 + key, snr_db=self.snr_db)
        return self._loops[key]

    def start_frame(self, counter: int) -> int:
        """Where in its loop counter ``counter`` starts, so that counters talk out of step."""
        loop = self.for_counter(counter)
        rng = np.random.default_rng(2000 + counter)
        return int(rng.integers(0, loop.frames))
