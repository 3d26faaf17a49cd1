"""Serving the ASGI apps with hypercorn's trio worker, in-process, with Balto's graceful stop.

``python -m balto.tls balto --certfile cert.pem --keyfile key.pem --bind 0.0.0.0:8765``

The plain ``hypercorn --worker-class trio 'balto.counter.asgi:app' ...`` works too (see
:mod:`balto.counter.asgi`); this runner adds two things:

* hypercorn's settings follow the Balto ``HttpConfig`` (keep-alive, header and message caps, the
  WebSocket ping interval, and a read timeout of three ping intervals that drops dead peers);
* on SIGINT/SIGTERM the app stops first (``lifecycle.stop()``: counter sockets close with 1001,
  Socket.IO sessions end) with ``SHUTDOWN_GRACE_S`` to finish, then hypercorn stops. Under the
  plain CLI the lifespan only hears of the shutdown after hypercorn's ``--graceful-timeout``
  has cancelled the remaining connections (a session then closes with 1000, not 1001).

A second signal stops at once.
"""

from __future__ import annotations

import argparse
import logging
import math
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from pathlib import Path
from typing import cast

import trio
from hypercorn.config import Config as HypercornConfig
from hypercorn.trio import serve as hypercorn_serve
from hypercorn.typing import ASGIFramework
from hypercorn.utils import LifespanFailureError

from balto import __version__
from balto.core.asgi.lifespan import LifespanApp, leaves
from balto.core.config import ConfigError, HttpConfig
from balto.core.errors import BaltoError

__all__ = ["hypercorn_config", "main", "serve", "wait_for_signal"]

log = logging.getLogger("balto")

DEAD_PEER_PINGS = 3  # read timeout = this many WebSocket ping intervals without a byte


def hypercorn_config(
    config: HttpConfig,
    *,
    binds: Sequence[str],
    certfile: Path | None = None,
    keyfile: Path | None = None,
) -> HypercornConfig:
    """Hypercorn settings matching ``config`` (TLS when both files are given; h2 via ALPN)."""
    if (certfile is None) != (keyfile is None):
        raise ConfigError("Informe --certfile e --keyfile juntos")
    hyper = HypercornConfig()
    hyper.bind = list(binds)
    hyper.worker_class = "trio"
    if certfile is not None and keyfile is not None:
        hyper.certfile = str(certfile)
        hyper.keyfile = str(keyfile)
    hyper.keep_alive_timeout = config.keepalive_timeout_s
    hyper.graceful_timeout = config.shutdown_grace_s
    hyper.h11_max_incomplete_size = config.max_header_bytes
    hyper.websocket_max_message_size = config.ws_max_message_bytes
    hyper.websocket_ping_interval = config.ws_ping_interval_s
    hyper.read_timeout = math.ceil(DEAD_PEER_PINGS * config.ws_ping_interval_s)
    return hyper


async def serve(
    app: LifespanApp,
    hyper: HypercornConfig,
    *,
    shutdown: Callable[[], Awaitable[None]],
    grace_s: float,
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``app`` until ``shutdown`` returns; then drain it (up to ``grace_s``) and stop.

    ``task_status`` gets hypercorn's bound URLs (``https://127.0.0.1:PORT``).
    """

    async def trigger() -> None:
        await shutdown()
        log.info("shutting down: closing sessions (up to %.1f s)", grace_s)
        await app.drain(grace_s)

    await hypercorn_serve(
        cast(ASGIFramework, app),
        hyper,
        shutdown_trigger=trigger,
        task_status=task_status,
        mode="asgi",
    )


async def wait_for_signal() -> None:
    """Return on the first SIGINT or SIGTERM (a later one interrupts at once, as usual)."""
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for signum in signals:
            log.info("signal %s: shutting down gracefully", signal.Signals(signum).name)
            return


def _default_bind(config: HttpConfig) -> str:
    host = config.host or "0.0.0.0"
    return f"[{host}]:{config.port}" if ":" in host else f"{host}:{config.port}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m balto.tls", description="Serve Balto with hypercorn (TLS, HTTP/2)."
    )
    parser.add_argument("service", choices=["balto", "partnumber"], help="which app to serve")
    parser.add_argument("--certfile", type=Path, help="PEM certificate chain (enables TLS)")
    parser.add_argument("--keyfile", type=Path, help="PEM private key")
    parser.add_argument(
        "--bind",
        action="append",
        help="HOST:PORT to listen on (repeatable; default env HOST and PORT)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    return parser


def _app_and_config(service: str) -> tuple[LifespanApp, HttpConfig]:
    if service == "balto":
        from balto.counter.asgi import create_app
        from balto.counter.config import CounterConfig

        config = CounterConfig.from_env()
        return create_app(config), config.http
    from balto.partnumber.asgi import create_app as create_partnumber
    from balto.partnumber.config import PartnumberConfig
    from balto.partnumber.service import socketio_config
    from balto.socketio import EngineConfig

    partnumber = PartnumberConfig.from_env()
    return create_partnumber(partnumber), socketio_config(partnumber.http, EngineConfig())


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        app, config = _app_and_config(args.service)
        binds = args.bind or [_default_bind(config)]
        hyper = hypercorn_config(config, binds=binds, certfile=args.certfile, keyfile=args.keyfile)
        hyper.errorlog = logging.getLogger("hypercorn.error")  # through our handler, once
    except BaltoError as exc:
        print(f"erro: {exc.message}", file=sys.stderr)
        return 1
    log.info("balto %s: %s on %s", __version__, args.service, ", ".join(binds))
    failures: list[LifespanFailureError] = []
    try:
        trio.run(
            partial(serve, app, hyper, shutdown=wait_for_signal, grace_s=config.shutdown_grace_s)
        )
    except* LifespanFailureError as group:  # the app's startup failed (the message says why)
        failures = leaves(group)
    for failure in failures:
        print(f"erro: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
