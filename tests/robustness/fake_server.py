"""A real Balto server process with a scripted recogniser, for the kill -9 test.

python -m tests.robustness.fake_server DB_FILE      (prints "PORT <n>" once listening)
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

import trio

from balto.app import run_balto
from balto.config import Config
from balto.lifecycle import Lifecycle
from balto.server import bound_port
from tests.helpers import ScriptedTranscriber


async def main(db_file: Path) -> None:
    config = Config(host="127.0.0.1", port=0, db_file=db_file)
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
    trio.run(main, Path(sys.argv[1]))
