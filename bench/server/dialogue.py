"""The default load model of the server benchmark: two people talking at each counter.

Each counter's loop is a series of exchanges: the customer says one of their sentences (every
complaint once, so the server's per-rule cooldown never hides a repeat, and some neutral
talk), the attendant answers with neutral talk (:data:`ATTENDANT_LINES`) about a second later
(a longer pause than the server's 0.8 s hangover, so the two turns are separate utterances).
The two people speak in different natural voices (Kokoro, :mod:`bench.speech`; espeak-ng
voices where Kokoro is not installed), each reverberated from their own place at the counter
(:func:`bench.room.conversation`). Silence between exchanges makes the speech of both people
``talk_fraction`` of the loop (a third by default); shop noise (:func:`bench.noise.shop_noise`)
runs under all of it at ``snr_db`` against the active speech level.

Every customer sentence is synthesised once per voice (cached on disk by :mod:`bench.kokoro`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from bench.noise import active_level, mix, shop_noise
from bench.room import conversation
from bench.server.audio import (
    ATTENDANT,
    COMPLAINTS,
    CUSTOMER,
    FRAME_SAMPLES,
    NEUTRAL,
    CounterLoop,
    LoopBank,
    Sentence,
    assemble_loop,
    labelled,
)
from bench.speech import SAMPLE_RATE_HZ, natural_available, voices

# The attendant's turns: neutral talk that fires no rule.
ATTENDANT_LINES = (
    "Pois não, em que posso ajudar?",
    "São vinte e dois reais.",
    "Quer a nota fiscal?",
    "Um momento, vou ver no estoque.",
    "Fica no fim do corredor, à direita.",
    "Pode passar o cartão, por favor.",
    "Obrigado, volte sempre.",
)
LEVEL_DBFS = -26.0  # active speech level of the clean conversation, before the noise
MIN_GAP_S = 1.0  # the least silence between two exchanges


def voice_pair(key: int, available: Sequence[str]) -> tuple[str, str]:
    """Loop ``key``'s (customer, attendant) voices: two different ones where there are two."""
    customer = available[key % len(available)]
    attendant = available[(key + max(1, len(available) // 2)) % len(available)]
    return customer, attendant


def exchange_gaps(
    speech_s: float,
    exchanges_s: Sequence[float],
    talk_fraction: float,
    rng: np.random.Generator,
    min_gap_s: float = MIN_GAP_S,
) -> list[float]:
    """The silence after each exchange (s) so that ``speech_s`` of speech is
    ``talk_fraction`` of the whole: the spare time, shared out at random, at least
    ``min_gap_s`` each (so a fraction too high to reach gives less than asked)."""
    if not 0 < talk_fraction <= 1:
        raise ValueError("talk_fraction must be in (0, 1]")
    spare = speech_s / talk_fraction - sum(exchanges_s)
    weights = rng.uniform(0.5, 1.5, len(exchanges_s))
    shares = spare * weights / weights.sum()
    return [max(min_gap_s, float(share)) for share in shares]


class Speakers:
    """The labelled sentences of both people, synthesised on first use per voice."""

    def __init__(
        self,
        progress: Callable[[str], None],
        customer_lines: Sequence[tuple[str, bool]],
        attendant_lines: Sequence[str] = ATTENDANT_LINES,
    ) -> None:
        self.progress = progress
        self.customer_lines = tuple(customer_lines)  # (text, is a complaint)
        self.attendant_lines = tuple(attendant_lines)
        self._made: dict[tuple[str, str], tuple[Sentence, ...]] = {}

    def customer(self, voice: str) -> tuple[Sentence, ...]:
        return self._lines("customer", voice, self.customer_lines)

    def attendant(self, voice: str) -> tuple[Sentence, ...]:
        return self._lines("attendant", voice, [(t, False) for t in self.attendant_lines])

    def _lines(
        self, role: str, voice: str, lines: Sequence[tuple[str, bool]]
    ) -> tuple[Sentence, ...]:
        if (role, voice) not in self._made:
            self.progress(f"synthesising {len(lines)} {role} sentences with {voice}")
            speaker = CUSTOMER if role == "customer" else ATTENDANT
            self._made[role, voice] = tuple(
                labelled(text, complaint=complaint, voice=voice, speaker=speaker)
                for text, complaint in lines
            )
        return self._made[role, voice]


def build_dialogue_loop(
    customer: tuple[Sentence, ...],
    attendant: tuple[Sentence, ...],
    *,
    seed: int,
    talk_fraction: float = 1 / 3,
    snr_db: float = 20.0,
    turn_pause_s: float = 1.2,
) -> CounterLoop:
    """Every customer sentence once in a seeded order, each answered by a random attendant
    line, silence between exchanges up to ``talk_fraction``, shop noise at ``snr_db``."""
    rng = np.random.default_rng(seed)
    sentences = customer + attendant
    exchanges = []
    for number, index in enumerate(rng.permutation(len(customer))):
        reply = len(customer) + int(rng.integers(len(attendant)))
        pair = (int(index), reply)
        scene = conversation(
            [sentences[i].audio for i in pair],
            pause_s=turn_pause_s,
            lead_s=0.0,
            tail_s=0.0,
            seed=seed * 101 + number,
        )
        exchanges.append((pair, scene))
    speech = sum(len(sentences[i].audio) for pair, _ in exchanges for i in pair)
    gaps = exchange_gaps(
        speech / SAMPLE_RATE_HZ,
        [len(scene.audio) / SAMPLE_RATE_HZ for _, scene in exchanges],
        talk_fraction,
        rng,
    )
    pieces: list[np.ndarray] = []
    spans: list[tuple[int, int, int]] = []
    position = 0
    for (pair, scene), gap_s in zip(exchanges, gaps, strict=True):
        for index, turn in zip(pair, scene.turns, strict=True):
            start = position + round(turn.start_s * SAMPLE_RATE_HZ)
            spans.append((index, start, start + len(sentences[index].audio)))
        silence = np.zeros(round(gap_s * SAMPLE_RATE_HZ), dtype=np.float32)
        pieces += [scene.audio, silence]
        position += len(scene.audio) + len(silence)
    track = np.concatenate(pieces)
    track = np.concatenate([track, np.zeros(-len(track) % FRAME_SAMPLES, dtype=np.float32)])
    power = active_level(track)
    if power > 0:
        track = (track * (10 ** (LEVEL_DBFS / 20) / np.sqrt(power))).astype(np.float32)
    noise = shop_noise(len(track) / SAMPLE_RATE_HZ, seed=seed)
    mixed = mix(track, noise, snr_db)
    noise_alone = np.clip(mixed - track, -1.0, 1.0).astype(np.float32)
    return assemble_loop(sentences, track, spans, mixed, noise_alone)


def dialogue_bank(
    progress: Callable[[str], None],
    *,
    talk_fraction: float,
    snr_db: float,
    turn_pause_s: float,
) -> LoopBank:
    """The default load model's loops: loop ``key`` pairs two voices (:func:`voice_pair`)."""
    available = voices()
    speakers = Speakers(progress, [(t, True) for t in COMPLAINTS] + [(t, False) for t in NEUTRAL])

    def build(key: int) -> CounterLoop:
        customer_voice, attendant_voice = voice_pair(key, available)
        return build_dialogue_loop(
            speakers.customer(customer_voice),
            speakers.attendant(attendant_voice),
            seed=1000 + key,
            talk_fraction=talk_fraction,
            snr_db=snr_db,
            turn_pause_s=turn_pause_s,
        )

    model = {
        "model": "natural" if natural_available() else "natural (espeak-ng fallback)",
        "talk_fraction_target": round(talk_fraction, 3),
        "snr_db": snr_db,
        "turn_pause_s": turn_pause_s,
    }
    return LoopBank(build, model=model)
