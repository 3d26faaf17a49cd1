"""The container image, built and run for real with Debian's podman: a smoke test.

    python3 tests/container/smoke.py        (root; reaches Debian's and PyPI's registries)

No container registry is used. The Dockerfile's base (python:3.11-slim-bookworm) is made
locally from Debian bookworm packages with debootstrap, trimmed as Debian's slim images are (no
docs, man pages or locales), and imported under that name, so the build never pulls. Then:

* the image is built in the Docker format (the OCI format has no HEALTHCHECK);
* a container runs on loopback with a volume: /health, a registration (201, then 409), the
  HEALTHCHECK, the server's user (not root), a graceful stop (exit 0, the row on the volume);
* docker-compose.yml itself is brought up with podman-compose, from a copy of the checkout
  that has no ./dados, on a free port picked in its .env.

Two workarounds belong to this sandbox, never to the image: runc instead of crun (crun refuses
the host's hybrid cgroups) and a runtime wrapper that drops the OCI rlimits (root here may not
raise them). Prints ``N passed, N failed`` and exits non-zero on any failure.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WORK = Path(os.environ.get("BALTO_SMOKE_DIR", "/var/tmp/balto-smoke"))
BASE = "localhost/python:3.11-slim-bookworm"
BASE_LABEL = "balto.smoke.base"
IMAGE = "localhost/balto:smoke"
MIRROR = "http://deb.debian.org/debian"
PACKAGES = "python3,python3-venv,python3-pip,python-is-python3,ca-certificates,netbase,tzdata"
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
# 417 MB measured on 2026-12-01 with the model, the partnumber NCM table (4 MB) and the
# classifier's embeddings computed at build time (HS, NCM headings/subheadings, NCM items).
IMAGE_BUDGET_MB = 460
START_TIMEOUT_S = 90

RUNTIME_WRAPPER = '''#!/usr/bin/env python3
"""runc without the OCI rlimits, which root in this sandbox may not set (test harness only)."""
import json, os, sys
args = sys.argv[1:]
def value(*flags):
    for i, a in enumerate(args):
        for flag in flags:
            if a == flag and i + 1 < len(args):
                return args[i + 1]
            if a.startswith(flag + "="):
                return a.split("=", 1)[1]
    return None
def strip(path, keys):
    if not path or not os.path.exists(path):
        return
    with open(path) as f:
        doc = json.load(f)
    node = doc
    for key in keys[:-1]:
        node = node.get(key, {})
    node.pop(keys[-1], None)
    with open(path, "w") as f:
        json.dump(doc, f)
bundle = value("--bundle", "-b")
if bundle is None and ("create" in args or "run" in args):
    bundle = os.getcwd()
if bundle:
    strip(os.path.join(bundle, "config.json"), ["process", "rlimits"])
if "exec" in args:
    strip(value("--process", "-p"), ["rlimits"])
os.execvp("runc", ["runc", *args])
'''


class Smoke:
    def __init__(self) -> None:
        self.passed: list[str] = []
        self.failed: list[str] = []
        WORK.mkdir(parents=True, exist_ok=True)
        runtime = WORK / "runtime"
        runtime.write_text(RUNTIME_WRAPPER)
        runtime.chmod(0o755)
        conf = WORK / "containers.conf"
        conf.write_text(
            f'[engine]\nruntime = "sandbox"\n\n[engine.runtimes]\nsandbox = ["{runtime}"]\n'
        )
        self.env = dict(os.environ, CONTAINERS_CONF=str(conf), BUILDAH_FORMAT="docker")

    # -- reporting ------------------------------------------------------------------------

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        (self.passed if ok else self.failed).append(name)
        print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)
        return ok

    def run(
        self, *args: str, check: bool = True, **kwargs: object
    ) -> subprocess.CompletedProcess[str]:
        kwargs.setdefault("env", self.env)
        done = subprocess.run(list(args), capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} → {done.returncode}\n{done.stderr[-3000:]}")
        return done

    def detached(self, name: str, *args: str) -> None:
        """``podman run -d`` a container called ``name`` on the host network; ``args``: the
        rest of the command line (options, image, command)."""
        self.run("podman", "run", "-d", "--name", name, "--network=host", *args)

    # -- steps ----------------------------------------------------------------------------

    def base_image(self) -> None:
        label = '{{index .Labels "' + BASE_LABEL + '"}}'
        found = self.run("podman", "image", "inspect", BASE, "--format", label, check=False)
        if found.returncode == 0 and found.stdout.strip() == "1":
            print(f"     base {BASE} already made here", flush=True)
            return
        rootfs = WORK / "rootfs"
        shutil.rmtree(rootfs, ignore_errors=True)
        self.run(
            "debootstrap",
            "--variant=minbase",
            f"--include={PACKAGES}",
            "bookworm",
            str(rootfs),
            MIRROR,
        )
        # as the official image: pip installs system-wide; as Debian's slim images: no docs,
        # man pages, locales or package lists
        (rootfs / "usr/lib/python3.11/EXTERNALLY-MANAGED").unlink(missing_ok=True)
        for trimmed in (
            "usr/share/doc",
            "usr/share/man",
            "usr/share/locale",
            "var/lib/apt/lists",
            "var/cache/apt",
        ):
            for child in (rootfs / trimmed).glob("*"):
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        self.run(
            "podman",
            "import",
            "--change",
            'CMD ["python3"]',
            "--change",
            f"LABEL {BASE_LABEL}=1",
            "-",
            BASE,
            stdin=tar.stdout,
        )
        tar.wait()
        shutil.rmtree(rootfs, ignore_errors=True)

    def build(self) -> None:
        self.run(
            "podman",
            "build",
            "--format",
            "docker",
            "--pull=never",
            "--network=host",
            "-v",
            f"{CA_BUNDLE}:{CA_BUNDLE}:ro",
            "-t",
            IMAGE,
            str(REPO),
        )
        size = json.loads(self.run("podman", "image", "inspect", IMAGE).stdout)[0]["Size"]
        self.check(
            f"image under {IMAGE_BUDGET_MB} MB",
            size < IMAGE_BUDGET_MB * 1e6,
            f"{size / 1e6:.0f} MB",
        )
        health = self.run(
            "podman", "image", "inspect", IMAGE, "--format", "{{json .Config.Healthcheck}}"
        ).stdout
        self.check("HEALTHCHECK in the built image", "balto" in health, health.strip())

    def container(self) -> None:
        port = free_port()
        volume = Path(tempfile.mkdtemp(prefix="balto-dados-"))
        name = f"balto-smoke-{port}"
        self.detached(
            name,
            "-e",
            "HOST=127.0.0.1",
            "-e",
            f"PORT={port}",
            "-v",
            f"{volume}:/app/dados",
            IMAGE,
        )
        try:
            self.check("/health answers", wait_healthy(port), f"port {port}")
            self.registration(port)
            health = self.run("podman", "healthcheck", "run", name, check=False)
            self.check("HEALTHCHECK runs healthy", health.returncode == 0, health.stdout.strip())
            user = self.run("podman", "top", name, "user", "args").stdout
            self.check(
                "server runs as balto, not root",
                "balto" in user and "root" not in user,
                " ".join(user.split()),
            )
            self.run("podman", "stop", "-t", "15", name)
            code = self.run("podman", "inspect", name, "--format", "{{.State.ExitCode}}").stdout
            self.check("graceful stop exits 0", code.strip() == "0", code.strip())
            self.check("registration on the volume", stored(volume / "registro.db"))
        finally:
            self.run("podman", "rm", "-f", name, check=False)
            shutil.rmtree(volume, ignore_errors=True)

    def partnumber(self) -> None:
        """The second service from the same image: its classifier loads the NCM table and the
        embeddings the build prepared (a warm cache: nothing re-embedded at start) and
        classifies a ball bearing (part number and description) into 8482."""
        port = free_port()
        name = f"balto-smoke-pn-{port}"
        self.detached(
            name,
            "--health-cmd=none",
            IMAGE,
            "balto",
            "partnumber",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        )
        try:
            healthy = wait_healthy(port)
            self.check("partnumber: /health answers", healthy, f"port {port}")
            done = self.run("podman", "logs", name)
            logs = done.stdout + done.stderr
            self.check(
                "partnumber: NCM table and warm embeddings from the image",
                "tabela NCM: /opt/balto/cache/partnumber/ncm/" in logs
                and "cache quente" in logs
                and "NCM sim" in logs,
                " | ".join(line for line in logs.splitlines() if "NCM" in line)[-400:],
            )
            if healthy:
                self.check("partnumber: classified", classified(port), f"port {port}")
        finally:
            self.run("podman", "rm", "-f", name, check=False)

    def registration(self, port: int) -> None:
        body = {"email": "smoke@rede.com.br", "razao_social": "Rede", "telefone": "11999998888"}
        first = post(port, "/cadastro/cliente", body)
        second = post(port, "/cadastro/cliente", body)
        got = f"{first}, {second}"
        self.check("registration 201, then 409", (first, second) == (201, 409), got)

    def compose(self) -> None:
        """docker-compose.yml as the seed runs it, from a checkout without ./dados."""
        port = free_port()
        # The folder is named balto: podman-compose 1.0.3 ignores the file's `name: balto` and
        # names the project (containers, network, image) after the folder instead.
        checkout = WORK / "checkout" / "balto"
        shutil.rmtree(checkout, ignore_errors=True)
        checkout.mkdir(parents=True)
        files = self.run("git", "-C", str(REPO), "ls-files", "-co", "--exclude-standard").stdout
        for name in files.splitlines():
            source = REPO / name
            if source.is_file() and not name.startswith("dados/"):
                (checkout / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, checkout / name)
        # Only the port changes, as a user changes it: in .env, which both the file's port
        # mapping and the server read. (podman's bridge network works here; the test talks to
        # 127.0.0.1 only.)
        dotenv = checkout / ".env"
        dotenv.write_text(
            "".join(
                f"PORT={port}\n" if line.startswith("PORT=") else line + "\n"
                for line in dotenv.read_text().splitlines()
            )
        )
        compose = [
            "podman-compose",
            "--podman-build-args",
            f"--format docker --pull=never --network=host -v {CA_BUNDLE}:{CA_BUNDLE}:ro",
        ]
        env = dict(self.env, PORT=str(port))
        try:
            self.check("no ./dados before compose", not (checkout / "dados").exists())
            up = self.run(*compose, "up", "-d", "--build", cwd=checkout, env=env)
            healthy = wait_healthy(port)
            self.check("compose: /health answers", healthy, f"port {port}")
            if not healthy:
                print(up.stdout[-1500:], up.stderr[-1500:], flush=True)
                print(self.run("podman", "ps", "-a").stdout, flush=True)
                names = self.run("podman", "ps", "-aq").stdout.split()
                for name in names:
                    print(self.run("podman", "logs", "--tail", "5", name, check=False).stderr)
            self.registration(port)
            self.run(*compose, "stop", cwd=checkout, env=env)
            self.check("compose: registration in ./dados", stored(checkout / "dados/registro.db"))
        finally:
            self.run(*compose, "down", cwd=checkout, env=env, check=False)
            project = checkout.name
            self.run("podman", "network", "rm", "-f", f"{project}_default", check=False)
            self.run("podman", "rmi", f"{project}_balto", check=False)
            shutil.rmtree(checkout, ignore_errors=True)

    def main(self) -> int:
        steps: list[tuple[str, Callable[[], None]]] = [
            ("base image", self.base_image),
            ("image build", self.build),
            ("container", self.container),
            ("partnumber", self.partnumber),
            ("compose", self.compose),
        ]
        started = time.monotonic()
        for name, step in steps:
            try:
                step()
            except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                self.check(name, False, str(exc))
                if name in ("base image", "image build"):
                    break
        print(f"smoke test took {time.monotonic() - started:.0f} s")
        print(f"{len(self.passed)} passed, {len(self.failed)} failed")
        return 1 if self.failed else 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_healthy(port: int) -> bool:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as reply:
                if json.load(reply).get("status") == "ok":
                    return True
        except (OSError, urllib.error.URLError, ValueError):
            pass
        time.sleep(0.5)
    return False


def classified(port: int) -> bool:
    """POST /classify-partnumber is accepted and its task ends with an 8-digit answer."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/classify-partnumber",
        data=json.dumps({"partnumber": "6204-2RS", "description": "rolamento de esferas"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        task = json.load(reply)["task_id"]
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/tasks/{task}", timeout=10) as reply:
            snapshot = json.load(reply)
        if snapshot.get("state") in ("done", "failed"):
            answer = (snapshot.get("result") or {}).get("classification") or {}
            print(f"     {json.dumps(snapshot, ensure_ascii=False)[:300]}", flush=True)
            code = str(answer.get("code", ""))
            return code.startswith("8482.") and len(code) == 10  # 8 digits: the NCM table
        time.sleep(0.5)
    return False


def post(port: int, path: str, body: dict[str, str]) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def stored(db_file: Path) -> bool:
    import sqlite3

    if not db_file.exists():
        return False
    with sqlite3.connect(db_file) as conn:
        rows = conn.execute("SELECT email FROM clientes").fetchall()
    return rows == [("smoke@rede.com.br",)]


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("the container smoke test needs root (podman, debootstrap)")
        print("0 passed, 1 failed")
        sys.exit(1)
    sys.exit(Smoke().main())
