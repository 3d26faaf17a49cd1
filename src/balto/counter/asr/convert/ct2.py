"""Streaming reader for CTranslate2 ``model.bin`` files (binary version 6).

Layout (little-endian): uint32 version, string spec name, uint32 revision, uint32 variable
count, then per variable: name, uint8 rank, uint32 per dimension, uint8 dtype id, uint32 byte
count, raw data; then uint32 alias count and (alias, target) string pairs. A string is a uint16
length that counts a trailing NUL, then the bytes and the NUL.

Variables are yielded one at a time so a converter never holds the whole model in memory.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

SUPPORTED_VERSION = 6

# CTranslate2 DataType enum → numpy dtype (bfloat16 is widened by hand).
_DTYPES: dict[int, str] = {0: "<f4", 1: "i1", 2: "<i2", 3: "<i4", 4: "<f2", 5: "<u2"}
_BFLOAT16 = 5


class Ct2FormatError(ValueError):
    """The stream is not a CTranslate2 model we can read (wrong version, truncated, ...)."""


@dataclass(frozen=True, slots=True)
class Ct2Header:
    version: int
    spec: str
    revision: int
    n_variables: int


@dataclass(frozen=True, slots=True)
class Ct2Variable:
    name: str
    array: npt.NDArray[np.generic]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.array.shape)


class ChainedReader(io.RawIOBase):
    """Read several binary streams back to back as one (``model.bin.part1`` + ``part2``).

    ``on_read`` is told how many bytes each read returned (for progress bars).
    """

    def __init__(
        self, streams: Iterable[BinaryIO], on_read: Callable[[int], object] | None = None
    ) -> None:
        super().__init__()
        self._streams = iter(streams)
        self._current: BinaryIO | None = next(self._streams, None)
        self._on_read = on_read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        while self._current is not None:
            chunk = self._current.read(len(view))
            if chunk:
                view[: len(chunk)] = chunk
                if self._on_read is not None:
                    self._on_read(len(chunk))
                return len(chunk)
            self._current.close()
            self._current = next(self._streams, None)
        return 0

    def close(self) -> None:
        # Streams not reached yet were never opened (the iterable may be lazy): leave them.
        if self._current is not None:
            self._current.close()
            self._current = None
        super().close()


class Ct2Reader:
    """Parse a CTranslate2 model from a forward-only binary stream."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.header = self._read_header()
        self.aliases: dict[str, str] = {}

    def _read_exact(self, n: int) -> bytes:
        data = self._stream.read(n)
        if data is None or len(data) != n:
            # A short read on a plain stream; keep reading for chained/raw streams.
            parts = [data or b""]
            got = len(parts[0])
            while got < n:
                more = self._stream.read(n - got)
                if not more:
                    raise Ct2FormatError(f"arquivo do modelo truncado (faltam {n - got} bytes)")
                parts.append(more)
                got += len(more)
            data = b"".join(parts)
        return data

    def _u8(self) -> int:
        return int(self._read_exact(1)[0])

    def _u16(self) -> int:
        value: int = struct.unpack("<H", self._read_exact(2))[0]
        return value

    def _u32(self) -> int:
        value: int = struct.unpack("<I", self._read_exact(4))[0]
        return value

    def _string(self) -> str:
        length = self._u16()
        raw = self._read_exact(length)
        if length == 0 or raw[-1] != 0:
            raise Ct2FormatError("cadeia sem terminador NUL no modelo CTranslate2")
        return raw[:-1].decode("utf-8")

    def _read_header(self) -> Ct2Header:
        version = self._u32()
        if version != SUPPORTED_VERSION:
            raise Ct2FormatError(
                f"versão {version} do formato CTranslate2 não suportada "
                f"(esperada {SUPPORTED_VERSION})"
            )
        spec = self._string()
        revision = self._u32()
        count = self._u32()
        return Ct2Header(version=version, spec=spec, revision=revision, n_variables=count)

    def variables(self) -> Iterator[Ct2Variable]:
        """Yield every variable in file order, then read the alias table into ``aliases``."""
        for _ in range(self.header.n_variables):
            yield self._read_variable()
        for _ in range(self._u32()):
            alias = self._string()
            self.aliases[alias] = self._string()

    def _read_variable(self) -> Ct2Variable:
        name = self._string()
        rank = self._u8()
        shape = tuple(self._u32() for _ in range(rank))
        dtype_id = self._u8()
        n_bytes = self._u32()
        if dtype_id not in _DTYPES:
            raise Ct2FormatError(f"tipo de dado {dtype_id} desconhecido em {name}")
        dtype = np.dtype(_DTYPES[dtype_id])
        expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if expected != n_bytes:
            raise Ct2FormatError(f"tamanho inconsistente em {name}: {n_bytes} != {expected}")
        array: npt.NDArray[np.generic] = np.frombuffer(
            self._read_exact(n_bytes), dtype=dtype
        ).reshape(shape)
        if dtype_id == _BFLOAT16:
            array = (array.astype(np.uint32) << 16).view(np.float32)
        return Ct2Variable(name=name, array=array)
