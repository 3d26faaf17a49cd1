"""Writer (and header reader, for checks) of whisper.cpp's legacy ggml model file.

Layout: int32 magic ``0x67676d6c``; 11 int32 hparams; int32 n_mel, int32 n_fft and the mel
filterbank as float32; int32 token count, then int32 length + bytes per token; then per tensor:
int32 n_dims, int32 name length, int32 type (0 f32, 1 f16, 8 q8_0), the dimensions innermost
first (reverse of numpy order), the name, the data.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields
from enum import Enum
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from balto.counter.asr.convert.mapping import F32_TENSORS

MAGIC = 0x67676D6C
QK8_0 = 32  # values per q8_0 block
_QNT_VERSION_FACTOR = 1000
_QNT_VERSION = 2


class WeightType(Enum):
    """How the 2-D weight matrices are stored; the value is whisper.cpp's file ``ftype``."""

    F16 = 1
    Q8_0 = 7


# ggml tensor type ids
_GGML_F32 = 0
_GGML_F16 = 1
_GGML_Q8_0 = 8


@dataclass(slots=True)
class HParams:
    n_vocab: int = 0
    n_audio_ctx: int = 0
    n_audio_state: int = 0
    n_audio_head: int = 0
    n_audio_layer: int = 0
    n_text_ctx: int = 0
    n_text_state: int = 0
    n_text_head: int = 0
    n_text_layer: int = 0
    n_mels: int = 0
    ftype: int = 1

    def pack(self) -> bytes:
        return struct.pack("<11i", *astuple(self))

    @classmethod
    def unpack(cls, raw: bytes) -> HParams:
        return cls(*struct.unpack("<11i", raw))


HPARAMS_OFFSET = 4
HPARAMS_SIZE = 4 * len(fields(HParams))


def file_ftype(weights: WeightType) -> int:
    if weights is WeightType.Q8_0:
        return _QNT_VERSION * _QNT_VERSION_FACTOR + int(weights.value)
    return int(weights.value)


def write_preamble(
    out: BinaryIO,
    hparams: HParams,
    filters: npt.NDArray[np.float32],
    tokens: Sequence[bytes],
) -> None:
    """Write magic, hparams (patchable later with :func:`patch_hparams`), filters and vocab."""
    out.write(struct.pack("<i", MAGIC))
    out.write(hparams.pack())
    n_mel, n_fft = filters.shape
    out.write(struct.pack("<ii", n_mel, n_fft))
    out.write(np.ascontiguousarray(filters, dtype="<f4").tobytes())
    out.write(struct.pack("<i", len(tokens)))
    for token in tokens:
        out.write(struct.pack("<i", len(token)))
        out.write(token)


def patch_hparams(out: BinaryIO, hparams: HParams) -> None:
    position = out.tell()
    out.seek(HPARAMS_OFFSET)
    out.write(hparams.pack())
    out.seek(position)


def storage_type(name: str, ndim: int, weights: WeightType) -> int:
    """The ggml type a tensor is written with, following whisper.cpp's converter/quantizer."""
    if ndim < 2 or name in F32_TENSORS:
        return _GGML_F32
    if weights is WeightType.Q8_0 and ndim == 2:
        return _GGML_Q8_0
    return _GGML_F16


def quantize_q8_0(array: npt.NDArray[np.generic]) -> bytes:
    """ggml ``block_q8_0`` rows: per 32 values one float16 scale then 32 int8 (34 bytes)."""
    values = np.asarray(array, dtype=np.float32)
    if values.shape[-1] % QK8_0 != 0:
        raise ValueError(f"a última dimensão ({values.shape[-1]}) não é múltipla de {QK8_0}")
    blocks = values.reshape(-1, QK8_0)
    scale = np.abs(blocks).max(axis=1) / 127.0
    inverse = np.divide(1.0, scale, out=np.zeros_like(scale), where=scale != 0)
    scaled = blocks * inverse[:, None]
    quants = np.trunc(scaled + np.copysign(0.5, scaled)).clip(-127, 127).astype(np.int8)
    packed = np.empty(len(blocks), dtype=[("d", "<f2"), ("qs", "i1", (QK8_0,))])
    packed["d"] = scale.astype(np.float16)
    packed["qs"] = quants
    return packed.tobytes()


def write_tensor(
    out: BinaryIO, name: str, array: npt.NDArray[np.generic], weights: WeightType
) -> int:
    """Append one tensor; returns the number of bytes written."""
    ttype = storage_type(name, array.ndim, weights)
    encoded = name.encode("utf-8")
    header = struct.pack("<iii", array.ndim, len(encoded), ttype)
    header += struct.pack(f"<{array.ndim}i", *reversed(array.shape)) + encoded
    if ttype == _GGML_Q8_0:
        data = quantize_q8_0(array)
    else:
        dtype = "<f4" if ttype == _GGML_F32 else "<f2"
        data = np.ascontiguousarray(array, dtype=dtype).tobytes()
    out.write(header)
    out.write(data)
    return len(header) + len(data)


@dataclass(frozen=True, slots=True)
class TensorInfo:
    name: str
    shape: tuple[int, ...]  # numpy order (outermost first)
    ttype: int


@dataclass(frozen=True, slots=True)
class GgmlSummary:
    hparams: HParams
    filters: npt.NDArray[np.float32]
    tokens: list[bytes]
    tensors: list[TensorInfo]


def _data_size(shape: tuple[int, ...], ttype: int) -> int:
    count = int(np.prod(shape, dtype=np.int64))
    if ttype == _GGML_F32:
        return 4 * count
    if ttype == _GGML_F16:
        return 2 * count
    if ttype == _GGML_Q8_0:
        return count // QK8_0 * (2 + QK8_0)
    raise ValueError(f"tipo ggml {ttype} desconhecido")


def read_summary(stream: BinaryIO) -> GgmlSummary:
    """Parse a ggml whisper file's header, vocab and tensor table (skipping tensor data)."""

    def ints(n: int) -> tuple[int, ...]:
        raw = stream.read(4 * n)
        if len(raw) != 4 * n:
            raise ValueError("arquivo ggml truncado")
        return struct.unpack(f"<{n}i", raw)

    (magic,) = ints(1)
    if magic != MAGIC:
        raise ValueError(f"magic inválido: {magic:#x}")
    hparams = HParams.unpack(stream.read(HPARAMS_SIZE))
    n_mel, n_fft = ints(2)
    filters = np.frombuffer(stream.read(4 * n_mel * n_fft), dtype="<f4").reshape(n_mel, n_fft)
    (n_tokens,) = ints(1)
    tokens = []
    for _ in range(n_tokens):
        (length,) = ints(1)
        tokens.append(stream.read(length))
    tensors: list[TensorInfo] = []
    while header := stream.read(12):
        n_dims, name_len, ttype = struct.unpack("<iii", header)
        dims = ints(n_dims)
        name = stream.read(name_len).decode("utf-8")
        shape = tuple(reversed(dims))
        stream.seek(_data_size(shape, ttype), 1)
        tensors.append(TensorInfo(name, shape, ttype))
    return GgmlSummary(hparams, filters.astype(np.float32), tokens, tensors)
