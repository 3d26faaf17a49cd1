"""Calibration tools of the partnumber evaluation: isotonic fit (pool adjacent violators),
expected calibration error and a reliability diagram written as a PNG by a tiny encoder."""

from __future__ import annotations

import itertools
import struct
import zlib
from pathlib import Path

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]


def fit_isotonic(x: Array, y: Array) -> tuple[list[float], list[float]]:
    """Non-decreasing step fit of ``y`` on ``x`` (PAV); breakpoints for ``np.interp``."""
    order = np.argsort(x, kind="stable")
    blocks: list[list[float]] = []  # [sum_y, weight, x_min, x_max]
    for xi, yi in zip(x[order], y[order], strict=True):
        blocks.append([float(yi), 1.0, float(xi), float(xi)])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            s, w, lo, _ = blocks.pop(-2)
            blocks[-1] = [s + blocks[-1][0], w + blocks[-1][1], lo, blocks[-1][3]]
    xs: list[float] = []
    ys: list[float] = []
    for s, w, lo, hi in blocks:
        xs += [lo, hi]
        ys += [s / w, s / w]
    return xs, ys


def bins_of(conf: Array, correct: Array, n_bins: int = 10) -> list[tuple[float, float, int]]:
    """(mean confidence, accuracy, count) per equal-width bin, empty bins left out."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    idx = np.clip(np.digitize(conf, edges[1:-1]), 0, n_bins - 1)
    return [
        (float(conf[idx == b].mean()), float(correct[idx == b].mean()), int((idx == b).sum()))
        for b in range(n_bins)
        if (idx == b).any()
    ]


def ece(conf: Array, correct: Array, n_bins: int = 10) -> float:
    n = len(conf)
    return sum(c / n * abs(m - a) for m, a, c in bins_of(conf, correct, n_bins))


def _png(pixels: npt.NDArray[np.uint8]) -> bytes:
    height, width, _ = pixels.shape
    raw = b"".join(b"\x00" + pixels[row].tobytes() for row in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def reliability_png(
    path: Path, curves: list[tuple[list[tuple[float, float, int]], tuple[int, int, int]]]
) -> None:
    """A reliability diagram: x = confidence, y = accuracy, the diagonal in grey, each curve's
    bins as dots (size by count) joined by lines, in its colour. No text (the README says what
    is drawn)."""
    size, margin = 480, 40
    img = np.full((size, size, 3), 255, dtype=np.uint8)
    span = size - 2 * margin

    def at(x: float, y: float) -> tuple[int, int]:
        return margin + round(x * span), size - margin - round(y * span)

    def line(a: tuple[int, int], b: tuple[int, int], colour: tuple[int, int, int]) -> None:
        steps = max(abs(b[0] - a[0]), abs(b[1] - a[1]), 1)
        for t in np.linspace(0.0, 1.0, steps + 1):
            px = round(a[0] + (b[0] - a[0]) * t)
            py = round(a[1] + (b[1] - a[1]) * t)
            img[py - 1 : py + 2, px - 1 : px + 2] = colour

    for tick in np.linspace(0.0, 1.0, 11):  # grid
        x0 = at(tick, 0.0)[0]
        img[margin : size - margin, x0] = (225, 225, 225)
        img[at(0.0, tick)[1], margin : size - margin] = (225, 225, 225)
    line(at(0, 0), at(1, 0), (0, 0, 0))
    line(at(0, 0), at(0, 1), (0, 0, 0))
    line(at(0, 0), at(1, 1), (150, 150, 150))
    for points, colour in curves:
        spots = [at(m, a) for m, a, _ in points]
        for a, b in itertools.pairwise(spots):
            line(a, b, colour)
        for (px, py), (_, _, count) in zip(spots, points, strict=True):
            r = 3 + min(int(np.sqrt(count)), 9)
            yy, xx = np.ogrid[-r : r + 1, -r : r + 1]
            disk = xx**2 + yy**2 <= r * r
            region = img[py - r : py + r + 1, px - r : px + r + 1]
            if region.shape[:2] == disk.shape:
                region[disk] = colour
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_png(img))
