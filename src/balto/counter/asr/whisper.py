"""Blocking whisper.cpp transcriber, tuned for short utterances at a pharmacy counter.

Whisper pads every call to a 30 s window. For 2–8 s utterances almost all of that compute is
spent on padding, so each call sizes the encoder context (``audio_ctx``) to the audio, caps the
token count, disables the temperature fallback and decodes a single segment without timestamps.

One :class:`WhisperTranscriber` owns one whisper.cpp context and must be used from one thread
at a time (a lock enforces it); whisper.cpp releases the GIL while it computes, so several
transcribers in several threads run in parallel.
"""

from __future__ import annotations

import atexit
import logging
import math
import threading
from pathlib import Path
from typing import Any

import _pywhispercpp as pw
import numpy as np
import numpy.typing as npt

from balto.core.errors import RecognizerError
from balto.counter.asr.base import DecodeOptions
from balto.counter.asr.hallucinations import HallucinationFilter, clean_transcript, default_filter
from balto.counter.audio.types import SAMPLE_RATE_HZ

__all__ = ["DecodeOptions", "WhisperTranscriber", "audio_ctx_for", "token_cap_for"]

logger = logging.getLogger(__name__)

FULL_AUDIO_CTX = 1500  # encoder positions in Whisper's 30 s window
SAMPLES_PER_CTX = SAMPLE_RATE_HZ * 30 // FULL_AUDIO_CTX  # 320 samples = 20 ms per position
# Positions (1.28 s) of silence past the audio: Whisper was trained on padded windows and needs
# trailing padding to close the last word. 16 (0.32 s) costs 0.89x the CPU for the same WER on
# the real recordings (``python -m bench.quality.margin``) but heard 1-2 fewer complaints of
# ~112 in every policy and both parts of the labelled set (``python -m bench.cost --margem``),
# and 32 no better: kept at 64 (README "Desempenho").
AUDIO_CTX_MARGIN = 64
AUDIO_CTX_STEP = 32  # round the context up to a multiple of this
MIN_AUDIO_S = 1.0  # shorter audio is padded with silence
# Below -50 dBFS RMS there is no speech to hear (a counter microphone puts speech around
# -35..-20 dBFS); Whisper would make words up from the hiss.
SILENCE_RMS = 10 ** (-50 / 20)
TOKENS_PER_S = 7  # generous upper bound for speech; beyond it the decoder is looping
TOKENS_FLOOR = 8


def audio_ctx_for(n_samples: int, margin: int = AUDIO_CTX_MARGIN) -> int:
    """Encoder context for ``n_samples`` of audio: 50 per second plus a margin, capped."""
    needed = math.ceil(n_samples / SAMPLES_PER_CTX) + margin
    rounded = math.ceil(needed / AUDIO_CTX_STEP) * AUDIO_CTX_STEP
    return min(FULL_AUDIO_CTX, rounded)


def token_cap_for(n_samples: int, requested: int) -> int:
    seconds = n_samples / SAMPLE_RATE_HZ
    return max(1, min(requested, TOKENS_FLOOR + math.ceil(TOKENS_PER_S * seconds)))


GGML_MAGIC = 0x67676D6C
_LOG_WARN = 3  # ggml_log_level: 2 info, 3 warn, 4 error, 5 continuation
_LOG_ERROR = 4

_log_lock = threading.Lock()
_log_installed = False
_log_capture = threading.local()  # .errors: list[str] while this thread loads a model


def _forward_log(level: int, text: str) -> None:
    message = text.rstrip()
    errors: list[str] | None = getattr(_log_capture, "errors", None)
    if level == _LOG_ERROR and errors is not None:
        errors.append(message)
    severity = logging.WARNING if level in (_LOG_WARN, _LOG_ERROR) else logging.DEBUG
    logger.log(severity, "whisper.cpp: %s", message)


def _restore_default_log() -> None:
    # The Python callback must not outlive the interpreter: a log line emitted while Python
    # finalises (no GIL) aborts the process.
    pw.whisper_log_set(None)


def _install_log_forwarding() -> None:
    """Route whisper.cpp's stderr chatter to ``logging``; done once per process."""
    global _log_installed
    with _log_lock:
        if not _log_installed:
            pw.whisper_log_set(_forward_log)
            atexit.register(_restore_default_log)
            _log_installed = True


def _check_magic(model_path: Path) -> None:
    try:
        with model_path.open("rb") as stream:
            head = stream.read(4)
    except OSError as exc:
        raise RecognizerError(f"não foi possível ler o modelo {model_path}: {exc}") from exc
    if len(head) < 4 or int.from_bytes(head, "little") != GGML_MAGIC:
        raise RecognizerError(f"não foi possível carregar o modelo {model_path}: não é ggml")


