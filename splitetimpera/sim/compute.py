"""Latency samplers shared by device and server: draws from a measured distribution."""

from __future__ import annotations

import numpy as np

__all__ = ["LatencySampler"]


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
