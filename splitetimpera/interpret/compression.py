"""Compression at the split, and the accuracy each gives (METHODS section 3).

* ``bottleneck``: an undercomplete autoencoder at the split. Encoder: 3x3 conv stride 2
  (C -> C/8), BN, ReLU, 3x3 conv stride 2 (C/8 -> C/4), BN, ReLU; decoder: two stride-2
  transposed convolutions back to C, cropped to the activation's shape. The code
  C/4 x H/4 x W/4 (1/64 of the map) is what the device sends (fp32). Maps smaller than
  4x4 and vectors use a channel reduction to C/4 only. It is trained with the backbone
  frozen on the task loss through the tail; ``finetune_tail`` also trains the tail.

:func:`measure_accuracy` returns one row of an accuracy table
(:data:`splitetimpera.accuracy.ACCURACY_COLUMNS`) per (split, codec): the bottleneck is
trained here; every other codec (:mod:`splitetimpera.codecs`) is run frame by frame on
the test images by :mod:`splitetimpera.interpret.payloads`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..codecs import parse_codec
from ..data.datasets import ImageData
from ..errors import SeiError
from ..models.graph import ModelGraph
from ..models.rng import seeded
from ..payload import bottleneck_shape

__all__ = ["Bottleneck", "train_bottleneck", "measure_accuracy"]


class _Codec(nn.Module):
    """Encoder and decoder for one tensor of shape (C, ...) at batch 1."""

    def __init__(self, shape: tuple[int, ...]):
        super().__init__()
        self.shape = tuple(shape)
        channels = shape[0]
        code = bottleneck_shape(self.shape)[0]
        mid = max(1, math.ceil(channels / 8))
        if len(shape) == 3 and shape[1] >= 4 and shape[2] >= 4:
            self.encoder = nn.Sequential(
                nn.Conv2d(channels, mid, 3, stride=2, padding=1),
                nn.BatchNorm2d(mid),
                nn.ReLU(),
                nn.Conv2d(mid, code, 3, stride=2, padding=1),
                nn.BatchNorm2d(code),
                nn.ReLU(),
            )
            self.decoder = nn.Sequential(
                nn.ConvTranspose2d(code, mid, 3, stride=2, padding=1, output_padding=1),
                nn.BatchNorm2d(mid),
                nn.ReLU(),
                nn.ConvTranspose2d(mid, channels, 3, stride=2, padding=1, output_padding=1),
            )
            self.spatial = True
        else:
            self.encoder = nn.Sequential(nn.Linear(channels, code), nn.ReLU())
            self.decoder = nn.Linear(code, channels)
            self.spatial = False

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        if self.spatial:
            return self.encoder(x)
        moved = x.movedim(1, -1)
        return self.encoder(moved).movedim(-1, 1)

    def decode(self, code: torch.Tensor) -> torch.Tensor:
        if self.spatial:
            out = self.decoder(code)
            return out[:, :, : self.shape[1], : self.shape[2]]
        return self.decoder(code.movedim(1, -1)).movedim(-1, 1)


class Bottleneck(nn.Module):
    """Autoencoders for the tensors crossing one split (non-tensor values pass as they are)."""

    def __init__(self, shapes: tuple[tuple[int, ...] | None, ...]):
        super().__init__()
        self.shapes = shapes
        self.codecs = nn.ModuleList([_Codec(s) if s is not None else nn.Identity() for s in shapes])

    def _each(self, step: str, value):
        """Apply each tensor's codec ``step`` (encode or decode) to one value or a tuple."""
        if isinstance(value, tuple):
            return tuple(
                getattr(c, step)(v) if s is not None else v
                for c, s, v in zip(self.codecs, self.shapes, value)
            )
        return getattr(self.codecs[0], step)(value)

    def encode(self, value):
        return self._each("encode", value)

    def decode(self, code):
        return self._each("decode", code)

    def forward(self, value):
        return self.decode(self.encode(value))


def _batched(value, index):
    if isinstance(value, tuple):
        return tuple(v[index] if isinstance(v, torch.Tensor) else v for v in value)
    return value[index]


def _cat(values):
    first = values[0]
    if isinstance(first, tuple):
        return tuple(
            torch.cat([v[i] for v in values]) if isinstance(first[i], torch.Tensor) else first[i]
            for i in range(len(first))
        )
    return torch.cat(values)