class WhisperTranscriber:
    """One whisper.cpp context; :meth:`transcribe` blocks (call it from a worker thread)."""

    def __init__(
        self,
        model_path: Path,
        *,
        n_threads: int = 2,
        hallucinations: HallucinationFilter | None = None,
        tuned: bool = True,
        beam_size: int = 1,
        audio_ctx_margin: int = AUDIO_CTX_MARGIN,
    ) -> None:
        if not model_path.is_file():
            raise RecognizerError(f"modelo de fala não encontrado: {model_path}")
        _check_magic(model_path)
        _install_log_forwarding()
        self._lock = threading.Lock()
        self._n_threads = n_threads
        self._tuned = tuned
        if audio_ctx_margin < 0:
            raise ValueError(f"audio_ctx_margin must be >= 0, not {audio_ctx_margin}")
        self.audio_ctx_margin = audio_ctx_margin  # the benchmark compares margins on one context
        if beam_size < 1:
            raise ValueError(f"beam_size must be >= 1, not {beam_size}")
        self._beam_size = beam_size  # 1: greedy, the default; beam 5 costs ~1.35x the CPU
        self._filter = hallucinations or default_filter()
        self._ctx: Any = self._load(model_path)
        self._params: Any = self._base_params()

    @staticmethod
    def _load(model_path: Path) -> Any:
        # The binding returns a wrapper even when loading fails (a NULL inside, unusable), so
        # failure is recognised from the error lines whisper.cpp logs on this thread.
        errors: list[str] = []
        _log_capture.errors = errors
        context_params = pw.whisper_context_default_params()
        # Flash attention pads the cross-attention cache to 256 positions without masking the
        # padding: with an ``audio_ctx`` that is not a multiple of 256 the decoder attends to
        # stale encoder output of earlier calls (repetition loops, history-dependent text).
        context_params.flash_attn = False
        context_params.use_gpu = False
        try:
            ctx = pw.whisper_init_from_file_with_params(str(model_path), context_params)
        except (RuntimeError, ValueError) as exc:
            message = f"não foi possível carregar o modelo {model_path}: {exc}"
            raise RecognizerError(message) from exc
        finally:
            _log_capture.errors = None
        if ctx is None or any("failed to load model" in line for line in errors):
            detail = "; ".join(errors) or "erro desconhecido"
            raise RecognizerError(f"não foi possível carregar o modelo {model_path}: {detail}")
        return ctx

    def _base_params(self) -> Any:
        strategies = pw.whisper_sampling_strategy
        beam = self._beam_size > 1
        strategy = (
            strategies.WHISPER_SAMPLING_BEAM_SEARCH if beam else strategies.WHISPER_SAMPLING_GREEDY
        )
        params = pw.whisper_full_default_params(strategy)
        params.n_threads = self._n_threads
        params.print_progress = False
        params.print_realtime = False
        params.print_timestamps = False
        params.print_special = False
        params.no_context = True
        params.translate = False
        params.detect_language = False
        if self._tuned:
            params.no_timestamps = True
            params.single_segment = True
            params.temperature = 0.0
            params.temperature_inc = 0.0  # no fallback re-decodes at higher temperatures
            if beam:
                params.beam_search = {"beam_size": self._beam_size, "patience": -1.0}
            else:
                params.greedy = {"best_of": 1}
            params.suppress_blank = True
            params.suppress_nst = True
        return params

    def transcribe(self, audio: npt.NDArray[np.float32], options: DecodeOptions) -> str:
        """Transcribe 16 kHz mono float32 audio; returns "" for silence and known noise phrases."""
        samples = np.ascontiguousarray(audio, dtype=np.float32).reshape(-1)
        if samples.size == 0 or float(np.sqrt(np.mean(np.square(samples)))) < SILENCE_RMS:
            return ""
        min_samples = int(MIN_AUDIO_S * SAMPLE_RATE_HZ)
        if samples.size < min_samples:
            samples = np.concatenate([samples, np.zeros(min_samples - samples.size, np.float32)])
        with self._lock:
            if self._ctx is None:
                raise RecognizerError("transcritor já foi fechado")
            text = self._run(samples, options)
        return clean_transcript(text, options.prompt, self._filter)

    def _run(self, samples: npt.NDArray[np.float32], options: DecodeOptions) -> str:
        params = self._params
        params.language = options.language
        params.initial_prompt = options.prompt
        if self._tuned:
            params.audio_ctx = audio_ctx_for(samples.size, self.audio_ctx_margin)
            params.max_tokens = token_cap_for(samples.size, options.max_tokens)
        try:
            status = pw.whisper_full(self._ctx, params, samples, samples.size)
        except (RuntimeError, ValueError, TypeError) as exc:
            raise RecognizerError(f"falha no reconhecimento de fala: {exc}") from exc
        if status != 0:
            raise RecognizerError(f"falha no reconhecimento de fala (código {status})")
        pieces = []
        for i in range(pw.whisper_full_n_segments(self._ctx)):
            raw: bytes = pw.whisper_full_get_segment_text(self._ctx, i)
            pieces.append(raw.decode("utf-8", errors="replace"))
        return " ".join(" ".join(pieces).split())

    def close(self) -> None:
        with self._lock:
            if self._ctx is not None:
                pw.whisper_free(self._ctx)
                self._ctx = None

    def __enter__(self) -> WhisperTranscriber:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
