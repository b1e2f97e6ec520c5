"""The torch side: model registry (``zoo``), graph and split points (``graph``), latency
profiling (``profile``) and training of the reference models (``train``).

Importing this package does not import torch; its submodules do.
"""

__all__ = ["catalog", "zoo", "graph", "profile", "train"]
