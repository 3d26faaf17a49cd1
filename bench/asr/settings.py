"""What the recognition-cost benchmark measures: paths, settings, utterances, configurations."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from balto.counter.config import CounterConfig

REPO = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).resolve().with_name("worker.py")
RESULTS_FILE = REPO / "bench" / "results" / "asr.json"
NATIVE_VENV = REPO / "native" / "build" / "venv-native"
NATIVE_BUILD_SCRIPT = "native/build_whispercpp.sh"
MODEL_SIZE = "base"
LANGUAGE = "pt"
THREADS = CounterConfig().asr_threads_per_worker  # per decoder: the server's default
ROUNDS = 2
REFERENCE = "balto"
FASTER_WHISPER_OPTIONS = (  # what bench/asr/worker.py passes, for the record
    "cpu_threads={threads} num_workers=1 beam_size=1 best_of=1 temperature=0.0 without_timestamps "
    "vad_filter=False condition_on_previous_text=False no_speech_threshold=None"
)
BUSY_CORES = 0.2  # other processes' average use above which the table warns

Progress = Callable[[str], None]


# --------------------------------------------------------------------------- utterances


@dataclasses.dataclass(frozen=True, slots=True)
class Utterance:
    id: str
    text: str
    voice: str
    words_per_minute: int
    pitch: int


# Pharmacy customers, 2–12 s each: short requests, single complaints, and several sentences
# spoken in one breath for the long ones. No digits (espeak reads them out, Whisper may write
# them as numerals, and the WER would count a correct hearing as an error).
_SPOKEN = (  # (text, espeak-ng voice, words per minute, pitch)
    ("Boa tarde, vocês têm dipirona?", "pt-br", 140, 50),
    ("Quanto custa esse protetor solar?", "pt-br+f2", 150, 60),
    ("Tem algum remédio para azia?", "pt-br+m3", 135, 45),
    ("Queria uma pomada para assadura de bebê, por favor.", "pt-br+m1", 150, 55),
    ("Estou com dor de garganta e um pouco de febre desde ontem à noite.", "pt-br", 160, 45),
    (
        "Meu filho está com tosse seca e o nariz entupido, o que você recomenda?",
        "pt-br+f2",
        145,
        65,
    ),
    (
        "Preciso de alguma coisa para enjoo, vou viajar de ônibus amanhã cedo.",
        "pt-br+m3",
        160,
        40,
    ),
    (
        "Torci o pé jogando bola no fim de semana. Está inchado e dói quando eu piso. "
        "Vocês têm alguma pomada ou uma atadura que ajude?",
        "pt-br",
        155,
        50,
    ),
    (
        "Minha mãe sofre de enxaqueca há muitos anos. Ela já tomou vários remédios, mas "
        "nenhum resolveu. Tem alguma coisa mais forte que não precise de receita?",
        "pt-br",
        165,
        60,
    ),
    (
        "Comi muita fritura no almoço e agora estou com o estômago queimando. "
        "E também estou com o intestino preso há alguns dias.",
        "pt-br+m3",
        150,
        45,
    ),
    (
        "Estou com dor muscular nas costas depois da academia. Posso tomar um relaxante "
        "muscular junto com o anti-inflamatório que o médico passou?",
        "pt-br+m1",
        160,
        45,
    ),
    (
        "Acordei de ressaca, com dor de cabeça e muita sede. O que é melhor tomar agora? "
        "Ah, e eu também preciso de um soro para hidratar.",
        "pt-br",
        170,
        50,
    ),
)
UTTERANCES: tuple[Utterance, ...] = tuple(
    Utterance(f"u{i:02d}", text, voice, wpm, pitch)
    for i, (text, voice, wpm, pitch) in enumerate(_SPOKEN, start=1)
)
QUICK_IDS = ("u01", "u02", "u03")
WARMUP_TEXT = "Bom dia, tudo bem?"


@dataclasses.dataclass(frozen=True, slots=True)
class BenchConfig:
    name: str
    description: str
    engine: str  # "whispercpp" | "faster-whisper"
    weights: str  # "f16" | "q8_0" | "int8" | "float32"
    tuned: bool = True
    native: bool = False


CONFIGS: tuple[BenchConfig, ...] = (
    BenchConfig("balto", "Balto pipeline (tuned whisper.cpp, PyPI wheel)", "whispercpp", "f16"),
    BenchConfig(
        "whispercpp-default",
        "whisper.cpp default settings (30 s window)",
        "whispercpp",
        "f16",
        tuned=False,
    ),
    BenchConfig("balto-q8_0", "Balto pipeline, q8_0 weights", "whispercpp", "q8_0"),
    BenchConfig("faster-whisper-int8", "faster-whisper, int8", "faster-whisper", "int8"),
    BenchConfig("faster-whisper-f32", "faster-whisper, float32", "faster-whisper", "float32"),
    BenchConfig(
        "balto-native",
        "Balto pipeline, pywhispercpp built -march=native",
        "whispercpp",
        "f16",
        native=True,
    ),
)
CONFIG_NAMES = tuple(c.name for c in CONFIGS)
