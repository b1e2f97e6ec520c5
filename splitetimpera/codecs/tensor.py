"""Codecs of the tensors crossing a split (and of remote computing's raw input tensor).

* ``none``: fp32, 4 bytes per element.
* ``fp16``: half precision, 2 bytes per element.
* ``int8``: per-tensor affine quantisation: 1 byte per element plus 8 bytes per tensor
  (an fp32 scale and an int32 zero point).
* ``int8+zstd``, ``fp16+zstd``: the same, then entropy-coded with Zstandard (level 3, the
  library's default; RFC 8878), lossless on top of the quantisation: what a real system
  sends, since quantised activations (ReLU zeros, small values) compress well. Their size
  depends on the data, so it is measured on real activations, never assumed.
* ``bottleneck``: the learned autoencoder of METHODS section 3 (trained on the torch side;
  its code is sent as fp32, 1/64 of a map).

Non-tensor values crossing a cut (shape integers in some models) count 8 bytes each.
"""

from __future__ import annotations

import math
import struct

import numpy as np

from ..payload import bottleneck_shape
from .base import CODECS, Codec, _elements, as_arrays

__all__ = [
    "Raw",
    "Fp16",
    "Int8",
    "Int8Zstd",
    "Fp16Zstd",
    "BottleneckCodec",
    "quantize",
    "dequantize",
]

_SCALAR = 8
_INT8_META = 8


def quantize(x: np.ndarray) -> tuple[np.ndarray, float, int]:
    """Per-tensor affine quantisation to uint8: codes, scale and zero point."""
    lo, hi = (float(x.min()), float(x.max())) if x.size else (0.0, 0.0)
    scale = (hi - lo) / 255.0 if hi > lo else 1.0
    zero = int(round(-lo / scale))
    q = np.clip(np.round(x / scale) + zero, 0, 255).astype(np.uint8)
    return q, scale, zero


def dequantize(q: np.ndarray, scale: float, zero: int) -> np.ndarray:
    return (q.astype(np.float32) - zero) * np.float32(scale)


def _frame(parts: list[bytes]) -> bytes:
    """Several buffers as one payload (lengths first): what the receiver splits again."""
    return b"".join(struct.pack("<I", len(p)) + p for p in parts)


def _unframe(payload: bytes) -> list[bytes]:
    out, i = [], 0
    while i < len(payload):
        (n,) = struct.unpack_from("<I", payload, i)
        out.append(payload[i + 4 : i + 4 + n])
        i += 4 + n
    return out


def _unpack(payload: bytes, like, dtype) -> np.ndarray | list[np.ndarray]:
    """Float32 arrays shaped as ``like`` from ``payload``'s elements of ``dtype``, one
    tensor after the other."""
    arrays, out, i = as_arrays(like), [], 0
    size = np.dtype(dtype).itemsize
    for a in arrays:
        values = np.frombuffer(payload, dtype, a.size, i).reshape(a.shape)
        out.append(values.astype(np.float32))  # a copy, as the payload's buffer is not ours
        i += a.size * size
    return out if isinstance(like, list) else out[0]


@CODECS.register
class Raw(Codec):
    name = "none"
    summary = "fp32 as it is (4 B per element)"

    def encode(self, data) -> bytes:
        return b"".join(a.tobytes() for a in as_arrays(data))

    def decode(self, payload: bytes, like):
        return _unpack(payload, like, np.float32)

    def nominal_bytes(self, shapes):
        return _elements(shapes) * 4 + sum(_SCALAR for s in shapes if s is None)


@CODECS.register
class Fp16(Codec):
    name = "fp16"
    lossless = False
    summary = "half precision (2 B per element)"

    def encode(self, data) -> bytes:
        return b"".join(a.astype(np.float16).tobytes() for a in as_arrays(data))

    def decode(self, payload: bytes, like):
        return _unpack(payload, like, np.float16)

    def nominal_bytes(self, shapes):
        return _elements(shapes) * 2 + sum(_SCALAR for s in shapes if s is None)


@CODECS.register
class Int8(Codec):
    name = "int8"
    lossless = False
    summary = "per-tensor affine 8-bit quantisation (1 B per element + 8 B per tensor)"

    def _codes(self, data) -> list[bytes]:
        parts = []
        for a in as_arrays(data):
            q, scale, zero = quantize(a)
            parts.append(struct.pack("<fi", scale, zero) + q.tobytes())
        return parts

    def encode(self, data) -> bytes:
        return b"".join(self._codes(data))

    def _decoded(self, parts: bytes | list[bytes], like):
        arrays, out = as_arrays(like), []
        blob = parts if isinstance(parts, list) else None
        i = 0
        for k, a in enumerate(arrays):
            part = blob[k] if blob is not None else parts[i : i + 8 + a.size]
            scale, zero = struct.unpack_from("<fi", part, 0)
            q = np.frombuffer(part, np.uint8, a.size, 8).reshape(a.shape)
            out.append(dequantize(q, scale, zero))
            i += 8 + a.size
        return out if isinstance(like, list) else out[0]

    def decode(self, payload: bytes, like):
        return self._decoded(payload, like)

    def nominal_bytes(self, shapes):
        return sum(_SCALAR if s is None else math.prod(s) + _INT8_META for s in shapes)


def _zstd():
    import zstandard

    return zstandard


@CODECS.register
class Int8Zstd(Int8):
    name = "int8+zstd"
    lossless = False
    summary = "int8, then Zstandard entropy coding (lossless on the codes; size measured)"

    def encode(self, data) -> bytes:
        compressor = _zstd().ZstdCompressor(level=3)
        return compressor.compress(_frame(self._codes(data)))

    def decode(self, payload: bytes, like):
        return self._decoded(_unframe(_zstd().ZstdDecompressor().decompress(payload)), like)

    def nominal_bytes(self, shapes):
        return None


@CODECS.register
class Fp16Zstd(Fp16):
    name = "fp16+zstd"
    summary = "fp16, then Zstandard entropy coding (lossless on the halves; size measured)"

    def encode(self, data) -> bytes:
        return _zstd().ZstdCompressor(level=3).compress(super().encode(data))

    def decode(self, payload: bytes, like):
        return super().decode(_zstd().ZstdDecompressor().decompress(payload), like)

    def nominal_bytes(self, shapes):
        return None


@CODECS.register
class BottleneckCodec(Codec):
    name = "bottleneck"
    lossless = False
    learned = True
    summary = "learned autoencoder at the split, 1/64 of a map, sent as fp32 (trained per split)"

    def encode(self, data) -> bytes:
        raise NotImplementedError("the bottleneck is trained and run on the torch side")

    def decode(self, payload: bytes, like):
        raise NotImplementedError("the bottleneck is trained and run on the torch side")

    def nominal_bytes(self, shapes):
        return sum(_SCALAR if s is None else math.prod(bottleneck_shape(s)) * 4 for s in shapes)
