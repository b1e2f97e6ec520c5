"""Seeded random streams: one ``numpy.random.Generator`` per simulated entity, nothing global.

The stream of an entity depends only on the scenario seed and the entity's name, so two
configurations of the same scenario see the same arrivals and the same loss pattern
(common random numbers), and adding an entity never shifts another's draws.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["Streams"]


class Streams:
    """A factory of independent, named random streams derived from one seed.

    Args:
        seed: the scenario seed (a non-negative integer).
    """

    def __init__(self, seed: int):
        if seed < 0:
            raise ValueError(f'"seed" must be >= 0, got {seed}.')
        self.seed = int(seed)

    def get(self, name: str) -> np.random.Generator:
        """A fresh generator for ``name`` (the same name always gives the same stream)."""
        key = zlib.crc32(name.encode("utf-8"))
        return np.random.default_rng(np.random.SeedSequence([self.seed, key]))
