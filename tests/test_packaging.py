"""The wheel ``pip install .`` builds (what the Docker image installs) carries every file the
package reads at run time: a data file left out of ``[tool.setuptools.package-data]`` works in
the editable checkout and breaks only in the image (the partnumber glossary did)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# pip's isolated build fetches pyproject's build requirements from the package index, as the
# setup and the image's `pip install .` do
PIP_WHEEL = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q"]


def _tracked(*paths: str) -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--", *paths], cwd=REPO, capture_output=True, text=True, check=True
    )
    return listed.stdout.split()


def test_the_wheel_carries_every_file_of_the_package(tmp_path: Path) -> None:
    # Built from a copy of the tracked files, as the image's `COPY` and `pip install .` see
    # them: the checkout's build/ and egg-info (left by other builds) would hide a miss.
    source = tmp_path / "src-tree"
    for name in _tracked("pyproject.toml", "README.md", "src"):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, source / name)
    out = tmp_path / "wheel"
    subprocess.run(
        [*PIP_WHEEL, str(source), "-w", str(out)],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("balto-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = set(archive.namelist())
    tracked = {name.removeprefix("src/") for name in _tracked("src/balto")}
    assert "balto/partnumber/classify/data/glossario.txt" in tracked
    assert tracked - shipped == set()
