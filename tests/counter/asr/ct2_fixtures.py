"""Writers for tiny synthetic CTranslate2 files (format version 6) used by the converter tests."""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from balto.counter.asr.convert.vocab import byte_decoder

_DTYPE_IDS = {"float32": 0, "int8": 1, "int16": 2, "int32": 3, "float16": 4}


def _string(text: str) -> bytes:
    raw = text.encode("utf-8") + b"\0"
    return struct.pack("<H", len(raw)) + raw


def ct2_bytes(
    variables: Iterable[tuple[str, npt.NDArray[np.generic]]],
    aliases: Iterable[tuple[str, str]] = (),
    *,
    spec: str = "WhisperSpec",
    version: int = 6,
) -> bytes:
    items = list(variables)
    out = [struct.pack("<I", version), _string(spec), struct.pack("<II", 3, len(items))]
    for name, array in items:
        data = np.ascontiguousarray(array).tobytes()
        out.append(_string(name) + struct.pack("<B", array.ndim))
        out.append(struct.pack(f"<{array.ndim}I", *array.shape))
        out.append(struct.pack("<BI", _DTYPE_IDS[array.dtype.name], len(data)) + data)
    alias_list = list(aliases)
    out.append(struct.pack("<I", len(alias_list)))
    for alias, target in alias_list:
        out.append(_string(alias) + _string(target))
    return b"".join(out)


def tiny_whisper_variables(
    *,
    state: int = 64,
    layers: int = 1,
    vocab: int = 300,
    mels: int = 80,
    audio_ctx: int = 16,
    text_ctx: int = 8,
    seed: int = 0,
) -> list[tuple[str, npt.NDArray[np.generic]]]:
    """Every variable of a WhisperSpec model, with small random float16 weights."""
    rng = np.random.default_rng(seed)

    def w(*shape: int) -> npt.NDArray[np.generic]:
        return rng.standard_normal(shape).astype(np.float16)

    ffn = 4 * state
    variables: list[tuple[str, npt.NDArray[np.generic]]] = [
        ("decoder/activation", np.array(3, dtype=np.int8)),
        ("decoder/embeddings/weight", w(vocab, state)),
        ("decoder/layer_norm/beta", w(state)),
        ("decoder/layer_norm/gamma", w(state)),
        ("decoder/position_encodings/encodings", w(text_ctx, state)),
        ("encoder/conv1/bias", w(state)),
        ("encoder/conv1/weight", w(state, mels, 3)),
        ("encoder/conv2/bias", w(state)),
        ("encoder/conv2/weight", w(state, state, 3)),
        ("encoder/layer_norm/beta", w(state)),
        ("encoder/layer_norm/gamma", w(state)),
        ("encoder/num_heads", np.array(state // 64, dtype=np.int16)),
        ("encoder/position_encodings/encodings", w(audio_ctx, state)),
    ]
    for side in ("encoder", "decoder"):
        for i in range(layers):
            p = f"{side}/layer_{i}"
            blocks = ["self_attention", "ffn"] + (["attention"] if side == "decoder" else [])
            for block in blocks:
                variables += [
                    (f"{p}/{block}/layer_norm/gamma", w(state)),
                    (f"{p}/{block}/layer_norm/beta", w(state)),
                ]
            variables += [
                (f"{p}/self_attention/linear_0/weight", w(3 * state, state)),
                (f"{p}/self_attention/linear_0/bias", w(3 * state)),
                (f"{p}/self_attention/linear_1/weight", w(state, state)),
                (f"{p}/self_attention/linear_1/bias", w(state)),
                (f"{p}/ffn/linear_0/weight", w(ffn, state)),
                (f"{p}/ffn/linear_0/bias", w(ffn)),
                (f"{p}/ffn/linear_1/weight", w(state, ffn)),
                (f"{p}/ffn/linear_1/bias", w(state)),
            ]
            if side == "decoder":
                variables += [
                    (f"{p}/attention/linear_0/weight", w(state, state)),
                    (f"{p}/attention/linear_0/bias", w(state)),
                    (f"{p}/attention/linear_1/weight", w(2 * state, state)),
                    (f"{p}/attention/linear_1/bias", w(2 * state)),
                    (f"{p}/attention/linear_2/weight", w(state, state)),
                    (f"{p}/attention/linear_2/bias", w(state)),
                ]
    return variables


def tokenizer_json(n_regular: int) -> bytes:
    """A byte-level BPE tokenizer.json with ``n_regular`` tokens and two special ones."""
    alphabet = sorted(byte_decoder(), key=lambda ch: byte_decoder()[ch])
    vocab = {alphabet[i % 256] * (1 + i // 256): i for i in range(n_regular)}
    vocab["<|endoftext|>"] = n_regular
    added = [
        {"id": n_regular, "content": "<|endoftext|>", "special": True},
        {"id": n_regular + 1, "content": "<|startoftranscript|>", "special": True},
    ]
    return json.dumps({"model": {"vocab": vocab}, "added_tokens": added}).encode()
