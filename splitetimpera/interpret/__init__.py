"""Interpretability for split computing: I-SPLIT (``isplit``), compression at the split
(``compression``) and SInGE pruning (``singe``, ``prune``). These import torch."""

__all__ = ["isplit", "compression", "singe", "prune"]
