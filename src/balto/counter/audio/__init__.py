"""The audio room: wire PCM → 16 kHz float32 → voice activity → utterance decode jobs.

Everything here is sans-IO: no sockets, no trio, no threads, no clock.
"""

from balto.counter.audio.pcm import PcmDecoder, UnsupportedSampleRate, validate_sample_rate
from balto.counter.audio.ring import AudioRing
from balto.counter.audio.segmenter import DecodeJob, Segmenter, SegmenterConfig
from balto.counter.audio.vad import SpectralVad, SpectralVadConfig, Vad, WebRtcVad, make_vad

__all__ = [
    "AudioRing",
    "DecodeJob",
    "PcmDecoder",
    "Segmenter",
    "SegmenterConfig",
    "SpectralVad",
    "SpectralVadConfig",
    "UnsupportedSampleRate",
    "Vad",
    "WebRtcVad",
    "make_vad",
    "validate_sample_rate",
]
