"""Fixtures that need the converted Whisper base model (fetched and converted once, cached)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from balto.core.config import default_cache_dir
from balto.counter.asr.model_cache import ensure_model
from balto.counter.asr.whisper import WhisperTranscriber


def _cache_dir() -> Path:
    configured = os.environ.get("BALTO_CACHE_DIR")
    return Path(configured).expanduser() if configured else default_cache_dir()


@pytest.fixture(scope="session")
def base_model() -> Path:
    return ensure_model("base", _cache_dir(), progress=False)


@pytest.fixture(scope="session")
def transcriber(base_model: Path) -> Iterator[WhisperTranscriber]:
    with WhisperTranscriber(base_model, n_threads=2) as instance:
        yield instance
