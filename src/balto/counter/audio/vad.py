"""Per-frame voice activity detection on 16 kHz float32 audio.

``SpectralVad`` (the default, numpy only): a frame is speech when it stands out from an
adaptive per-bin noise floor *and* is voiced (harmonic). Shop noise is mostly aperiodic (fans,
babble, clatter), so requiring periodicity rejects it; pure tones (scanner beeps) are periodic
but narrowband, so a frame whose energy sits in a handful of bins is rejected too.

With hysteresis: shortly after a frame that passed the full test, a frame well over the floor
across the band (not only in a few bins, as a tone is) needs less harmonicity: reverberation
smears a voice's harmonics, more so in the middle of a sentence. Being speech, it raises the
floor only at the speech rate. Without this the floor climbed to the level of a reverberant
voice within a second and the rest of the sentence was lost (``bench/room.py``'s counter,
no noise: 0.965 → 0.993 of the labelled turns' time segmented; at 10 dB SNR 0.930 → 0.962).
A frame that fails even the lower bar (a tone, a fan) raises the floor at the noise rate, so
a steady sound that starts right after speech is absorbed as before.

``WebRtcVad`` wraps the ``webrtcvad`` C extension (``webrtcvad-wheels``) when it is installed.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from balto.core.errors import ServerFault
from balto.counter.audio.types import SAMPLE_RATE_HZ, Audio

FRAME_MS = 20
FRAME_SAMPLES = SAMPLE_RATE_HZ * FRAME_MS // 1000

_F64 = npt.NDArray[np.float64]

VadKind = Literal["spectral", "webrtc"]


class Vad(Protocol):
    """One decision per fixed-size frame; stateful (noise tracking), so one per stream."""

    @property
    def frame_samples(self) -> int: ...

    def is_speech(self, frame: Audio) -> bool: ...

    def reset(self) -> None: ...


@dataclasses.dataclass(frozen=True, slots=True)
class SpectralVadConfig:
    # A frame must be this much louder than the noise floor in the speech band (dB).
    min_snr_db: float = 3.0
    # Normalised autocorrelation peak in the pitch range needed to call a frame voiced.
    min_harmonicity: float = 0.45
    # Frames whose five strongest bins hold more than this share of the excess are tones.
    max_peak_share: float = 0.6
    # Share of band bins at least 6 dB over the floor: narrowband sounds (tones, hum) score low.
    min_spread: float = 0.08
    # Frames quieter than this (dBFS) are never speech.
    min_level_dbfs: float = -65.0
    # The floor never falls below a flat floor this far under ``min_level_dbfs``: after
    # digital silence (a noise gate, a muted microphone) it would otherwise keep the spectral
    # shape of the last speech, and whitening by it hides the next voice's harmonics.
    floor_min_below_db: float = 20.0
    low_hz: float = 80.0
    high_hz: float = 4000.0
    min_pitch_hz: float = 70.0
    max_pitch_hz: float = 400.0
    # Noise floor tracking, per frame: fast fall, slow rise capped in dB per frame (slower
    # still during speech, so a long sentence does not become the floor).
    floor_fall: float = 0.3
    floor_rise: float = 0.05
    floor_rise_speech: float = 0.005
    floor_max_rise_db: float = 1.0
    floor_max_rise_speech_db: float = 0.1
    # The first floor is the per-bin minimum over the first frames (not their mean), so a
    # stream that starts with speech does not take the speech for the noise floor.
    init_frames: int = 10
    # Hysteresis (see the module docstring): up to ``continue_frames`` after a frame that
    # passed the full test, a frame ``continue_snr_db`` over the floor in total and without its
    # five strongest bins is speech from ``continue_harmonicity`` on.
    continue_frames: int = 25
    continue_snr_db: float = 9.0
    continue_harmonicity: float = 0.3


class SpectralVad:
    """Noise-floor SNR + harmonicity + tone rejection, on 20 ms frames (40 ms analysis)."""

    def __init__(self, config: SpectralVadConfig | None = None) -> None:
        self.config = cfg = config or SpectralVadConfig()
        self._window: _F64 = np.hanning(2 * FRAME_SAMPLES)
        self._nfft = 1024
        freqs = np.fft.rfftfreq(self._nfft, 1.0 / SAMPLE_RATE_HZ)
        band = np.flatnonzero((freqs >= cfg.low_hz) & (freqs <= cfg.high_hz))
        self._lo, self._hi = int(band[0]), int(band[-1]) + 1
        self._lag_lo = int(SAMPLE_RATE_HZ / cfg.max_pitch_hz)
        self._lag_hi = int(SAMPLE_RATE_HZ / cfg.min_pitch_hz)
        win_ac = np.fft.irfft(np.abs(np.fft.rfft(self._window, self._nfft)) ** 2, self._nfft)
        self._inv_win_norm: _F64 = win_ac[0] / win_ac[self._lag_lo : self._lag_hi + 1]
        self._min_power = FRAME_SAMPLES * 2 * 10 ** (cfg.min_level_dbfs / 10)
        self._floor_min = self._min_power * 10 ** (-cfg.floor_min_below_db / 10) / len(band)
        self._max_rise = 10 ** (cfg.floor_max_rise_db / 10) - 1.0
        self._max_rise_speech = 10 ** (cfg.floor_max_rise_speech_db / 10) - 1.0
        self._spectrum: _F64 = np.zeros(self._nfft // 2 + 1)
        self.reset()

    @property
    def frame_samples(self) -> int:
        return FRAME_SAMPLES

    def reset(self) -> None:
        self._analysis: _F64 = np.zeros(2 * FRAME_SAMPLES)
        self._smooth: _F64 | None = None
        self._floor: _F64 | None = None
        self._frames = 0
        self._since_speech = self.config.continue_frames  # frames since the last voiced one
        # Last frame's features, for diagnostics and tuning.
        self.snr_db = 0.0
        self.harmonicity = 0.0
        self.peak_share = 0.0
        self.spread = 0.0

    def is_speech(self, frame: Audio) -> bool:
        if len(frame) != FRAME_SAMPLES:
            raise ValueError(f"frame must have {FRAME_SAMPLES} samples, got {len(frame)}")
        cfg = self.config
        analysis = self._analysis  # previous frame + this one
        analysis[:FRAME_SAMPLES] = analysis[FRAME_SAMPLES:]
        analysis[FRAME_SAMPLES:] = frame
        spec = np.fft.rfft(analysis * self._window, self._nfft)[self._lo : self._hi]
        band = spec.real**2 + spec.imag**2 + 1e-12
        smooth = self._smooth
        if smooth is None:
            smooth = self._smooth = band.copy()
        else:
            smooth *= 0.6
            smooth += 0.4 * band
        floor = self._floor
        self._frames += 1
        if floor is None or self._frames <= cfg.init_frames:
            first = smooth.copy() if floor is None else np.minimum(floor, smooth)
            self._floor = np.maximum(first, self._floor_min)
            return False

        total = float(band.sum())
        self.snr_db = float(10.0 * np.log10(total / float(floor.sum())))
        self.harmonicity = self.peak_share = self.spread = 0.0
        speech = False
        continuing = (
            self._since_speech < cfg.continue_frames
            and self.snr_db >= cfg.continue_snr_db
            and _broadband_snr_db(band, floor) >= cfg.continue_snr_db
        )
        voiced = False
        if total >= self._min_power and self.snr_db >= cfg.min_snr_db:
            voiced = self._voiced(band, floor)
            speech = voiced or (continuing and self.harmonicity >= cfg.continue_harmonicity)
        self._since_speech = 0 if voiced else self._since_speech + 1
        self._track_floor(smooth, floor, speech)
        return speech

    def _voiced(self, band: _F64, floor: _F64) -> bool:
        """Harmonicity of the compressed, whitened excess over the floor; tones rejected.

        Whitening keeps low-frequency noise from dominating the correlation; the square root
        keeps a few loud bins from doing so. A pure tone is periodic too, but its excess sits
        in a handful of bins (``peak_share``), unlike a harmonic series.
        """
        cfg = self.config
        ratio = band / floor
        self.spread = float(np.count_nonzero(ratio > 4.0)) / len(ratio)
        if self.spread < cfg.min_spread:
            return False
        excess = np.sqrt(np.maximum(ratio - 2.0, 0.0))
        mass = float(excess.sum())
        self.peak_share = float(np.partition(excess, -5)[-5:].sum() / mass)
        if self.peak_share > cfg.max_peak_share:
            return False
        spectrum = self._spectrum  # zero outside the band
        spectrum[self._lo : self._hi] = excess
        ac = np.fft.irfft(spectrum, self._nfft)
        peaks = ac[self._lag_lo : self._lag_hi + 1] * self._inv_win_norm
        self.harmonicity = float(peaks.max() / ac[0])
        return self.harmonicity >= cfg.min_harmonicity

    def _track_floor(self, smooth: _F64, floor: _F64, speech: bool) -> None:
        """Fast fall, slow rise capped in dB per frame; updates ``floor`` in place."""
        cfg = self.config
        if speech:
            rise, cap = cfg.floor_rise_speech, self._max_rise_speech
        else:
            rise, cap = cfg.floor_rise, self._max_rise
        diff = smooth - floor
        step = diff * np.where(diff < 0.0, cfg.floor_fall, rise)
        floor += np.minimum(step, floor * cap)
        np.maximum(floor, self._floor_min, out=floor)


def _broadband_snr_db(band: _F64, floor: _F64) -> float:
    """SNR over the floor without the five strongest bins: a tone's energy sits in them."""
    strongest = np.argpartition(band, -5)[-5:]
    total = float(band.sum() - band[strongest].sum())
    return float(10.0 * np.log10(total / float(floor.sum() - floor[strongest].sum())))


