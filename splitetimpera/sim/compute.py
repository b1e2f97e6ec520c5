"""Compute shared by device and server: drawing compute times, and a queue for a stage."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import simpy

from .frames import FrameRecord

__all__ = ["LatencySampler", "Stage"]


class LatencySampler:
    """Draws compute times (s) from measured samples, scaled by a slowdown factor.

    Each draw picks one of the measured repetitions uniformly (the empirical
    distribution), so tails and jitter of the real hardware carry into the simulation.
    A single sample makes the compute deterministic.

    Args:
        samples: measured latencies in seconds (at least one, all >= 0).
        slowdown: multiply every draw by this (> 0), to stand in for a slower machine.
        rng: the entity's random stream.
    """

    def __init__(self, samples, slowdown: float, rng: np.random.Generator):
        values = np.asarray(samples, dtype=float).ravel()
        if values.size == 0:
            raise ValueError('"samples" must hold at least one latency.')
        if np.any(values < 0) or not np.all(np.isfinite(values)):
            raise ValueError('"samples" must be finite and >= 0.')
        if not slowdown > 0:
            raise ValueError(f'"slowdown" must be > 0, got {slowdown}.')
        self.values = values * slowdown
        self.rng = rng
        self._constant = float(self.values[0]) if values.size == 1 else None

    @property
    def mean(self) -> float:
        return float(self.values.mean())

    def __call__(self) -> float:
        if self._constant is not None:
            return self._constant
        return float(self.values[self.rng.integers(self.values.size)])


class Stage:
    """Identical compute units with one FIFO queue: a frame waits for a free unit, then
    computes; the record gets the start and end of its compute.

    Args:
        env: the simulation environment.
        units: how many frames compute at once (> 0).
        start: the record's field set when a frame starts computing (e.g. ``t_head_start``).
        end: the record's field set when it is done.
    """

    def __init__(self, env: simpy.Environment, units: int, start: str, end: str):
        if units <= 0:
            raise ValueError(f'"units" must be > 0, got {units}.')
        self.env = env
        self.units = units
        self.resource = simpy.Resource(env, capacity=units)
        self.start, self.end = start, end
        #: Seconds of compute done so far, all units together.
        self.busy = 0.0

    def run(self, record: FrameRecord, seconds: float) -> Iterator[simpy.Event]:
        """Wait for a free unit, then compute for ``seconds``."""
        with self.resource.request() as request:
            yield request
            setattr(record, self.start, self.env.now)
            if seconds > 0:
                yield self.env.timeout(seconds)
            self.busy += seconds
            setattr(record, self.end, self.env.now)
