"""Field types of the scenario format: quantities with units and ranges, counts, shapes.

Every quantity is a string with a unit (see :mod:`splitetimpera.units`) parsed once, here,
into an SI value, with its allowed range checked; it is written back as an exact unit
string, so a dumped scenario loads again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, PlainSerializer, Tag

from .. import units
from ..units import Kind

__all__ = [
    "Section",
    "Duration",
    "PositiveDuration",
    "Rate",
    "Frequency",
    "Probability",
    "PositiveProbability",
    "LossRate",
    "Mtu",
    "Overhead",
    "PositiveSize",
    "Energy",
    "PositiveEnergy",
    "Power",
    "PositivePower",
    "PositiveInt",
    "PositiveFloat",
    "NonNegativeFloat",
    "Percentile",
    "InputShape",
    "parse_shape",
    "as_list",
    "value_or_section",
]


class Section(BaseModel):
    """A scenario section: unknown keys refused, frozen once validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _range_text(kind: Kind, lo, hi, lo_open: bool, hi_open: bool) -> str:
    def show(v):
        if kind is Kind.FRACTION:
            return f"{v * 100:g}%"
        return units.format_quantity(v, kind)

    left = "(" if lo_open or lo is None else "["
    right = ")" if hi_open or hi is None else "]"
    return f"{left}{show(lo) if lo is not None else '-inf'}, {show(hi) if hi is not None else 'inf'}{right}"


def _quantity(
    kind: Kind,
    *,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    hi_open: bool = False,
    integer: bool = False,
):
    """An annotated float (or int for sizes) parsed from a unit string, with a range check."""

    def validate(value: Any):
        parsed = units.parse_size(value) if integer else units.parse(value, kind)
        too_low = lo is not None and (parsed < lo or (lo_open and parsed == lo))
        too_high = hi is not None and (parsed > hi or (hi_open and parsed == hi))
        if too_low or too_high:
            shown = value.strip() if isinstance(value, str) else value
            raise ValueError(
                f"{shown} is out of range {_range_text(kind, lo, hi, lo_open, hi_open)}"
            )
        return parsed

    def serialise(value):
        # exact, and read back by the same validator: run.json stays a loadable scenario
        return units.format_quantity(value, kind)

    return Annotated[
        int if integer else float,
        BeforeValidator(validate),
        PlainSerializer(serialise, when_used="json"),
    ]


Duration = _quantity(Kind.TIME, lo=0.0)
PositiveDuration = _quantity(Kind.TIME, lo=0.0, lo_open=True)
Rate = _quantity(Kind.RATE, lo=0.0, lo_open=True)
Frequency = _quantity(Kind.FREQUENCY, lo=0.0, lo_open=True)
Probability = _quantity(Kind.FRACTION, lo=0.0, hi=1.0)
PositiveProbability = _quantity(Kind.FRACTION, lo=0.0, hi=1.0, lo_open=True)
LossRate = _quantity(Kind.FRACTION, lo=0.0, hi=1.0, hi_open=True)
Mtu = _quantity(Kind.SIZE, lo=68, hi=65535, integer=True)
Overhead = _quantity(Kind.SIZE, lo=0, hi=1000, integer=True)
PositiveSize = _quantity(Kind.SIZE, lo=1, integer=True)
Energy = _quantity(Kind.ENERGY, lo=0.0)
PositiveEnergy = _quantity(Kind.ENERGY, lo=0.0, lo_open=True)
Power = _quantity(Kind.POWER, lo=0.0)
PositivePower = _quantity(Kind.POWER, lo=0.0, lo_open=True)


def _positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a whole number, got {value!r}")
    if value <= 0:
        raise ValueError(f"must be > 0, got {value}")
    return value


PositiveInt = Annotated[int, BeforeValidator(_positive_int)]


def _positive_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number such as 4, got {value!r}")
    if not value > 0:
        raise ValueError(f"must be > 0, got {value}")
    return float(value)


PositiveFloat = Annotated[float, BeforeValidator(_positive_float)]


def _non_negative_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number such as 2, got {value!r}")
    if value < 0:
        raise ValueError(f"must be >= 0, got {value}")
    return float(value)


NonNegativeFloat = Annotated[float, BeforeValidator(_non_negative_float)]


def _percentile(value: Any) -> float:
    """Accept 95, 99.9, "95", "p95" or "95%"; must lie strictly between 0 and 100."""
    raw = value
    if isinstance(value, str):
        text = value.strip().lower().removeprefix("p").removesuffix("%").strip()
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{raw!r} is not a percentile; write it like p95 or 99.9") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{raw!r} is not a percentile; write it like p95 or 99.9")
    if not 0 < value < 100:
        raise ValueError(f"{raw} is out of range (0, 100)")
    return float(value)


Percentile = Annotated[float, BeforeValidator(_percentile)]


def parse_shape(value: Any) -> tuple[int, int, int] | None:
    """``"3x224x224"`` (or a list of three positive ints) to ``(3, 224, 224)``; None stays.

    Raises:
        ValueError: one sentence saying how to write a shape.
    """
    if value is None:
        return None
    if isinstance(value, str):
        parts = value.lower().replace(" ", "").split("x")
        try:
            dims = tuple(int(p) for p in parts)
        except ValueError:
            raise ValueError(f"{value!r} is not a shape; write it like 3x224x224") from None
    elif isinstance(value, (list, tuple)):
        dims = tuple(value)
    else:
        raise ValueError(f"{value!r} is not a shape; write it like 3x224x224")
    if len(dims) != 3 or not all(isinstance(d, int) and d > 0 for d in dims):
        raise ValueError(f"{value!r} is not a C x H x W shape; write it like 3x224x224")
    return dims


InputShape = Annotated[tuple[int, int, int] | None, BeforeValidator(parse_shape)]


def as_list(value: Any):
    """A single name or number stands for a list of one."""
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return [value]
    return value


def value_or_section(value_type: Any, section: type[BaseModel], tags: tuple[str, str]) -> Any:
    """A field that takes a plain value (a quantity, a name) or a section given as a
    mapping: a tagged union, ``tags`` naming (value, section), which error messages leave
    out of key paths (:mod:`.messages`)."""
    plain, mapped = tags

    def kind(value: Any) -> str:
        return mapped if isinstance(value, (Mapping, section)) else plain

    return Annotated[
        Annotated[value_type, Tag(plain)] | Annotated[section, Tag(mapped)], Discriminator(kind)
    ]
