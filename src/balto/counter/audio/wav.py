"""WAV files (the bytes of one) → mono float32 samples at the file's own rate. Sans-IO.

One RIFF parser for every layout a recorder writes: integer PCM of 8 (unsigned), 16, 24 or 32
bits, IEEE float of 32 or 64 bits, plain (``WAVE_FORMAT_PCM``/``WAVE_FORMAT_IEEE_FLOAT``) or
``WAVE_FORMAT_EXTENSIBLE``, any number of channels (mixed to mono by averaging), any rate
(:func:`balto.counter.audio.pcm.resample_to_target` brings it to 16 kHz). Python's ``wave``
module reads only the first of these layouts, hence this parser.

A recording cut short (the recorder stopped before it wrote its final sizes, or a copy that did
not finish) keeps the whole frames it has and says so in ``truncated``; a file without them, or
that is no WAV at all, raises an :class:`InvalidWav` with a Portuguese message.
"""

from __future__ import annotations

import dataclasses
import struct

import numpy as np

from balto.core.errors import BadRequest
from balto.counter.audio.types import Audio

FORMAT_PCM = 0x0001
FORMAT_IEEE_FLOAT = 0x0003
FORMAT_EXTENSIBLE = 0xFFFE
#: The tail shared by the KSDATAFORMAT_SUBTYPE GUIDs of PCM and IEEE float (after the tag).
SUBFORMAT_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
MAX_CHANNELS = 64
MAX_RATE_HZ = 768_000

_FORMAT_NAMES = {FORMAT_PCM: "PCM", FORMAT_IEEE_FLOAT: "float"}


class InvalidWav(BadRequest):
    """The bytes are not a WAV file we can read; the message (Portuguese) says why."""


class NotWav(InvalidWav):
    """Not a RIFF/WAVE file at all."""


class UnsupportedWav(InvalidWav):
    """A WAV whose encoding we do not decode (compressed, odd sample sizes)."""


class TruncatedWav(InvalidWav):
    """The file ends before its format or its first sample."""


class EmptyWav(InvalidWav):
    """A well-formed WAV with no audio in it."""


@dataclasses.dataclass(frozen=True, slots=True)
class WavFormat:
    encoding: int  # FORMAT_PCM or FORMAT_IEEE_FLOAT (an extensible file's subformat)
    channels: int
    sample_rate_hz: int
    bits: int  # container size of one sample
    extensible: bool = False

    @property
    def frame_bytes(self) -> int:
        return self.channels * self.bits // 8

    def describe(self) -> str:
        """ "PCM 16 bits", "float 32 bits (extensible)"."""
        tail = " (extensible)" if self.extensible else ""
        return f"{_FORMAT_NAMES[self.encoding]} {self.bits} bits{tail}"


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class WavAudio:
    """Mono float32 samples in [-1, 1] at ``format.sample_rate_hz``."""

    samples: Audio
    format: WavFormat
    truncated: bool  # the data chunk declared more than the file holds

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.format.sample_rate_hz


def decode_wav(data: bytes) -> WavAudio:
    """Parse and decode a whole WAV file; raises an :class:`InvalidWav` subclass."""
    view = memoryview(data)
    if not view:
        raise EmptyWav("o arquivo está vazio")
    head = bytes(view[:12])
    if head[:4] == b"RF64":
        raise UnsupportedWav("WAV RF64 (acima de 4 GiB) não suportado")
    if len(head) < 12 and b"RIFF".startswith(head[:4]):
        raise TruncatedWav("arquivo WAV truncado: termina no cabeçalho RIFF")
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise NotWav("não é um arquivo WAV (falta o cabeçalho RIFF/WAVE)")
    fmt: WavFormat | None = None
    offset = 12
    while True:
        if offset + 8 > len(view):
            if fmt is None:
                raise TruncatedWav("arquivo WAV truncado: termina antes do bloco 'fmt '")
            raise TruncatedWav("arquivo WAV truncado: termina antes do bloco de áudio 'data'")
        chunk_id = bytes(view[offset : offset + 4])
        (size,) = struct.unpack_from("<I", view, offset + 4)
        body = offset + 8
        if chunk_id == b"fmt ":
            if body + size > len(view):
                raise TruncatedWav("arquivo WAV truncado: o bloco 'fmt ' está incompleto")
            fmt = _parse_fmt(view[body : body + size])
        elif chunk_id == b"data":
            if fmt is None:
                raise InvalidWav("arquivo WAV inválido: o áudio vem antes do bloco 'fmt '")
            available = len(view) - body
            payload = view[body : body + min(size, available)]
            return _decode_data(payload, fmt, truncated=size > available)
        offset = body + size + (size & 1)  # chunks are padded to an even size


