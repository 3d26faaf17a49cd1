"""The repo's HAProxy config (deploy/haproxy/haproxy.cfg) read, rewritten for loopback and run
as a real ``haproxy`` (Debian's package) in a temporary directory.

Only two kinds of line change on the way: a frontend's ``bind :PORT`` becomes a free loopback
port, and a ``server NAME HOST:PORT`` line points at the test's process for ``NAME``. Every other
line (balancing, cookies, health checks, timeouts) is the deployed one. HAProxy's status page
(``/stats;csv``) tells the tests which instances it considers up and how many sessions each took.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import trio

from tests.helpers import http
from tests.redis_server import _free_port

ROOT = Path(__file__).resolve().parent.parent.parent
CONFIG = ROOT / "deploy" / "haproxy" / "haproxy.cfg"
START_TIMEOUT_S = 20
#: Where the loopback HAProxy's connections to the instances come from: the instances' trusted
#: proxy (TRUSTED_PROXIES), as the compose network's containers are there.
BALANCER_ADDRESS = "127.0.0.1"

_SECTION = re.compile(r"^(global|defaults|resolvers|frontend|backend|listen)\b\s*(\S*)")
_BIND = re.compile(r"^(\s*bind\s+):(\d+)\b(.*)$")
_SERVER = re.compile(r"^(\s*server\s+)(\S+)\s+([^\s:]+):(\d+)(.*)$")


def haproxy_binary() -> str | None:
    """Debian installs it in /usr/sbin, outside a normal user's PATH."""
    return shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/sbin")


@dataclass(frozen=True)
class Server:
    name: str
    host: str
    port: int


def sections(text: str) -> dict[tuple[str, str], list[str]]:
    """The config's sections, ``(kind, name)`` → their lines without comments or blanks."""
    found: dict[tuple[str, str], list[str]] = {}
    current: list[str] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if match := _SECTION.match(line):
            current = found.setdefault((match[1], match[2]), [])
        else:
            current.append(line.strip())
    return found


def binds(text: str) -> dict[str, int]:
    """Frontend name → the port it listens on."""
    ports: dict[str, int] = {}
    for (kind, name), lines in sections(text).items():
        for line in lines:
            if kind == "frontend" and (match := _BIND.match(line)):
                ports[name] = int(match[2])
    return ports


def servers(text: str) -> dict[str, list[Server]]:
    """Backend name → its servers."""
    found: dict[str, list[Server]] = {}
    for (kind, name), lines in sections(text).items():
        if kind == "backend":
            found[name] = [
                Server(m[2], m[3], int(m[4])) for line in lines if (m := _SERVER.match(line))
            ]
    return found


def loopback_config(text: str, ports: Mapping[str, int]) -> str:
    """``text`` with each frontend's bind and each server's address on 127.0.0.1, at the port
    ``ports`` gives for the frontend's or the server's name (every frontend must be given; a
    server not given is put in maintenance: a test of one service runs without the other's)."""
    out: list[str] = []
    section = ""
    for line in text.splitlines():
        if match := _SECTION.match(line):
            section = match[2]
        if match := _BIND.match(line):
            line = f"{match[1]}127.0.0.1:{ports[section]}{match[3]}"
        elif (match := _SERVER.match(line)) and match[2] in ports:
            line = f"{match[1]}{match[2]} 127.0.0.1:{ports[match[2]]}{match[5]}"
        elif match:
            line = f"{match[1]}{match[2]} 127.0.0.1:1{match[5]} disabled"
        out.append(line)
    return "\n".join(out) + "\n"


@dataclass
class Balancer:
    """A running haproxy: its frontends' loopback ports and its status page."""

    ports: dict[str, int]  # frontend name → port
    process: trio.Process

    async def stats(self) -> dict[tuple[str, str], dict[str, str]]:
        """``(backend, server)`` → HAProxy's status row (``status``, ``check_status``,
        ``scur``: current sessions, ``stot``: sessions so far, …)."""
        reply = await http(self.ports["stats"], "GET", "/stats;csv")
        assert reply.status == 200, reply.body
        rows = csv.DictReader(io.StringIO(reply.body.decode().removeprefix("# ")))
        return {(row["pxname"], row["svname"]): row for row in rows}

    async def wait_for(self, backend: str, server: str, status: str, timeout_s: float = 20) -> None:
        """Until HAProxy's health checks put ``server`` in ``status`` (``UP``, ``DOWN``)."""
        with trio.fail_after(timeout_s):
            while True:
                row = (await self.stats())[(backend, server)]
                checked = row["check_status"] not in ("", "INI")
                if row["status"] == status and checked:
                    return
                await trio.sleep(0.1)


@asynccontextmanager
async def running_haproxy(
    servers_at: Mapping[str, int],
    tmp_path: Path,
    *,
    wait_up: bool = True,
    without: str | None = None,
) -> AsyncIterator[Balancer]:
    """The repo's config on loopback, its servers at ``servers_at`` (server name → port; the
    others in maintenance), until the block ends; yields once every server listed is UP by
    HAProxy's own health checks (``wait_up``), or as soon as it listens. ``without``: a word
    taken out of every line (a test of what the config does without it)."""
    binary = haproxy_binary()
    if binary is None:
        pytest.skip("haproxy ausente (apt-get install haproxy; make system-deps)")
    text = CONFIG.read_text()
    if without is not None:
        assert f" {without}" in text, without
        text = text.replace(f" {without}", "")
    ports = {name: _free_port() for name in binds(text)}
    config = tmp_path / "haproxy.cfg"
    config.write_text(loopback_config(text, {**ports, **servers_at}))
    log = (tmp_path / "haproxy.log").open("wb")
    process = await trio.lowlevel.open_process(
        [binary, "-db", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path
    )
    balancer = Balancer(ports, process)
    try:
        with trio.fail_after(START_TIMEOUT_S):
            for backend, name in await _stats_when_listening(balancer, tmp_path):
                if wait_up and name in servers_at:
                    await balancer.wait_for(backend, name, "UP")
        yield balancer
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)  # hard stop: closes every proxied socket
            with trio.move_on_after(10):
                await process.wait()
            if process.returncode is None:
                process.kill()
        await process.wait()
        log.close()


async def _stats_when_listening(
    balancer: Balancer, tmp_path: Path
) -> dict[tuple[str, str], dict[str, str]]:
    while True:
        if balancer.process.returncode is not None:
            log = (tmp_path / "haproxy.log").read_text(errors="replace")
            raise AssertionError(f"haproxy exited: {log[-2000:]}")
        try:
            return await balancer.stats()
        except OSError:
            await trio.sleep(0.05)
