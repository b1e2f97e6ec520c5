"""Codecs: how what crosses the network is sent. Found by name, one class each.

A scenario names them in ``splits.compression`` as ``name`` or ``name@parameter``:
``none``, ``fp16``, ``int8``, ``int8+zstd``, ``fp16+zstd``, ``bottleneck`` (tensors at a
split; all but the bottleneck also apply to remote computing's input tensor) and
``jpeg@Q``, ``webp@Q``, ``png`` (the input image, for remote computing). To add one,
subclass :class:`Codec` in the module of its kind and decorate it with
``@CODECS.register``. This package needs no torch: the torch side measures sizes,
accuracy and codec times on real data with these very encoders.
"""

from __future__ import annotations

from .base import CODECS, IMAGE, TENSOR, Codec, Parameter
from .image import Jpeg, Png, Webp
from .tensor import BottleneckCodec, Fp16, Fp16Zstd, Int8, Int8Zstd, Raw, dequantize, quantize

__all__ = [
    "CODECS",
    "IMAGE",
    "TENSOR",
    "Codec",
    "Parameter",
    "parse_codec",
    "applicable",
    "quantize",
    "dequantize",
    "Raw",
    "Fp16",
    "Int8",
    "Int8Zstd",
    "Fp16Zstd",
    "BottleneckCodec",
    "Jpeg",
    "Webp",
    "Png",
]


def parse_codec(spec: str) -> Codec:
    """A codec from its scenario name (``jpeg@75``, ``int8+zstd``, ``png``).

    Raises:
        UnknownNameError: an unknown name (with the closest known one).
        ValueError: a parameter where none is taken, a missing one, or one out of range.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"{spec!r} is not a codec name; known: {', '.join(CODECS)}")
    name, _, given = spec.strip().partition("@")
    cls = CODECS.get(name)
    if cls.parameter is None:
        if given:
            raise ValueError(f"{name} takes no parameter (write {name!r}, not {spec!r})")
        return cls()
    p = cls.parameter
    if not given:
        raise ValueError(
            f"{name} needs its {p.name}: write it like {name}@{p.default} ({p.lo}-{p.hi})"
        )
    try:
        value = int(given)
    except ValueError:
        raise ValueError(f"{spec!r}: the {p.name} must be a whole number ({p.lo}-{p.hi})") from None
    if not p.lo <= value <= p.hi:
        raise ValueError(f"{spec!r}: {p.name} {value} is out of range [{p.lo}, {p.hi}]")
    return cls(value)


def applicable(specs: list[str], mode: str) -> list[str]:
    """The codecs of ``specs`` that apply to ``mode`` (``RC``, ``SC``, ``EE``), in order."""
    return [s for s in specs if parse_codec(s).applies_to(mode)]
