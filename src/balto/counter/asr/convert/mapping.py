"""CTranslate2 ``WhisperSpec`` variable names → whisper.cpp tensor names.

CTranslate2 fuses some projections: encoder/decoder ``self_attention/linear_0`` is Q,K,V
stacked on the output axis, decoder ``attention/linear_1`` (cross attention) is K,V. The key
projections have no bias in Whisper; CTranslate2 stores zeros there, which we drop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.generic]

_LN = {"gamma": "weight", "beta": "bias"}

_FIXED: dict[str, str] = {
    "encoder/conv1/weight": "encoder.conv1.weight",
    "encoder/conv1/bias": "encoder.conv1.bias",
    "encoder/conv2/weight": "encoder.conv2.weight",
    "encoder/conv2/bias": "encoder.conv2.bias",
    "encoder/position_encodings/encodings": "encoder.positional_embedding",
    "decoder/position_encodings/encodings": "decoder.positional_embedding",
    "decoder/embeddings/weight": "decoder.token_embedding.weight",
    "encoder/layer_norm/gamma": "encoder.ln_post.weight",
    "encoder/layer_norm/beta": "encoder.ln_post.bias",
    "decoder/layer_norm/gamma": "decoder.ln.weight",
    "decoder/layer_norm/beta": "decoder.ln.bias",
}

_LAYER = re.compile(
    r"^(?P<side>encoder|decoder)/layer_(?P<index>\d+)/(?P<block>self_attention|attention|ffn)/"
    r"(?P<module>layer_norm|linear_\d)/(?P<param>gamma|beta|weight|bias)$"
)

# (block, module) → the names of the stacked parts, in CTranslate2's order. None = dropped bias.
_SPLITS: dict[tuple[str, str], tuple[str, ...]] = {
    ("self_attention", "linear_0"): ("attn.query", "attn.key", "attn.value"),
    ("self_attention", "linear_1"): ("attn.out",),
    ("attention", "linear_0"): ("cross_attn.query",),
    ("attention", "linear_1"): ("cross_attn.key", "cross_attn.value"),
    ("attention", "linear_2"): ("cross_attn.out",),
    ("ffn", "linear_0"): ("mlp.0",),
    ("ffn", "linear_1"): ("mlp.2",),
}
_NORMS = {"self_attention": "attn_ln", "attention": "cross_attn_ln", "ffn": "mlp_ln"}
_BIASLESS = {"attn.key", "cross_attn.key"}

# Tensors whisper.cpp wants as float32 besides every 1-D tensor.
F32_TENSORS = frozenset(
    {
        "encoder.conv1.bias",
        "encoder.conv2.bias",
        "encoder.positional_embedding",
        "decoder.positional_embedding",
    }
)


class UnknownVariableError(ValueError):
    """A CTranslate2 variable with data that we do not know where to put."""


@dataclass(frozen=True, slots=True)
class LayerRef:
    side: str
    index: int


def layer_of(ct2_name: str) -> LayerRef | None:
    match = _LAYER.match(ct2_name)
    return LayerRef(match["side"], int(match["index"])) if match else None


def map_variable(name: str, array: Array) -> list[tuple[str, Array]]:
    """Return the whisper.cpp tensors made from one CTranslate2 variable.

    Scalars (``decoder/activation``, ``*/num_heads``, ...) are metadata and map to nothing.
    """
    if array.ndim == 0:
        return []
    if name in _FIXED:
        target = _FIXED[name]
        if target in ("encoder.conv1.bias", "encoder.conv2.bias"):
            array = array.reshape(array.shape[0], 1)
        return [(target, array)]
    match = _LAYER.match(name)
    if match is None:
        raise UnknownVariableError(f"variável desconhecida no modelo CTranslate2: {name}")
    prefix = f"{match['side']}.blocks.{match['index']}"
    block, module, param = match["block"], match["module"], match["param"]
    if module == "layer_norm":
        return [(f"{prefix}.{_NORMS[block]}.{_LN[param]}", array)]
    if param not in ("weight", "bias") or (block, module) not in _SPLITS:
        raise UnknownVariableError(f"variável desconhecida no modelo CTranslate2: {name}")
    if block == "attention" and match["side"] != "decoder":
        raise UnknownVariableError(f"atenção cruzada fora do decodificador: {name}")
    parts = _SPLITS[(block, module)]
    if array.shape[0] % len(parts) != 0:
        raise UnknownVariableError(f"{name} não se divide em {len(parts)} partes iguais")
    pieces = np.split(array, len(parts), axis=0)
    out: list[tuple[str, Array]] = []
    for part, piece in zip(parts, pieces, strict=True):
        if param == "bias" and part in _BIASLESS:
            continue
        out.append((f"{prefix}.{part}.{param}", np.ascontiguousarray(piece)))
    return out


def expected_tensor_count(n_audio_layer: int, n_text_layer: int) -> int:
    """How many tensors whisper.cpp loads for these layer counts."""
    encoder_block = 15  # 2 ln + q(w,b) k(w) v(w,b) out(w,b) + 2 mlp_ln + mlp.0/2 (w,b)
    decoder_block = encoder_block + 9  # + cross_attn_ln(2) + q(2) k(1) v(2) out(2)
    return 7 + 4 + n_audio_layer * encoder_block + n_text_layer * decoder_block
