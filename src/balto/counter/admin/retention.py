"""Data retention (LGPD): which interactions are old enough to delete, and when. No I/O.

``RETENCAO_DIAS`` days after it was created an interaction (its feedback lives in the same
row) is deleted by the server; ``0`` keeps everything. The shell (``retention_job``) runs the
deletion at start and then every ``RETENTION_INTERVAL_S``, in batches of ``BATCH_ROWS`` so
that the counters' own writes, which wait for the single store thread, are never held for
long.
"""

from __future__ import annotations

from datetime import datetime, timedelta

RETENTION_INTERVAL_S = 3600.0  # the deletion runs at start and then once an hour
BATCH_ROWS = 2000  # interactions deleted per store call (one short transaction each)


def cutoff(now: datetime, retention_days: int) -> str | None:
    """The stored-time string before which interactions are deleted, or None (keep all).

    ``now`` must be aware (UTC); the answer has the shape every stored time has (ISO 8601,
    milliseconds, ``+00:00``), so the store compares it as text."""
    if retention_days <= 0:
        return None
    return (now - timedelta(days=retention_days)).isoformat(timespec="milliseconds")


def more_to_delete(deleted_in_batch: int) -> bool:
    """A full batch may have left more old rows behind; a short one was the last."""
    return deleted_in_batch >= BATCH_ROWS
