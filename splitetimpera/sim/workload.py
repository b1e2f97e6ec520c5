"""Workload: when each device generates its frames (periodic, Poisson, or a trace file)."""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import simpy

from ..errors import SeiError
from .frames import FrameRecord

__all__ = ["arrival_times", "read_trace", "source"]


def read_trace(path: str | Path) -> np.ndarray:
    """Timestamps (s) from a CSV trace: a ``time`` column, or one number per line.

    Times are sorted and shifted so that the first frame is generated at 0.
    """
    path = Path(path)
    times: list[float] = []
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        raise SeiError(f"{path}: the trace is empty")
    header = [h.strip().lower() for h in rows[0]]
    column = header.index("time") if "time" in header else None
    body = rows[1:] if column is not None else rows
    column = column or 0
    for lineno, row in enumerate(body, start=2 if body is not rows else 1):
        if not row or not row[0].strip() or row[0].lstrip().startswith("#"):
            continue
        try:
            value = float(row[column])
        except (ValueError, IndexError):
            raise SeiError(f"{path}: line {lineno}: {row!r} is not a time in seconds") from None
        if not math.isfinite(value) or value < 0:
            raise SeiError(f"{path}: line {lineno}: {value} is not a time >= 0 s")
        times.append(value)
    if not times:
        raise SeiError(f"{path}: the trace holds no timestamps")
    out = np.sort(np.asarray(times, dtype=float))
    return out - out[0]


def arrival_times(
    arrival: str,
    frames: int,
    rng: np.random.Generator,
    *,
    rate: float | None = None,
    trace: np.ndarray | None = None,
    random_phase: bool = False,
) -> np.ndarray:
    """Generation times (s) of one device's frames.

    Args:
        arrival: ``periodic`` (every 1/rate s), ``poisson`` (exponential gaps of mean
            1/rate s) or ``trace`` (the given timestamps).
        frames: how many frames (a trace is cut to this many).
        rng: the device's workload stream.
        rate: frames per second for periodic and Poisson arrivals.
        trace: timestamps for trace arrivals.
        random_phase: start periodic arrivals at a uniform offset in [0, 1/rate), so that
            several devices are not in lock-step.
    """
    if frames <= 0:
        raise ValueError(f'"frames" must be > 0, got {frames}.')
    if arrival == "trace":
        if trace is None:
            raise ValueError("trace arrivals need timestamps")
        return np.asarray(trace[:frames], dtype=float)
    if rate is None or rate <= 0:
        raise ValueError(f'"rate" must be > 0, got {rate}.')
    if arrival == "periodic":
        phase = rng.uniform(0.0, 1.0 / rate) if random_phase else 0.0
        return phase + np.arange(frames, dtype=float) / rate
    if arrival == "poisson":
        gaps = rng.exponential(1.0 / rate, size=frames)
        gaps[0] = 0.0 if not random_phase else gaps[0]
        return np.cumsum(gaps)
    raise ValueError(f"unknown arrival {arrival!r}; known: periodic, poisson, trace")


def source(
    env: simpy.Environment,
    device: int,
    times: np.ndarray,
    deadline: float | None,
    start: Callable[[FrameRecord], None],
) -> Iterator[simpy.Event]:
    """A SimPy process that generates one device's frames and hands each to ``start``."""
    for index, t in enumerate(times):
        if t > env.now:
            yield env.timeout(t - env.now)
        record = FrameRecord(device=device, frame=index, t_gen=env.now)
        if deadline is not None:
            record.deadline = env.now + deadline
        start(record)
