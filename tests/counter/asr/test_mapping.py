from __future__ import annotations

import numpy as np
import pytest

from balto.counter.asr.convert.mapping import (
    UnknownVariableError,
    expected_tensor_count,
    map_variable,
)


def test_fused_self_attention_splits_and_drops_key_bias() -> None:
    weight = np.arange(12 * 4, dtype=np.float32).reshape(12, 4)
    out = dict(map_variable("encoder/layer_3/self_attention/linear_0/weight", weight))
    assert list(out) == [f"encoder.blocks.3.attn.{p}.weight" for p in ("query", "key", "value")]
    np.testing.assert_array_equal(out["encoder.blocks.3.attn.key.weight"], weight[4:8])
    bias = dict(map_variable("encoder/layer_3/self_attention/linear_0/bias", np.ones(12)))
    assert list(bias) == ["encoder.blocks.3.attn.query.bias", "encoder.blocks.3.attn.value.bias"]


def test_cross_attention_key_value_split() -> None:
    weight = np.arange(8 * 2, dtype=np.float32).reshape(8, 2)
    out = dict(map_variable("decoder/layer_0/attention/linear_1/weight", weight))
    np.testing.assert_array_equal(out["decoder.blocks.0.cross_attn.value.weight"], weight[4:])
    bias = dict(map_variable("decoder/layer_0/attention/linear_1/bias", np.ones(8)))
    assert list(bias) == ["decoder.blocks.0.cross_attn.value.bias"]


@pytest.mark.parametrize(
    ("ct2", "ggml"),
    [
        ("decoder/layer_1/attention/linear_0/weight", "decoder.blocks.1.cross_attn.query.weight"),
        ("decoder/layer_1/attention/linear_2/bias", "decoder.blocks.1.cross_attn.out.bias"),
        ("decoder/layer_1/attention/layer_norm/gamma", "decoder.blocks.1.cross_attn_ln.weight"),
        ("encoder/layer_0/self_attention/linear_1/weight", "encoder.blocks.0.attn.out.weight"),
        ("encoder/layer_0/self_attention/layer_norm/beta", "encoder.blocks.0.attn_ln.bias"),
        ("encoder/layer_0/ffn/layer_norm/gamma", "encoder.blocks.0.mlp_ln.weight"),
        ("encoder/layer_0/ffn/linear_0/weight", "encoder.blocks.0.mlp.0.weight"),
        ("encoder/layer_0/ffn/linear_1/bias", "encoder.blocks.0.mlp.2.bias"),
        ("encoder/layer_norm/gamma", "encoder.ln_post.weight"),
        ("decoder/layer_norm/beta", "decoder.ln.bias"),
        ("encoder/position_encodings/encodings", "encoder.positional_embedding"),
        ("decoder/embeddings/weight", "decoder.token_embedding.weight"),
        ("encoder/conv2/weight", "encoder.conv2.weight"),
    ],
)
def test_names(ct2: str, ggml: str) -> None:
    assert [name for name, _ in map_variable(ct2, np.zeros((4, 4)))] == [ggml]


def test_conv_bias_becomes_a_column() -> None:
    [(name, array)] = map_variable("encoder/conv1/bias", np.zeros(5))
    assert (name, array.shape) == ("encoder.conv1.bias", (5, 1))


def test_scalars_are_metadata_and_unknown_names_fail() -> None:
    assert map_variable("decoder/alignment_heads", np.array(3, dtype=np.int16)) == []
    with pytest.raises(UnknownVariableError):
        map_variable("decoder/mystery/weight", np.zeros(3))
    with pytest.raises(UnknownVariableError):
        map_variable("encoder/layer_0/attention/linear_0/weight", np.zeros((4, 4)))


def test_expected_tensor_count_for_base() -> None:
    assert expected_tensor_count(6, 6) == 245
