"""Bytes crossing a split under each compression, from the tensor shapes alone (no torch).

* ``none``: fp32, 4 bytes per element.
* ``fp16``: 2 bytes per element.
* ``int8``: 1 byte per element plus 8 bytes per tensor (fp32 scale and int32 zero point of
  per-tensor affine quantisation).
* ``bottleneck``: the code of the autoencoder of METHODS section 3, sent as fp32. For a
  C x H x W map with H, W >= 4: two stride-2 3x3 convolutions give
  ceil(C/4) x ceil(ceil(H/2)/2) x ceil(ceil(W/2)/2) (1/64 of the map). Smaller maps and
  vectors use a 1x1 channel reduction to ceil(C/4) channels.

Non-tensor values crossing a cut (shape integers in some models) count 8 bytes each.
"""

from __future__ import annotations

import math

__all__ = ["parse_shapes", "payload_bytes", "bottleneck_shape", "COMPRESSION_BYTES"]

COMPRESSION_BYTES = {"none": 4, "fp16": 2, "int8": 1, "bottleneck": 4}
_INT8_META = 8
_SCALAR = 8


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


def payload_bytes(shapes: list[tuple[int, ...] | None], compression: str) -> int:
    """Bytes to transmit the crossing tensors at batch 1 under ``compression``."""
    if compression not in COMPRESSION_BYTES:
        raise ValueError(
            f"unknown compression {compression!r}; known: {', '.join(COMPRESSION_BYTES)}"
        )
    total = 0
    for shape in shapes:
        if shape is None:
            total += _SCALAR
            continue
        if compression == "bottleneck":
            shape = bottleneck_shape(shape)
        total += math.prod(shape) * COMPRESSION_BYTES[compression]
        if compression == "int8":
            total += _INT8_META
    return total
