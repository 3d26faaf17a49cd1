"""The recogniser seam: what a counter session needs from speech recognition."""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable
from typing import Protocol

from balto.counter.audio.types import Audio


@dataclasses.dataclass(frozen=True, slots=True)
class DecodeOptions:
    language: str = "pt"
    prompt: str = ""  # initial prompt, built from the cliente's rule vocabulary
    max_tokens: int = 64


class Transcriber(Protocol):
    """A blocking decoder that owns one model context (one per worker thread)."""

    def transcribe(self, audio: Audio, options: DecodeOptions) -> str: ...

    def close(self) -> None: ...


class Recognizer(Protocol):
    """Async recognition shared by all sessions (16 kHz mono float32 in, text out)."""

    @property
    def ready(self) -> bool: ...

    @property
    def busy(self) -> bool:
        """Under load: sessions should decode by their economy policy (spare no decode)."""
        ...

    async def transcribe(
        self, owner: Hashable, audio: Audio, options: DecodeOptions, *, interim: bool = False
    ) -> str | None:
        """Text of ``audio``; None when an interim job was superseded by newer audio."""
        ...