def _parse_fmt(chunk: memoryview) -> WavFormat:
    if len(chunk) < 16:
        raise InvalidWav("arquivo WAV inválido: bloco 'fmt ' curto demais")
    tag, channels, rate, _byte_rate, block_align, bits = struct.unpack_from("<HHIIHH", chunk)
    extensible = tag == FORMAT_EXTENSIBLE
    if extensible:
        if len(chunk) < 40:
            raise InvalidWav("arquivo WAV inválido: bloco 'fmt ' extensível curto demais")
        subformat = bytes(chunk[24:40])
        if subformat[2:] != SUBFORMAT_TAIL:
            raise UnsupportedWav("formato WAV extensível não suportado (subformato desconhecido)")
        (tag,) = struct.unpack_from("<H", subformat)
    if tag not in _FORMAT_NAMES:
        raise UnsupportedWav(
            f"codificação WAV não suportada (código 0x{tag:04x}); use PCM ou float não comprimido"
        )
    if not 1 <= channels <= MAX_CHANNELS:
        raise InvalidWav(f"arquivo WAV inválido: {channels} canais")
    if not 1 <= rate <= MAX_RATE_HZ:
        raise UnsupportedWav(f"taxa de amostragem não suportada: {rate} Hz")
    # The container size is what the data holds (a 20-bit sample sits in 24 bits).
    container_bits = 8 * block_align // channels if block_align % channels == 0 else 0
    if container_bits == 0 or container_bits < bits:
        raise InvalidWav(
            f"arquivo WAV inválido: {block_align} bytes por quadro para {channels} canais "
            f"de {bits} bits"
        )
    supported = (8, 16, 24, 32) if tag == FORMAT_PCM else (32, 64)
    if container_bits not in supported:
        name = "PCM inteiro" if tag == FORMAT_PCM else "float"
        accepted = ", ".join(map(str, supported))
        raise UnsupportedWav(f"{name} de {container_bits} bits não suportado (use {accepted} bits)")
    return WavFormat(tag, channels, rate, container_bits, extensible)


def _decode_data(payload: memoryview, fmt: WavFormat, *, truncated: bool) -> WavAudio:
    frames = len(payload) // fmt.frame_bytes
    if frames == 0:
        if truncated:
            raise TruncatedWav("arquivo WAV truncado: termina antes do primeiro quadro de áudio")
        raise EmptyWav("o arquivo WAV não tem áudio")
    raw = bytes(payload[: frames * fmt.frame_bytes])
    samples = _to_float(raw, fmt).reshape(frames, fmt.channels)
    mono = samples[:, 0] if fmt.channels == 1 else samples.mean(axis=1, dtype=np.float64)
    mono = np.nan_to_num(np.asarray(mono, dtype=np.float32), nan=0.0, posinf=1.0, neginf=-1.0)
    return WavAudio(np.clip(mono, -1.0, 1.0), fmt, truncated)


def _to_float(raw: bytes, fmt: WavFormat) -> Audio:
    if fmt.encoding == FORMAT_IEEE_FLOAT:
        dtype = "<f4" if fmt.bits == 32 else "<f8"
        return np.frombuffer(raw, dtype=dtype).astype(np.float32)
    if fmt.bits == 8:  # 8-bit WAV is unsigned, centred on 128
        return (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    if fmt.bits == 24:
        triplets = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        values = triplets[:, 0] | (triplets[:, 1] << 8) | (triplets[:, 2] << 16)
        values = (values << 8) >> 8  # sign-extend from 24 bits
        return values.astype(np.float32) / np.float32(2**23)
    dtype = "<i2" if fmt.bits == 16 else "<i4"
    scale = np.float32(1.0 / 2 ** (fmt.bits - 1))
    return np.frombuffer(raw, dtype=dtype).astype(np.float32) * scale
