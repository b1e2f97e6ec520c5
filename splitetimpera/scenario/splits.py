"""The ``splits`` section: how split candidates are chosen and how the crossing tensor is sent."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, field_validator

from ..codecs import CODECS, parse_codec
from ..errors import UnknownNameError
from .fields import PositiveInt, Section, as_list

__all__ = ["SplitsSpec", "CodecName"]


def _codec_name(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a codec name; known: {', '.join(CODECS)}")
    try:
        return parse_codec(value).spec
    except (UnknownNameError, ValueError) as exc:
        raise ValueError(str(exc)) from None


#: A codec as a scenario names it (``int8+zstd``, ``jpeg@75``; see :mod:`splitetimpera.codecs`).
CodecName = Annotated[str, BeforeValidator(_codec_name)]


class SplitsSpec(Section):
    """How split candidates are chosen, and how the crossing tensor is compressed."""

    #: ``isplit``, ``cde``, ``all``, or a list of split names (``features.16``).
    method: Literal["isplit", "cde", "all"] | list[str] = "isplit"
    top_k: PositiveInt = 3
    #: Codecs (``sei codecs`` lists them): image codecs apply to remote computing, tensor
    #: codecs to split computing (and, all but the bottleneck, to RC's input tensor).
    compression: list[CodecName] = ["none"]
    #: Which class the I-SPLIT gradient targets: the model's prediction (the reference
    #: semantics) or the ground-truth label.
    target: Literal["predicted", "label"] = "predicted"
    #: Which layers I-SPLIT scores: every split point, or the original code's layer set
    #: (convolutions, pooling layers and residual block outputs of the feature extractor).
    layers: Literal["all", "reference"] = "all"
    #: How I-SPLIT picks candidates: interior local maxima plus the ``top_k`` highest CUI,
    #: or the original code's rule (every local maximum, no top-k).
    candidates: Literal["top-k", "local-maxima"] = "top-k"

    @field_validator("compression", mode="before")
    @classmethod
    def _compression(cls, value: Any):
        value = as_list(value)
        if isinstance(value, list) and not value:
            raise ValueError(
                f"name at least one codec, e.g. none, int8, jpeg@75 (known: {', '.join(CODECS)})"
            )
        if isinstance(value, list) and len(set(map(str, value))) != len(value):
            raise ValueError(f"{value} names a codec twice")
        return value

    @field_validator("method", mode="before")
    @classmethod
    def _method(cls, value: Any):
        if isinstance(value, list) and not value:
            raise ValueError("an empty list of splits; name splits or use isplit, cde or all")
        return value
