"""The ``splits`` section: how split candidates are chosen and how the crossing tensor is sent."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import field_validator

from .fields import PositiveInt, Section, as_list

__all__ = ["SplitsSpec", "COMPRESSIONS"]

COMPRESSIONS = ("none", "fp16", "int8", "bottleneck")


class SplitsSpec(Section):
    """How split candidates are chosen, and how the crossing tensor is compressed."""

    #: ``isplit``, ``cde``, ``all``, or a list of split names (``features.16``).
    method: Literal["isplit", "cde", "all"] | list[str] = "isplit"
    top_k: PositiveInt = 3
    compression: list[Literal["none", "fp16", "int8", "bottleneck"]] = ["none"]
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
            raise ValueError(f"name at least one of {', '.join(COMPRESSIONS)}")
        return value

    @field_validator("method", mode="before")
    @classmethod
    def _method(cls, value: Any):
        if isinstance(value, list) and not value:
            raise ValueError("an empty list of splits; name splits or use isplit, cde or all")
        return value
