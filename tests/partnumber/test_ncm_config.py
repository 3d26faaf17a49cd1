"""Which NCM table the service loads (``resolve_ncm_table``): PARTNUMBER_NCM unset uses the
installed one if there is one, ``nenhuma`` none, a path that file."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import pytest

from balto.partnumber.config import PartnumberConfig, resolve_ncm_table
from balto.partnumber.ncm_source import installed_table, origin_path, origin_record, sha256_of


def install_fake(cache: Path) -> Path:
    table = installed_table(cache)
    table.parent.mkdir(parents=True)
    table.write_text('"id","code","name"\n"x","9990.10.10","Teste"\n', encoding="utf-8")
    record = origin_record(sha256_of(table), dt.date(2026, 12, 1))
    origin_path(table).write_text(json.dumps(record), encoding="utf-8")
    return table


def config(cache: Path, **env: str) -> PartnumberConfig:
    return PartnumberConfig.from_env({"BALTO_CACHE_DIR": str(cache), **env})


def test_unset_uses_the_installed_table(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    table = install_fake(tmp_path)
    with caplog.at_level(logging.INFO, logger="balto.partnumber.config"):
        assert resolve_ncm_table(config(tmp_path)) == table
    assert f"tabela NCM: {table} (instalada" in caplog.text


def test_unset_without_an_installed_table_warns_how_to_install(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="balto.partnumber.config"):
        assert resolve_ncm_table(config(tmp_path)) is None
    [record] = [r for r in caplog.records if r.name == "balto.partnumber.config"]
    assert record.levelno == logging.WARNING
    assert "balto partnumber ncm install" in record.getMessage()
    assert "PARTNUMBER_NCM=nenhuma" in record.getMessage()
    # A table without its origem.json (copied by hand, half installed) is not used either.
    table = install_fake(tmp_path / "meio")
    origin_path(table).unlink()
    assert resolve_ncm_table(config(tmp_path / "meio")) is None


@pytest.mark.parametrize("value", ["nenhuma", "NENHUMA", " nenhuma "])
def test_nenhuma_turns_it_off(tmp_path: Path, value: str) -> None:
    install_fake(tmp_path)
    assert resolve_ncm_table(config(tmp_path, PARTNUMBER_NCM=value)) is None
    assert resolve_ncm_table(PartnumberConfig(cache_dir=tmp_path, ncm_table=Path(value))) is None


def test_a_path_is_that_file(tmp_path: Path) -> None:
    install_fake(tmp_path)
    chosen = tmp_path / "minha.json"
    assert resolve_ncm_table(config(tmp_path, PARTNUMBER_NCM=str(chosen))) == chosen
    # the --ncm flag wins over the environment
    flagged = PartnumberConfig.from_env(
        {"BALTO_CACHE_DIR": str(tmp_path), "PARTNUMBER_NCM": "nenhuma"}, ncm_table=chosen
    )
    assert resolve_ncm_table(flagged) == chosen


def test_the_service_loads_the_resolved_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What serve, the worker and the ASGI app load: the table resolve_ncm_table chose."""
    from balto.partnumber import service

    table = install_fake(tmp_path)
    calls: list[tuple[object, ...]] = []
    monkeypatch.setattr(service, "load_classifier", lambda *args: calls.append(args) or "c")
    assert service.load_configured_classifier(config(tmp_path)) == "c"
    assert service.load_configured_classifier(config(tmp_path, PARTNUMBER_NCM="nenhuma")) == "c"
    assert calls == [
        (None, table, tmp_path / "partnumber"),
        (None, None, tmp_path / "partnumber"),
    ]
