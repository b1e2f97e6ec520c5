"""Confidence intervals for what a simulation estimates from a finite run of frames.

A run's p95 latency comes from a few hundred frames, and successive frames are not
independent (a queue or a slow connection carries over from one frame to the next), so
the intervals come from a moving-block bootstrap (Kunsch 1989; Lahiri, *Resampling
Methods for Dependent Data*, 2003): the run's frames, in generation order, are cut into
overlapping blocks of about ``n ** (1/3)`` frames, which are drawn with replacement to
make runs as long as the original; the statistic's spread over those runs gives a
percentile interval. Blocks keep the short-range dependence that plain resampling of
frames would break (and that would make the intervals too narrow).

Everything is seeded by the caller's generator: the same run gives the same interval.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["block_length", "bootstrap_intervals", "bootstrap_mean", "frames_to_settle"]

#: Bootstrap runs per interval.
RESAMPLES = 200
#: Values resampled at once, at most (bounds the memory of long runs: about 0.5 GB).
_MAX_VALUES = 20_000_000


def block_length(n: int) -> int:
    """The block length for ``n`` frames: about the cube root (at least 1)."""
    return max(1, round(n ** (1 / 3)))


def _resample_indices(n: int, runs: int, rng: np.random.Generator) -> np.ndarray:
    """``runs`` x ``n`` frame indices made of random overlapping blocks."""
    length = block_length(n)
    blocks = math.ceil(n / length)
    starts = rng.integers(0, n - length + 1, size=(runs, blocks))
    indices = (starts[:, :, None] + np.arange(length)[None, None, :]).reshape(runs, -1)
    return indices[:, :n]


def bootstrap_intervals(
    latency: np.ndarray,
    missed: np.ndarray,
    percentiles: list[float],
    rng: np.random.Generator,
    level: float = 0.95,
    resamples: int = RESAMPLES,
) -> dict[str, tuple[float, float]]:
    """Intervals for latency percentiles and the deadline-miss share of one run.

    Args:
        latency: per-frame latency (s) in generation order; NaN for lost frames, which
            count in the miss share but not in the percentiles.
        missed: per frame, True when it was late or lost.
        percentiles: latency percentiles (0-100) wanted.
        rng: the generator to draw blocks from.
        level: the intervals' coverage.
        resamples: bootstrap runs.

    Returns:
        ``{"p95": (lo, hi), ..., "miss": (lo, hi)}``; NaN bounds where a statistic is
        undefined (no answered frame).
    """
    latency = np.asarray(latency, dtype=float)
    missed = np.asarray(missed, dtype=float)
    n = latency.size
    keys = [f"p{p:g}" for p in percentiles]
    if n == 0:
        return {k: (math.nan, math.nan) for k in [*keys, "miss"]}
    values = {k: [] for k in [*keys, "miss"]}
    chunk = max(1, min(25, _MAX_VALUES // n))
    for start in range(0, resamples, chunk):
        runs = min(chunk, resamples - start)
        idx = _resample_indices(n, runs, rng)
        sample = latency[idx]
        answered = ~np.isnan(sample).all(axis=1)
        with np.errstate(all="ignore"):
            qs = np.full((len(percentiles), runs), np.nan)
            if answered.any():
                qs[:, answered] = np.nanpercentile(sample[answered], percentiles, axis=1)
        for k, row in zip(keys, qs):
            values[k].append(row)
        values["miss"].append(missed[idx].mean(axis=1))
    tail = (1 - level) / 2 * 100
    out = {}
    for k, chunks in values.items():
        draws = np.concatenate(chunks)
        draws = draws[~np.isnan(draws)]
        if draws.size == 0:
            out[k] = (math.nan, math.nan)
        else:
            lo, hi = np.percentile(draws, [tail, 100 - tail])
            out[k] = (float(lo), float(hi))
    return out


def bootstrap_mean(
    values: np.ndarray,
    rng: np.random.Generator,
    level: float = 0.95,
    resamples: int = RESAMPLES,
) -> tuple[float, float]:
    """An interval for the mean of per-frame ``values`` (in generation order), from the
    same moving-block bootstrap as :func:`bootstrap_intervals`; NaN bounds when a value is
    NaN or there is none."""
    values = np.asarray(values, dtype=float)
    n = values.size
    if n == 0 or np.isnan(values).any():
        return (math.nan, math.nan)
    draws = []
    chunk = max(1, min(25, _MAX_VALUES // n))
    for start in range(0, resamples, chunk):
        idx = _resample_indices(n, min(chunk, resamples - start), rng)
        draws.append(values[idx].mean(axis=1))
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(np.concatenate(draws), [tail, 100 - tail])
    return (float(lo), float(hi))


def frames_to_settle(frames: int, value: float, lo: float, hi: float, limit: float) -> int | None:
    """About how many frames would make the interval ``[lo, hi]`` clear of ``limit``.

    An interval's half-width shrinks as one over the square root of the frames; it must
    shrink below the distance between the estimate and the limit. None when the estimate
    sits on the limit (no run length settles it) or the interval is already clear.
    """
    if not (lo <= limit <= hi) or math.isnan(value):
        return None
    half = max(hi - value, value - lo)
    distance = abs(value - limit)
    if distance == 0 or half == 0:
        return None
    return math.ceil(frames * (half / distance) ** 2)
