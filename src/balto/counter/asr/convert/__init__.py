"""Conversion of OpenAI Whisper weights from CTranslate2 format to a whisper.cpp ggml file."""

from balto.counter.asr.convert.pipeline import ConversionStats, convert_to_ggml

__all__ = ["ConversionStats", "convert_to_ggml"]
