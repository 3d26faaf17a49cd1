from __future__ import annotations

import io

import numpy as np

from balto.counter.asr.convert import ggml
from balto.counter.asr.convert.ggml import HParams, WeightType


def _dequantize_q8_0(raw: bytes, count: int) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=[("d", "<f2"), ("qs", "i1", (32,))])
    values = blocks["qs"].astype(np.float32) * blocks["d"].astype(np.float32)[:, None]
    return values.reshape(-1)[:count]


def test_round_trip_of_header_vocab_and_tensors() -> None:
    out = io.BytesIO()
    filters = np.ones((80, 201), dtype=np.float32)
    ggml.write_preamble(out, HParams(), filters, [b"a", b"", b"\xc3\xa7"])
    ggml.write_tensor(out, "encoder.conv1.weight", np.zeros((8, 80, 3), np.float16), WeightType.F16)
    ggml.write_tensor(out, "encoder.conv1.bias", np.zeros((8, 1), np.float16), WeightType.F16)
    ggml.write_tensor(out, "decoder.ln.weight", np.zeros(8, np.float16), WeightType.F16)
    ggml.patch_hparams(out, HParams(n_vocab=51865, n_mels=80, ftype=1))
    out.seek(0)
    summary = ggml.read_summary(out)
    assert summary.hparams.n_vocab == 51865
    assert summary.tokens == [b"a", b"", "ç".encode()]
    assert summary.filters.shape == (80, 201)
    assert [(t.name, t.shape, t.ttype) for t in summary.tensors] == [
        ("encoder.conv1.weight", (8, 80, 3), 1),
        ("encoder.conv1.bias", (8, 1), 0),
        ("decoder.ln.weight", (8,), 0),
    ]
    assert out.tell() == len(out.getvalue())


def test_dimensions_are_written_innermost_first() -> None:
    out = io.BytesIO()
    ggml.write_tensor(out, "w", np.zeros((3, 64), np.float16), WeightType.F16)
    assert np.frombuffer(out.getvalue()[:20], dtype="<i4").tolist() == [2, 1, 1, 64, 3]


def test_q8_0_blocks_round_trip_within_half_a_step() -> None:
    rng = np.random.default_rng(1)
    values = rng.standard_normal((4, 64)).astype(np.float32)
    values[0, :32] = 0.0  # an all-zero block must not divide by zero
    raw = ggml.quantize_q8_0(values)
    assert len(raw) == 8 * 34
    restored = _dequantize_q8_0(raw, values.size).reshape(values.shape)
    step = np.abs(values.reshape(-1, 32)).max(axis=1) / 127
    error = np.abs(restored - values).reshape(-1, 32).max(axis=1)
    assert (error <= step * 0.51 + 1e-3).all()


def test_storage_types_follow_whisper_cpp() -> None:
    assert ggml.storage_type("decoder.positional_embedding", 2, WeightType.F16) == 0
    assert ggml.storage_type("encoder.blocks.0.mlp.0.bias", 1, WeightType.Q8_0) == 0
    assert ggml.storage_type("encoder.conv1.weight", 3, WeightType.Q8_0) == 1
    assert ggml.storage_type("encoder.blocks.0.mlp.0.weight", 2, WeightType.Q8_0) == 8
    assert ggml.file_ftype(WeightType.Q8_0) == 2007
