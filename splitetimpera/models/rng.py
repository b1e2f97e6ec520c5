"""Seeding what draws from torch's global generator, without changing the caller's state.

Module initialisers (``reset_parameters``) and dropout take no ``torch.Generator``; they
draw from torch's global one. :func:`seeded` runs such code from a seed inside
``torch.random.fork_rng``, so the result depends on the seed alone and the caller's global
random state is the same afterwards. Everything else takes an explicit generator.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

__all__ = ["seeded"]


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Within the block, torch's global CPU generator starts from ``seed``; restored after."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield
