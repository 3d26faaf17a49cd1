"""Counter audio for the server load benchmark: the loops the counters stream, and the old
robot-voice load model.

A :class:`CounterLoop` is streamed as 100 ms frames of 16 kHz s16le PCM; it knows in which
frame each sentence's speech starts and ends, so the client can time the end of speech exactly.
The default load model (two people talking in natural voices) is :mod:`bench.server.dialogue`;
this module keeps the old one (``--voz robo``): one espeak-ng voice saying every sentence once,
gaps of 1–3 s, light shop noise (30 dB).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from balto.counter.detect import default_rules
from balto.counter.detect.detector import find_opportunities
from bench.counters import FRAME_BYTES, FRAME_S
from bench.noise import mix, shop_noise
from bench.speech import SAMPLE_RATE_HZ, synthesize, to_pcm16
from bench.vad_eval import trim_silence

FRAME_SAMPLES = FRAME_BYTES // 2

ROBOT_VOICE = "pt-br"  # espeak-ng: the voice of the old load model
CUSTOMER = "cliente"
ATTENDANT = "atendente"

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
    speaker: str = CUSTOMER
    voice: str = ROBOT_VOICE


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
    talk_fraction: float = 0.0  # speech samples (both people) / loop samples
    customer_fraction: float = 0.0  # the customer's speech samples / loop samples

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


def labelled(text: str, *, complaint: bool, voice: str, speaker: str = CUSTOMER) -> Sentence:
    """``text`` spoken in ``voice``, labelled with the rule it fires in its exact text; a
    complaint must fire one, neutral talk none."""
    categoria = expected_categoria(text)
    if (categoria is not None) != complaint:
        raise ValueError(f"{text!r}: the default rules disagree with its label")
    audio = trim_silence(synthesize(text, voice=voice))
    return Sentence(text, categoria, audio, speaker, voice)


def synthesize_sentences(
    progress: Callable[[str], None] = print,
    complaints: Sequence[str] = COMPLAINTS,
    neutral: Sequence[str] = NEUTRAL,
    voice: str = ROBOT_VOICE,
) -> tuple[Sentence, ...]:
    """Synthesise every sentence once (default: espeak-ng) and label it with its rule."""
    progress(f"synthesising {len(complaints) + len(neutral)} sentences with {voice}")
    return tuple(
        labelled(text, complaint=text in complaints, voice=voice)
        for text in (*complaints, *neutral)
    )


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
    return assemble_loop(sentences, track, spans, mixed, noise_alone)


def assemble_loop(
    sentences: tuple[Sentence, ...],
    track: np.ndarray,
    spans: Sequence[tuple[int, int, int]],
    mixed: np.ndarray,
    noise_alone: np.ndarray,
) -> CounterLoop:
    """A loop from its clean ``track`` (a whole number of frames), the ``(sentence, first
    sample, end sample)`` of each utterance, the mix and the noise bed alone."""
    utterances = tuple(
        Utterance(index, start // FRAME_SAMPLES, (end - 1) // FRAME_SAMPLES)
        for index, start, end in spans
    )
    talk = sum(end - start for _, start, end in spans)
    customer = sum(end - start for i, start, end in spans if sentences[i].speaker == CUSTOMER)
    return CounterLoop(
        sentences,
        to_pcm16(mixed),
        to_pcm16(noise_alone),
        utterances,
        talk_fraction=talk / len(track),
        customer_fraction=customer / len(track),
    )


class LoopBank:
    """A few distinct loops, built on demand by ``build(key)``; counter ``i`` plays loop
    ``i % size``. ``model`` describes the load model for the results."""

    def __init__(
        self, build: Callable[[int], CounterLoop], *, model: dict[str, Any], size: int = 8
    ) -> None:
        self.build = build
        self.model = model
        self.size = size
        self._loops: dict[int, CounterLoop] = {}

    def for_counter(self, counter: int) -> CounterLoop:
        key = counter % self.size
        if key not in self._loops:
            self._loops[key] = self.build(key)
        return self._loops[key]

    def summary(self) -> dict[str, Any]:
        """The load model, with the talk fractions measured on the loops built so far."""
        loops = [self._loops[key] for key in sorted(self._loops)]
        sentences = {(s.text, s.speaker): s for loop in loops for s in loop.sentences}
        return {
            **self.model,
            "loops": len(loops),
            "loop_s": [round(loop.duration_s, 1) for loop in loops],
            "talk_fraction": _mean([loop.talk_fraction for loop in loops]),
            "customer_fraction": _mean([loop.customer_fraction for loop in loops]),
            "voices": sorted({f"{s.speaker}: {s.voice}" for loop in loops for s in loop.sentences}),
            "sentences": [
                {"text": s.text, "speaker": s.speaker, "categoria": s.categoria}
                for s in sentences.values()
            ],
        }

    def start_frame(self, counter: int) -> int:
        """Where in its loop counter ``counter`` starts, so that counters talk out of step."""
        loop = self.for_counter(counter)
        rng = np.random.default_rng(2000 + counter)
        return int(rng.integers(0, loop.frames))


def robot_bank(snr_db: float, progress: Callable[[str], None]) -> LoopBank:
    """The old load model: one espeak-ng voice, every sentence once per loop, 1–3 s gaps."""
    sentences = synthesize_sentences(progress)
    return LoopBank(
        lambda key: build_loop(sentences, seed=1000 + key, snr_db=snr_db),
        model={"model": "robo", "snr_db": snr_db},
    )


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None
