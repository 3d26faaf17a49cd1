"""Run by the tests as a process: ``balto partnumber worker``'s code (:func:`run_worker`, config
from the environment: ``REDIS_URL``, ``PARTNUMBER_CLAIM_IDLE_S``) with the scripted classifier
instead of the real one (which takes minutes to load on a fresh machine).

usage: python -m tests.partnumber.worker_script {normal|hang}

Prints ``READY`` once it consumes the stream. ``hang``: after the first step of its first task
is stored and published, prints ``HUNG`` and blocks forever (the test kills it with SIGKILL).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

import trio

from balto.core.lifecycle import Lifecycle
from balto.partnumber.classify.models import Classification, ClassifyRequest, Progress
from balto.partnumber.config import PartnumberConfig
from balto.partnumber.service import run_worker
from tests.partnumber.doubles import ScriptedClassifier


class HangingClassifier(ScriptedClassifier):
    def classify(
        self, request: ClassifyRequest, progress: Callable[[Progress], None]
    ) -> Classification:
        progress(Progress(1, len(self.steps), self.steps[0]))  # returns once stored
        print("HUNG", flush=True)
        threading.Event().wait()  # until SIGKILL
        raise AssertionError("unreachable")


async def main(mode: str) -> None:
    classifier = HangingClassifier() if mode == "hang" else ScriptedClassifier()
    config = PartnumberConfig.from_env()
    async with trio.open_nursery() as nursery:
        await nursery.start(
            lambda task_status: run_worker(
                config,
                classifier_factory=lambda: classifier,
                lifecycle=Lifecycle(),
                task_status=task_status,
            )
        )
        print("READY", flush=True)


if __name__ == "__main__":
    trio.run(main, sys.argv[1])
