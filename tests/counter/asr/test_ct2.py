from __future__ import annotations

import io
import itertools

import numpy as np
import pytest

from balto.counter.asr.convert.ct2 import ChainedReader, Ct2FormatError, Ct2Reader
from tests.counter.asr.ct2_fixtures import ct2_bytes


def _sample() -> bytes:
    return ct2_bytes(
        [
            ("decoder/activation", np.array(3, dtype=np.int8)),
            ("decoder/embeddings/weight", np.arange(12, dtype=np.float16).reshape(4, 3)),
            ("encoder/scale", np.array([1.5, -2.0], dtype=np.float32)),
            ("encoder/num_heads", np.array(8, dtype=np.int16)),
        ],
        aliases=[("decoder/projection/weight", "decoder/embeddings/weight")],
    )


def test_reads_header_variables_and_aliases() -> None:
    reader = Ct2Reader(io.BytesIO(_sample()))
    assert reader.header.version == 6
    assert reader.header.spec == "WhisperSpec"
    assert reader.header.n_variables == 4
    variables = {v.name: v.array for v in reader.variables()}
    assert int(variables["decoder/activation"]) == 3
    assert variables["decoder/embeddings/weight"].dtype == np.float16
    assert variables["decoder/embeddings/weight"].shape == (4, 3)
    assert variables["decoder/embeddings/weight"][3, 2] == 11
    np.testing.assert_array_equal(variables["encoder/scale"], [1.5, -2.0])
    assert int(variables["encoder/num_heads"]) == 8
    assert reader.aliases == {"decoder/projection/weight": "decoder/embeddings/weight"}


@pytest.mark.parametrize("cuts", [(1,), (7, 40), (13, 14, 15, 90)])
def test_chained_parts_read_like_one_file(cuts: tuple[int, ...]) -> None:
    data = _sample()
    bounds = [0, *cuts, len(data)]
    parts = [io.BytesIO(data[a:b]) for a, b in itertools.pairwise(bounds)]
    seen: list[int] = []
    with ChainedReader(parts, seen.append) as chained:
        names = [v.name for v in Ct2Reader(chained).variables()]  # type: ignore[arg-type]
    assert names[1] == "decoder/embeddings/weight"
    assert sum(seen) == len(data)


def test_truncated_file_is_reported() -> None:
    data = _sample()
    reader = Ct2Reader(io.BytesIO(data[: len(data) // 2]))
    with pytest.raises(Ct2FormatError, match="truncado"):
        list(reader.variables())


def test_wrong_version_is_rejected() -> None:
    with pytest.raises(Ct2FormatError, match="versão 5"):
        Ct2Reader(io.BytesIO(ct2_bytes([], version=5)))


def test_size_mismatch_is_rejected() -> None:
    data = bytearray(ct2_bytes([("x", np.zeros(4, dtype=np.float32))]))
    marker = data.index(b"x\0") + 2 + 1 + 4 + 1  # name, rank, dim, dtype → byte count
    data[marker] = 15
    with pytest.raises(Ct2FormatError, match="inconsistente"):
        list(Ct2Reader(io.BytesIO(bytes(data))).variables())
