"""The shapes crossing a split, as profiles write them, and the bottleneck's code shape.

The bytes each codec sends follow from these (:mod:`splitetimpera.codecs`). The bottleneck
of METHODS section 3 turns a C x H x W map with H, W >= 4, by two stride-2 3x3
convolutions, into ceil(C/4) x ceil(ceil(H/2)/2) x ceil(ceil(W/2)/2) (1/64 of the map);
smaller maps and vectors get a 1x1 channel reduction to ceil(C/4) channels.
"""

from __future__ import annotations

import math

__all__ = ["parse_shapes", "bottleneck_shape"]


def parse_shapes(text: str) -> list[tuple[int, ...] | None]:
    """``"64x16x16;10"`` to ``[(64, 16, 16), (10,)]``; ``"int"`` entries become None."""
    if not isinstance(text, str) or not text.strip():
        return []
    out: list[tuple[int, ...] | None] = []
    for part in text.split(";"):
        part = part.strip()
        if part in ("int", "scalar"):
            out.append(None)
        elif part == "":
            continue
        else:
            out.append(tuple(int(d) for d in part.split("x")))
    return out


def bottleneck_shape(shape: tuple[int, ...], ratio: int = 4) -> tuple[int, ...]:
    """Shape of the bottleneck code for one tensor (batch dimension excluded)."""
    channels = max(1, math.ceil(shape[0] / ratio))
    if len(shape) == 3 and shape[1] >= 4 and shape[2] >= 4:
        h = math.ceil(math.ceil(shape[1] / 2) / 2)
        w = math.ceil(math.ceil(shape[2] / 2) / 2)
        return (channels, h, w)
    return (channels, *shape[1:])
