"""A real Balto server process with a scripted recogniser, for the tests that need the server
in a process of its own (kill -9, its descriptor count, whether it survives).

python -m tests.robustness.fake_server DB_FILE|postgresql://… [--max-connections N]
(prints "PORT <n>" once listening)
"""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path

import trio

from balto.core.lifecycle import Lifecycle
from balto.core.listener import bound_port
from balto.counter.app import run_balto
from balto.counter.config import CounterConfig
from tests.helpers import ScriptedTranscriber


async def main(config: CounterConfig) -> None:
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(
            partial(
                run_balto,
                config,
                transcriber_factory=lambda: ScriptedTranscriber([]),
                lifecycle=Lifecycle(),
            )
        )
        print(f"PORT {bound_port(listeners)}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("database", help="the SQLite file, or a postgresql:// URL")
    parser.add_argument("--max-connections", type=int, default=CounterConfig().http.max_connections)
    args = parser.parse_args()
    on_postgresql = args.database.startswith("postgresql://")
    database: dict[str, object] = (
        {"database_url": args.database} if on_postgresql else {"db_file": Path(args.database)}
    )
    # The tests register as fast as they can from one address: no per-address limit in the way.
    trio.run(
        main,
        CounterConfig(cadastro_cliente_burst=1_000_000).replace(
            host="127.0.0.1", port=0, max_connections=args.max_connections, **database
        ),
    )
