"""Idle authenticated sockets: server memory per socket, with many of them open."""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import trio

from bench.server.clients import (
    IdleResult,
    hold_idle_sockets,
    percentiles,
)
from bench.server.probes import (
    ProcessSampler,
    raise_fd_limit,
)
from bench.server.process import balto_server
from bench.server.settings import BenchSettings, Progress


async def idle(settings: BenchSettings, progress: Progress) -> dict[str, Any]:
    n = settings.idle_sockets
    raise_fd_limit(2 * n + 1024)  # the server subprocess inherits it
    server_settings = settings.server(
        max_connections=max(4096, n + 256), max_connections_per_address=n + 256
    )
    async with balto_server(server_settings) as server:
        progress(f"[idle] registering {n} counters")
        started = trio.current_time()
        keys = await server.register(n)
        registration_s = trio.current_time() - started
        await trio.sleep(1.0)
        sampler = ProcessSampler(server.pid)
        before = _steady_rss(sampler)
        progress(f"[idle] opening {n} authenticated sockets")
        all_open, release = trio.Event(), trio.Event()
        held = IdleResult()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(
                partial(hold_idle_sockets, server.ws_url, keys, held, all_open, release)
            )
            with trio.move_on_after(120):
                await all_open.wait()
            sessions = await server.wait_sessions(n, timeout_s=10)
            await trio.sleep(settings.idle_hold_s)
            during = _steady_rss(sampler)
            release.set()
        await server.wait_sessions(0, timeout_s=30)
        await trio.sleep(1.0)
        after_close = _steady_rss(sampler)
        warnings = server.warnings[-20:]
    per_socket = (during - before) / max(1, held.opened)
    out = {
        "sockets": n,
        "opened": held.opened,
        "failed": len(held.failed),
        "failures": held.failed[:10],
        "dropped_while_held": held.dropped,
        "close_errors": held.close_errors,
        "server_sessions_seen": int(sessions),
        "rss_mb_before": round(before / 2**20, 1),
        "rss_mb_open": round(during / 2**20, 1),
        "rss_mb_after_close": round(after_close / 2**20, 1),
        "kib_per_socket": round(per_socket / 1024, 1),
        "connect_auth_ms": {
            k: (None if v is None else round(v * 1000, 1) if k != "n" else v)
            for k, v in percentiles(held.connect_s).items()
        },
        "registrations_per_s": round(n / registration_s, 1),
        "server_warnings": warnings,
        "server_stop_s": server.stop_s,
    }
    progress(
        f"  idle: {held.opened}/{n} open, {out['kib_per_socket']} KiB per socket"
        f" (RSS {out['rss_mb_before']} → {out['rss_mb_open']} MB)"
    )
    return out


def _steady_rss(sampler: ProcessSampler) -> int:
    """The median of a few immediate samples (RSS moves a little between reads)."""
    return int(np.median([sampler.sample().rss for _ in range(5)]))