@torch.no_grad()
def _heads(head: nn.Module, images: torch.Tensor, batch: int = 256):
    return _cat([head(images[s : s + batch]) for s in range(0, len(images), batch)])


def train_bottleneck(
    graph: ModelGraph,
    split: str,
    train: ImageData,
    *,
    epochs: int = 12,
    lr: float = 2e-3,
    batch_size: int = 64,
    seed: int = 0,
    finetune_tail: bool = False,
    progress: Callable[[int, int, str], None] | None = None,
) -> tuple[Bottleneck, nn.Module]:
    """Train a bottleneck at ``split`` with the head frozen; returns (bottleneck, tail).

    The head's outputs on the training images are computed once (it is frozen and in
    eval mode), then the bottleneck (and the tail, if ``finetune_tail``) learn from the
    task loss. Seeded: the same arguments give the same weights.
    """
    point = graph.point(split)
    if split in ("input", "output"):
        raise SeiError(f"a bottleneck needs an inner split, not {split!r}")
    generator = torch.Generator().manual_seed(seed)
    head = graph.head(split).eval()
    tail = graph.tail(split)
    if finetune_tail:
        import copy

        tail = copy.deepcopy(tail)
    tail.eval()
    for p in tail.parameters():
        p.requires_grad_(finetune_tail)
    with seeded(seed):  # the initialisation draws from torch's global generator
        bottleneck = Bottleneck(point.shapes)
    features = _heads(head, train.images)
    labels = train.labels
    params = list(bottleneck.parameters()) + (
        [p for p in tail.parameters()] if finetune_tail else []
    )
    opt = torch.optim.Adam(params, lr=lr)
    steps = epochs * math.ceil(len(labels) / batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(steps, 1))
    for epoch in range(epochs):
        bottleneck.train()
        order = torch.randperm(len(labels), generator=generator)
        for start in range(0, len(labels), batch_size):
            idx = order[start : start + batch_size]
            logits = tail(bottleneck(_batched(features, idx)))
            loss = F.cross_entropy(logits, labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        if progress is not None:
            progress(epoch + 1, epochs, f"bottleneck at {split}")
    bottleneck.eval()
    for p in tail.parameters():
        p.requires_grad_(False)
    return bottleneck, tail.eval()


def _median_time(fn, repeats: int = 20) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        fn()
        times.append((time.perf_counter_ns() - t0) / 1e9)
    return float(np.median(times))


@torch.no_grad()
def measure_accuracy(
    graph: ModelGraph,
    split: str,
    compression: str,
    train: ImageData,
    test: ImageData,
    *,
    seed: int = 0,
    epochs: int = 12,
    finetune_tail: bool = False,
    progress: Callable[[int, int, str], None] | None = None,
) -> dict:
    """Top-1 accuracy on ``test`` of the model split at ``split`` with ``compression``.

    Every codec but the bottleneck runs as it would on a real link
    (:func:`splitetimpera.interpret.payloads.measure_codec`: each frame encoded, its bytes
    counted, decoded, then the tail); the bottleneck is trained first.

    Returns:
        A row of the accuracy table (split, compression, payload_bytes, accuracy, samples,
        seed, encode_s, decode_s); ``payload_bytes`` is the mean over the test images.
    """
    codec = parse_codec(compression)  # raises on an unknown name
    if compression != "bottleneck":
        from .payloads import accuracy_row, measure_codec

        return accuracy_row(measure_codec(graph, split, codec, test, labelled=True), seed)
    point = graph.point(split)
    with torch.enable_grad():
        bottleneck, tail = train_bottleneck(
            graph, split, train, epochs=epochs, seed=seed, finetune_tail=finetune_tail,
            progress=progress,
        )  # fmt: skip
    head = graph.head(split).eval()
    sample = head(test.images[:1])
    code = bottleneck.encode(sample)
    correct = 0
    for images, labels in test.batches(256):
        logits = tail(bottleneck.decode(bottleneck.encode(head(images))))
        correct += int((logits.argmax(1) == labels).sum())
    return {
        "split": split,
        "compression": compression,
        "payload_bytes": codec.nominal_bytes(list(point.shapes)),
        "accuracy": correct / len(test),
        "samples": len(test),
        "seed": seed,
        "encode_s": _median_time(lambda: bottleneck.encode(sample)),
        "decode_s": _median_time(lambda: bottleneck.decode(code)),
    }