class VadUnavailable(ServerFault):
    """The requested VAD backend is not installed."""


def _webrtc_module() -> Any:
    try:
        import webrtcvad  # optional dependency, imported on use
    except ImportError as exc:
        raise VadUnavailable(
            "o detector de voz webrtcvad não está instalado (pip install webrtcvad-wheels)"
        ) from exc
    return webrtcvad


class WebRtcVad:
    """The WebRTC GMM VAD (``pip install webrtcvad-wheels``); ``mode`` 0 (lax) .. 3 (strict).

    Kept for comparison: its decisions depend on the absolute level, and loud shop noise is
    mostly "speech" to it (see ``bench/vad.py``).
    """

    def __init__(self, mode: int = 3) -> None:
        self._module = _webrtc_module()
        self._vad = self._module.Vad(mode)
        self.mode = mode

    @property
    def frame_samples(self) -> int:
        return FRAME_SAMPLES

    def reset(self) -> None:
        self._vad = self._module.Vad(self.mode)

    def is_speech(self, frame: Audio) -> bool:
        if len(frame) != FRAME_SAMPLES:
            raise ValueError(f"frame must have {FRAME_SAMPLES} samples, got {len(frame)}")
        pcm = (np.clip(frame, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
        return bool(self._vad.is_speech(pcm, SAMPLE_RATE_HZ))


def make_vad(kind: VadKind = "spectral") -> Vad:
    if kind == "webrtc":
        return WebRtcVad()
    return SpectralVad()
