"""The ``model`` and ``dataset`` sections: which network, with which weights, on which data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import field_validator, model_validator

from ..catalog import REFERENCE_MODELS, default_input, known_models
from ..errors import did_you_mean
from .fields import InputShape, PositiveInt, Section, as_list

__all__ = ["ModelSpec", "DatasetSpec"]


class ModelSpec(Section):
    """Which network, with which weights, at which input shape."""

    name: str
    #: ``builtin`` (the shipped checkpoint of a reference model), ``none`` (random init,
    #: enough for latency and payload), or the path of a checkpoint.
    weights: str | None = None
    #: C x H x W at batch 1, e.g. ``3x224x224``; the model's usual input by default.
    input: InputShape = None
    #: Optional path of an accuracy table (``sei rank --accuracy`` writes one).
    accuracy: str | None = None

    @field_validator("name")
    @classmethod
    def _known(cls, value: str) -> str:
        if value.endswith(".pt") or "/" in value:
            return value  # a saved whole model (e.g. a pruned one), checked when loaded
        names = known_models()
        if value not in names:
            raise ValueError(
                f"unknown model {value!r}{did_you_mean(value, names)} Known: {', '.join(REFERENCE_MODELS)}, "
                "or any torchvision classifier (e.g. vgg16, resnet50, mobilenet_v2)"
            )
        return value

    @property
    def saved(self) -> bool:
        """True when ``name`` is a model file written by sei (e.g. a pruned model)."""
        return self.name.endswith(".pt") or "/" in self.name

    @property
    def profile_name(self) -> str:
        """The name its profiles are stored under: the file's stem for a saved model."""
        return Path(self.name).stem if self.saved else self.name

    @property
    def resolved_weights(self) -> str:
        if self.saved:
            return "saved"
        if self.weights is not None:
            return self.weights
        return "builtin" if self.name in REFERENCE_MODELS else "none"

    @property
    def resolved_input(self) -> tuple[int, int, int]:
        if self.input:
            return self.input
        if self.saved:
            sidecar = Path(self.name).with_suffix(".json")
            if sidecar.is_file():
                shape = json.loads(sidecar.read_text()).get("input_shape")
                if shape:
                    return tuple(shape)
            return default_input(Path(self.name).stem.split("-")[0])
        return default_input(self.name)


class DatasetSpec(Section):
    """The data used to rank splits and measure accuracy."""

    name: Literal["digits", "imagefolder"] = "digits"
    path: str | None = None
    #: ``all`` or a list of classes (indices for digits, folder names for imagefolder).
    classes: Literal["all"] | list[int | str] = "all"
    samples: PositiveInt = 512

    @field_validator("classes", mode="before")
    @classmethod
    def _classes(cls, value: Any):
        if value == "all":
            return value
        value = as_list(value)
        if isinstance(value, list) and not value:
            raise ValueError("an empty class subset selects no image; name at least one class")
        if isinstance(value, list) and len(set(map(str, value))) != len(value):
            raise ValueError(f"classes {value} name a class twice")
        return value

    @model_validator(mode="after")
    def _check(self):
        if self.name == "imagefolder" and not self.path:
            raise ValueError("path: imagefolder needs the path of a folder of class folders")
        if self.name == "digits" and self.classes != "all":
            for c in self.classes:
                if isinstance(c, bool) or not isinstance(c, int) or not 0 <= c <= 9:
                    raise ValueError(f"classes: {c!r} is not a digits class (0..9)")
        return self
