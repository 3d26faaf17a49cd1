"""``balto serve`` for the scaled-topology tests, as a process of its own: the same config from
the environment (``HOST``, ``PORT``, ``DB_FILE``; ``DATABASE_URL`` and ``REDIS_URL`` wherever
the app reads them) and the same graceful stop on SIGTERM, with one difference: a transcriber
that hears the same complaint in every decode, so a stream of speech gets a ``recomendar``
without the Whisper model. ``TEST_MODEL_LOAD_S`` makes loading it take that long (``/health``
says "iniciando" meanwhile, as while the real model loads).

python -m tests.scale.counter_script
"""

from __future__ import annotations

import os
import time

import numpy as np
import trio

from balto.cli import _serve_balto
from balto.counter.asr.base import DecodeOptions
from balto.counter.config import CounterConfig

COMPLAINT = "Estou com uma dor nas costas terrível."


class Complaint:
    def transcribe(self, audio: np.ndarray, options: DecodeOptions) -> str:
        return COMPLAINT

    def close(self) -> None:
        pass


def load_complaint() -> Complaint:
    """The transcriber factory (the pool calls it on a worker thread)."""
    time.sleep(float(os.environ.get("TEST_MODEL_LOAD_S", "0")))
    return Complaint()


if __name__ == "__main__":
    # Every test request comes from 127.0.0.1 through HAProxy: no per-address limit in the way.
    config = CounterConfig.from_env(cadastro_cliente_burst=1_000_000)
    trio.run(_serve_balto, config, load_complaint)
