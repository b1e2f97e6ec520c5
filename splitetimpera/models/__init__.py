"""The torch side: model registry (``zoo``), graph and split points (``graph``), latency
profiling (``profile``), training of the reference models (``train``) and seeding what
draws from torch's global generator (``rng``). Model names live in
:mod:`splitetimpera.catalog`, which needs no torch.

Importing this package does not import torch; its submodules do.
"""

__all__ = ["zoo", "graph", "profile", "train", "rng"]
