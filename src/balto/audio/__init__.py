"""The audio room: wire PCM → 16 kHz float32 → voice activity → utterance decode jobs.

Everything here is sans-IO: no sockets, no trio, no threads, no clock.
"""

from balto.audio.evaluate import LabelledStream, Span, VadReport, build_stream, evaluate
from balto.audio.pcm import PcmDecoder, UnsupportedSampleRate, validate_sample_rate
from balto.audio.ring import AudioRing
from balto.audio.segmenter import DecodeJob, Segmenter, SegmenterConfig
from balto.audio.vad import SpectralVad, SpectralVadConfig, Vad, WebRtcVad, make_vad

__all__ = [
    "AudioRing",
    "DecodeJob",
    "LabelledStream",
    "PcmDecoder",
    "Segmenter",
    "SegmenterConfig",
    "Span",
    "SpectralVad",
    "SpectralVadConfig",
    "UnsupportedSampleRate",
    "Vad",
    "VadReport",
    "WebRtcVad",
    "build_stream",
    "evaluate",
    "make_vad",
    "validate_sample_rate",
]
