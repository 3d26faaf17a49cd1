"""Stream a CTranslate2 Whisper model into a whisper.cpp ggml file, atomically."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from balto.counter.asr.convert import ggml
from balto.counter.asr.convert.ct2 import ChainedReader, Ct2Reader
from balto.counter.asr.convert.ggml import HParams, WeightType
from balto.counter.asr.convert.mapping import expected_tensor_count, layer_of, map_variable
from balto.counter.asr.convert.mel import mel_filters
from balto.counter.asr.convert.vocab import token_bytes

WHISPER_SPEC = "WhisperSpec"
HEAD_DIM = 64  # every Whisper size uses 64-wide attention heads
_FILE_MODE = 0o644  # mkstemp creates 0600; the model is not secret


class ConversionError(ValueError):
    """The source model is incomplete or not a Whisper model."""


@dataclass(frozen=True, slots=True)
class ConversionStats:
    path: Path
    hparams: HParams
    n_tensors: int
    size_bytes: int
    seconds: float


class _ShapeTracker:
    """Collects the hyperparameters from the tensors as they stream by."""

    def __init__(self) -> None:
        self.hparams = HParams()
        self.layers: dict[str, int] = {"encoder": 0, "decoder": 0}
        self.heads: dict[str, int] = {}

    def see(self, ct2_name: str, shape: tuple[int, ...], scalar: int | None) -> None:
        hp = self.hparams
        if ct2_name.endswith("/num_heads") and scalar is not None:
            self.heads[ct2_name.split("/", 1)[0]] = scalar
        elif ct2_name == "encoder/position_encodings/encodings":
            hp.n_audio_ctx, hp.n_audio_state = shape
        elif ct2_name == "decoder/position_encodings/encodings":
            hp.n_text_ctx, hp.n_text_state = shape
        elif ct2_name == "decoder/embeddings/weight":
            hp.n_vocab = shape[0]
        elif ct2_name == "encoder/conv1/weight":
            hp.n_mels = shape[1]
        layer = layer_of(ct2_name)
        if layer is not None:
            self.layers[layer.side] = max(self.layers[layer.side], layer.index + 1)

    def finish(self, weights: WeightType) -> HParams:
        hp = self.hparams
        hp.n_audio_layer = self.layers["encoder"]
        hp.n_text_layer = self.layers["decoder"]
        hp.n_audio_head = self.heads.get("encoder", hp.n_audio_state // HEAD_DIM)
        hp.n_text_head = self.heads.get("decoder", hp.n_text_state // HEAD_DIM)
        hp.ftype = ggml.file_ftype(weights)
        missing = [
            name
            for name, value in (
                ("n_vocab", hp.n_vocab),
                ("n_audio_ctx", hp.n_audio_ctx),
                ("n_text_ctx", hp.n_text_ctx),
                ("n_mels", hp.n_mels),
                ("n_audio_layer", hp.n_audio_layer),
                ("n_text_layer", hp.n_text_layer),
            )
            if value <= 0
        ]
        if missing:
            raise ConversionError(f"modelo incompleto: faltam dados para {', '.join(missing)}")
        return hp


def convert_to_ggml(
    model_streams: Iterable[BinaryIO],
    tokenizer_json: bytes,
    dest: Path,
    *,
    weights: WeightType = WeightType.F16,
    on_read: Callable[[int], object] | None = None,
) -> ConversionStats:
    """Convert the concatenation of ``model_streams`` (``model.bin`` parts, in order) to ``dest``.

    The output is written to a temporary file beside ``dest`` and renamed into place, so a
    crash never leaves a half-written model under the final name.
    """
    started = time.perf_counter()
    tokens = token_bytes(tokenizer_json)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, _FILE_MODE)
        with os.fdopen(fd, "w+b") as out, ChainedReader(model_streams, on_read) as raw:
            reader = Ct2Reader(raw)  # type: ignore[arg-type]
            if reader.header.spec != WHISPER_SPEC:
                raise ConversionError(f"o modelo não é Whisper ({reader.header.spec})")
            hparams, n_tensors = _write_body(out, reader, tokens, weights)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return ConversionStats(
        path=dest,
        hparams=hparams,
        n_tensors=n_tensors,
        size_bytes=dest.stat().st_size,
        seconds=time.perf_counter() - started,
    )


def _write_body(
    out: BinaryIO, reader: Ct2Reader, tokens: list[bytes], weights: WeightType
) -> tuple[HParams, int]:
    # The hparams come from the tensors, which come after them in the file: write a
    # placeholder and patch it once every tensor has streamed through.
    ggml.write_preamble(out, HParams(), mel_filters(), tokens)
    tracker = _ShapeTracker()
    n_tensors = 0
    for variable in reader.variables():
        array = variable.array
        scalar = int(array) if array.ndim == 0 and array.dtype.kind in "iu" else None
        tracker.see(variable.name, variable.shape, scalar)
        for name, tensor in map_variable(variable.name, array):
            ggml.write_tensor(out, name, tensor, weights)
            n_tensors += 1
    hparams = tracker.finish(weights)
    expected = expected_tensor_count(hparams.n_audio_layer, hparams.n_text_layer)
    if n_tensors != expected:
        raise ConversionError(f"modelo incompleto: {n_tensors} tensores, esperados {expected}")
    ggml.patch_hparams(out, hparams)
    return hparams, n_tensors
