"""Config per app: parsed from the type hints, environment read once, overrides routed."""

from __future__ import annotations

from pathlib import Path

import pytest

from balto.core.config import ConfigError, HttpConfig, usable_cpus
from balto.counter.config import CounterConfig
from balto.partnumber.config import PartnumberConfig


def test_fields_are_parsed_from_their_type_hints() -> None:
    config = CounterConfig.from_env(
        {
            "PORT": "9000",
            "REQUEST_TIMEOUT_S": "2.5",
            "STORE_TRANSCRIPTS": "sim",
            "DB_FILE": "~/x.db",
            "BALTO_MODEL": "/m/ggml.bin",
            "ADMIN_TOKEN": "t",
            "ASR_WORKERS": "2",
            "ASR_BEAM_SIZE": "5",
        }
    )
    assert config.http.port == 9000 and config.http.request_timeout_s == 2.5
    assert config.store_transcripts is True and config.asr_workers == 2
    assert config.asr_beam_size == 5 and CounterConfig.from_env({}).asr_beam_size == 1
    assert config.db_file == Path("~/x.db").expanduser()
    assert config.model_path == Path("/m/ggml.bin") and config.admin_token == "t"
    assert CounterConfig.from_env({}).report_timezone == "America/Sao_Paulo"
    assert CounterConfig.from_env({"REPORT_TIMEZONE": "UTC"}).report_timezone == "UTC"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "oito"),
        ("STORE_TRANSCRIPTS", "talvez"),
        ("PORT", "70000"),
        ("ASR_WORKERS", "-1"),
        ("ASR_BEAM_SIZE", "0"),
        ("REPORT_TIMEZONE", "Marte/Base_Alfa"),
        ("REPORT_TIMEZONE", "America"),
        ("REPORT_TIMEZONE", "../../etc/passwd"),
        ("BALTO_MODEL_WEIGHTS", "q4_0"),
    ],
)
def test_bad_values_are_one_clear_error(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        CounterConfig.from_env({name: value})


def test_flags_win_over_the_environment_and_none_means_not_given() -> None:
    config = CounterConfig.from_env({"PORT": "9000", "HOST": "::"}, port=7000, host=None)
    assert (config.http.host, config.http.port) == ("::", 7000)


def test_replace_routes_http_fields_and_refuses_unknown_ones() -> None:
    config = CounterConfig().replace(max_connections=7, auth_timeout_s=3.0)
    assert config.http.max_connections == 7 and config.auth_timeout_s == 3.0
    with pytest.raises(TypeError, match="nada"):
        CounterConfig().replace(nada=1)


def test_partnumber_defaults_to_port_5000_unless_port_is_set() -> None:
    assert PartnumberConfig.from_env({}).http.port == 5000
    assert PartnumberConfig.from_env({"PORT": "8000"}).http.port == 8000
    assert PartnumberConfig.from_env({}, port=0).http.port == 0
    config = PartnumberConfig.from_env({"PARTNUMBER_CATALOG": "/c.csv", "BALTO_CACHE_DIR": "/k"})
    assert config.catalog_csv == Path("/c.csv")
    assert config.classifier_cache_dir == Path("/k/partnumber")


def test_http_config_is_shared_and_validated() -> None:
    assert HttpConfig.from_env({"WS_PING_INTERVAL_S": "5"}).ws_ping_interval_s == 5.0
    assert CounterConfig.from_env({"WS_PING_INTERVAL_S": "5"}).ws_ping_interval_s == 5.0
    with pytest.raises(ConfigError, match="MAX_BODY_BYTES"):
        HttpConfig.from_env({"MAX_BODY_BYTES": "-1"})


def test_replace_takes_none_and_a_whole_http_config() -> None:
    config = CounterConfig(admin_token="t").replace(admin_token=None, model_path=None)
    assert config.admin_token is None and config.model_path is None
    http = HttpConfig(port=1234)
    assert CounterConfig().replace(http=http, request_timeout_s=2.0).http == HttpConfig(
        port=1234, request_timeout_s=2.0
    )


def test_a_misspelled_override_is_refused() -> None:
    with pytest.raises(TypeError, match="dbfile"):
        CounterConfig.from_env({}, dbfile="x.db")
    with pytest.raises(TypeError, match="prot"):
        PartnumberConfig.from_env({}, prot=1)


def test_asr_workers_follow_the_usable_cores_unless_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("balto.counter.config.usable_cpus", lambda: 8)
    assert CounterConfig.from_env({}).asr_worker_count == 8  # 1 thread each
    assert CounterConfig.from_env({"ASR_THREADS_PER_WORKER": "2"}).asr_worker_count == 4
    assert CounterConfig.from_env({"ASR_WORKERS": "3"}).asr_worker_count == 3
    monkeypatch.setattr("balto.counter.config.usable_cpus", lambda: 1)
    assert CounterConfig.from_env({}).asr_worker_count == 1


def test_usable_cpus_follow_a_container_quota(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(32)))
    assert usable_cpus(tmp_path) == 32  # no cgroup files: the affinity
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert usable_cpus(tmp_path) == 32  # v2 without a limit
    (tmp_path / "cpu.max").write_text("250000 100000\n")
    assert usable_cpus(tmp_path) == 3  # --cpus=2.5: rounded up
    (tmp_path / "cpu.max").unlink()
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert usable_cpus(tmp_path) == 32  # v1 without a limit
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("200000\n")
    assert usable_cpus(tmp_path) == 2
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("garbage\n")
    assert usable_cpus(tmp_path) == 32
