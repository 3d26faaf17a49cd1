"""The Trio shell of data retention: a periodic job in the app's nursery that deletes the
interactions older than ``RETENCAO_DIAS`` on the store thread.

A failure (a locked or read-only database, disk full…) is logged and counted in
``balto_retention_failures`` and the job tries again at its next hour: it never ends the
server. The rules of what and when are in ``retention``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

import trio

from balto.core.errors import BaltoError
from balto.counter.admin import retention
from balto.counter.metrics import CounterMetrics
from balto.counter.store import Store

log = logging.getLogger(__name__)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class RetentionJob:
    def __init__(
        self,
        store: Store,
        metrics: CounterMetrics,
        retention_days: int,
        *,
        now: Callable[[], datetime] = _utc_now,
        interval_s: float = retention.RETENTION_INTERVAL_S,
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.retention_days = retention_days
        self.now = now
        self.interval_s = interval_s

    async def run(self) -> None:
        """Delete at start and then every ``interval_s``, until cancelled (0 days: nothing)."""
        if retention.cutoff(self.now(), self.retention_days) is None:
            return
        while True:
            await self.run_once()
            await trio.sleep(self.interval_s)

    async def run_once(self) -> int | None:
        """One pass; the number of interactions deleted, or None when it failed."""
        before = retention.cutoff(self.now(), self.retention_days)
        if before is None:
            return 0
        deleted = 0
        # A bug must not end the server either: the boundary logs and counts it
        # (balto_crashes_total{boundary="retention"}), and the next hour tries again.
        with self.metrics.boundary.guard("retention") as guard:
            try:
                while True:
                    batch = await self.store.run(
                        self.store.database.delete_interactions_before,
                        before,
                        retention.BATCH_ROWS,
                    )
                    deleted += batch
                    self.metrics.retention_deleted.inc(batch)
                    if not retention.more_to_delete(batch):
                        break
            except BaltoError as exc:
                self.metrics.retention_failures.inc()
                log.error("retention: deleting interactions before %s failed: %s", before, exc)
                return None
        if guard.crashed is not None:
            self.metrics.retention_failures.inc()
            return None
        if deleted:
            log.info("retention: %d interactions older than %s deleted", deleted, before)
        return deleted
