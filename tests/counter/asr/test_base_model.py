"""Structure of the converted base model, as whisper.cpp expects it: the f16 conversion in
detail, and the q8_0 one (the server's default) where it differs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from balto.counter.asr.convert.ggml import GgmlSummary, read_summary
from balto.counter.asr.convert.mel import mel_filters
from balto.counter.asr.model_cache import ensure_model

pytestmark = pytest.mark.slow


def _summary(base_model: Path, weights: str) -> GgmlSummary:
    cache_dir = base_model.parent.parent  # <cache>/models/ggml-base*.bin
    with ensure_model("base", cache_dir, weights=weights).open("rb") as stream:
        return read_summary(stream)


@pytest.fixture(scope="module")
def summary(base_model: Path) -> GgmlSummary:
    return _summary(base_model, "f16")


def test_q8_0_quantises_only_the_large_matrices(base_model: Path) -> None:
    quantised = _summary(base_model, "q8_0")
    assert quantised.hparams.ftype == 2007  # whisper.cpp: 1000 x quantisation version 2 + 7
    tensors = {t.name: t for t in quantised.tensors}
    assert tensors["encoder.blocks.5.mlp.0.weight"].ttype == 8  # GGML_TYPE_Q8_0
    assert tensors["decoder.token_embedding.weight"].ttype == 8
    assert tensors["encoder.positional_embedding"].ttype == 0  # f32 stays f32
    assert tensors["decoder.ln.bias"].ttype == 0
    assert base_file_is_whole(tensors)


def test_hparams(summary: GgmlSummary) -> None:
    hp = summary.hparams
    assert (hp.n_vocab, hp.n_audio_ctx, hp.n_audio_state, hp.n_audio_head, hp.n_audio_layer) == (
        51865,
        1500,
        512,
        8,
        6,
    )
    assert (hp.n_text_ctx, hp.n_text_state, hp.n_text_head, hp.n_text_layer) == (448, 512, 8, 6)
    assert (hp.n_mels, hp.ftype) == (80, 1)


def test_filters_and_vocab(summary: GgmlSummary) -> None:
    assert summary.filters.shape == (80, 201)
    assert (summary.filters == mel_filters()).all()
    assert len(summary.tokens) == 50257  # whisper.cpp adds the 1608 special tokens itself
    assert summary.tokens[0] == b"!"
    assert summary.tokens[220] == b" "
    assert summary.tokens[50256] == b""  # the multilingual vocab's one empty token
    assert "ção".encode() in summary.tokens


def test_tensor_table(summary: GgmlSummary) -> None:
    tensors = {t.name: t for t in summary.tensors}
    assert len(tensors) == len(summary.tensors) == 245
    expected = {
        "encoder.conv1.weight": ((512, 80, 3), 1),
        "encoder.conv1.bias": ((512, 1), 0),
        "encoder.conv2.weight": ((512, 512, 3), 1),
        "encoder.positional_embedding": ((1500, 512), 0),
        "encoder.ln_post.weight": ((512,), 0),
        "encoder.blocks.0.attn.query.weight": ((512, 512), 1),
        "encoder.blocks.0.attn.query.bias": ((512,), 0),
        "encoder.blocks.5.attn.key.weight": ((512, 512), 1),
        "encoder.blocks.5.mlp.0.weight": ((2048, 512), 1),
        "encoder.blocks.5.mlp.2.weight": ((512, 2048), 1),
        "decoder.positional_embedding": ((448, 512), 0),
        "decoder.token_embedding.weight": ((51865, 512), 1),
        "decoder.ln.bias": ((512,), 0),
        "decoder.blocks.3.cross_attn.key.weight": ((512, 512), 1),
        "decoder.blocks.3.cross_attn.value.bias": ((512,), 0),
        "decoder.blocks.3.cross_attn_ln.weight": ((512,), 0),
    }
    for name, (shape, ttype) in expected.items():
        assert (tensors[name].shape, tensors[name].ttype) == (shape, ttype), name
    assert not any(name.endswith("key.bias") for name in tensors)
    assert base_file_is_whole(tensors)


def base_file_is_whole(tensors: Mapping[str, object]) -> bool:
    blocks = {n.split(".")[0] + "." + n.split(".")[2] for n in tensors if ".blocks." in n}
    return blocks == {f"{side}.{i}" for side in ("encoder", "decoder") for i in range(6)}
