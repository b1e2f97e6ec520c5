"""What every codec is: a name (with an optional integer parameter), what it compresses
(the input image for RC, the split tensors for SC), whether it is lossless, and how to
encode and decode."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from ..store import Registry

__all__ = ["Codec", "Parameter", "CODECS", "IMAGE", "TENSOR"]

#: What a codec compresses: the input image (remote computing sends it) ...
IMAGE = "image"
#: ... or the tensors crossing a split (split computing sends them; RC's raw input too).
TENSOR = "tensor"


@dataclass(frozen=True)
class Parameter:
    """A codec's integer parameter, written ``name@value`` (``jpeg@75``)."""

    name: str
    lo: int
    hi: int
    default: int


class Codec(ABC):
    """One way of sending what crosses the network.

    Subclasses set ``name``, ``kind`` (:data:`IMAGE` or :data:`TENSOR`), ``lossless`` and,
    when they take one, ``parameter``; they are found by name in :data:`CODECS`.

    Args:
        value: the parameter's value (``75`` for ``jpeg@75``), None without a parameter.
    """

    name = "abstract"
    kind = TENSOR
    lossless = True
    parameter: Parameter | None = None
    #: True when encoding needs a trained model (the bottleneck): the torch side does it.
    learned = False
    #: One line for ``sei codecs``.
    summary = ""

    def __init__(self, value: int | None = None):
        self.value = (
            value if value is not None else (self.parameter.default if self.parameter else None)
        )

    @property
    def spec(self) -> str:
        """The name a scenario writes: ``jpeg@75``, ``int8+zstd``."""
        return f"{self.name}@{self.value}" if self.parameter else self.name

    def applies_to(self, mode: str) -> bool:
        """True for the modes whose payload this codec can send."""
        if self.kind == IMAGE:
            return mode == "RC"
        return mode in ("SC", "EE") or (mode == "RC" and not self.learned)

    @abstractmethod
    def encode(self, data) -> bytes:
        """The bytes sent: an image (H x W x 3 uint8) or a list of float32 arrays."""

    @abstractmethod
    def decode(self, payload: bytes, like):
        """What the receiver reconstructs, shaped like ``like`` (what was encoded)."""

    def nominal_bytes(self, shapes: list[tuple[int, ...] | None]) -> int | None:
        """Bytes without measuring (from the shapes alone), or None when only a
        measurement can say (entropy coders and image codecs)."""
        return None

    def __repr__(self) -> str:
        return f"Codec({self.spec})"


#: Codecs by name; ``@CODECS.register`` adds one.
CODECS: Registry[type[Codec]] = Registry("codec")


def _elements(shapes) -> int:
    return sum(math.prod(s) for s in shapes if s is not None)


def as_arrays(data) -> list[np.ndarray]:
    """Tensor codecs take one array or a list of them."""
    return [
        np.ascontiguousarray(a, dtype=np.float32)
        for a in (data if isinstance(data, list) else [data])
    ]
