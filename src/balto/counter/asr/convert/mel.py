"""Slaney-normalised mel filterbank, computed as ``librosa.filters.mel`` does (htk=False).

whisper.cpp reads this matrix from the model file and uses it to build the log-mel input, so
it must match the filters OpenAI Whisper was trained with (sr 16000, n_fft 400, 80 mels).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

_F_SP = 200.0 / 3.0  # Hz per mel on the linear part of the Slaney scale
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOG_STEP = np.log(6.4) / 27.0


def hz_to_mel(freqs: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    freqs = np.asarray(freqs, dtype=np.float64)
    mels = freqs / _F_SP
    log_part = freqs >= _MIN_LOG_HZ
    safe = np.where(log_part, freqs, _MIN_LOG_HZ)
    return np.where(log_part, _MIN_LOG_MEL + np.log(safe / _MIN_LOG_HZ) / _LOG_STEP, mels)


def mel_to_hz(mels: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    mels = np.asarray(mels, dtype=np.float64)
    freqs = _F_SP * mels
    log_part = mels >= _MIN_LOG_MEL
    return np.where(log_part, _MIN_LOG_HZ * np.exp(_LOG_STEP * (mels - _MIN_LOG_MEL)), freqs)


def mel_filters(
    sample_rate_hz: int = 16_000, n_fft: int = 400, n_mels: int = 80
) -> npt.NDArray[np.float32]:
    """Return the ``(n_mels, n_fft // 2 + 1)`` filterbank matrix, float32."""
    fft_freqs = np.fft.rfftfreq(n_fft, d=1.0 / sample_rate_hz)
    mel_points = np.linspace(
        hz_to_mel(np.array(0.0)), hz_to_mel(np.array(sample_rate_hz / 2)), n_mels + 2
    )
    hz_points = mel_to_hz(mel_points)
    widths = np.diff(hz_points)
    ramps = np.subtract.outer(hz_points, fft_freqs)
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (hz_points[2:] - hz_points[:-2]))[:, None]
    result: npt.NDArray[np.float32] = weights.astype(np.float32)
    return result
