"""The runner's settings and the partnumber app's environment options."""

from __future__ import annotations

from pathlib import Path

import pytest

from balto.core.config import ConfigError, HttpConfig
from balto.partnumber.config import PartnumberConfig
from balto.tls import _default_bind, build_parser, hypercorn_config


def test_hypercorn_settings_follow_the_balto_config() -> None:
    config = HttpConfig(
        keepalive_timeout_s=7,
        shutdown_grace_s=4,
        max_header_bytes=8192,
        ws_max_message_bytes=1000,
        ws_ping_interval_s=15,
    )
    hyper = hypercorn_config(
        config, binds=["0.0.0.0:8765"], certfile=Path("c.pem"), keyfile=Path("k.pem")
    )
    assert hyper.bind == ["0.0.0.0:8765"] and hyper.worker_class == "trio"
    assert (hyper.certfile, hyper.keyfile) == ("c.pem", "k.pem")
    assert hyper.keep_alive_timeout == 7 and hyper.graceful_timeout == 4
    assert hyper.h11_max_incomplete_size == 8192 and hyper.websocket_max_message_size == 1000
    assert hyper.websocket_ping_interval == 15 and hyper.read_timeout == 45


def test_certificate_and_key_go_together() -> None:
    with pytest.raises(ConfigError, match="--certfile e --keyfile"):
        hypercorn_config(HttpConfig(), binds=["127.0.0.1:0"], certfile=Path("c.pem"))


def test_default_bind_and_arguments() -> None:
    assert _default_bind(HttpConfig(host="0.0.0.0", port=8765)) == "0.0.0.0:8765"
    assert _default_bind(HttpConfig(host="::", port=8765)) == "[::]:8765"
    args = build_parser().parse_args(["balto", "--certfile", "c.pem", "--keyfile", "k.pem"])
    assert args.service == "balto" and args.bind is None


def test_partnumber_cors_from_env() -> None:
    assert PartnumberConfig.from_env({}).allowed_origins is None  # same origin only
    assert PartnumberConfig.from_env({"PARTNUMBER_CORS_ORIGINS": "*"}).allowed_origins == "*"
    listed = PartnumberConfig.from_env({"PARTNUMBER_CORS_ORIGINS": "https://a.com, https://b.com"})
    assert listed.allowed_origins == ["https://a.com", "https://b.com"]
