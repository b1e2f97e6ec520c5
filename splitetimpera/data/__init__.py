"""Datasets: the built-in ``digits`` (scikit-learn's handwritten digits) and ``imagefolder``
for users' own images. These import torch."""

__all__ = ["datasets"]
