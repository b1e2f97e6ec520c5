"""Quantities with units: parse strings such as ``"54 Mbit/s"`` into SI floats, and back.

Internal units, used everywhere past the boundary:

========== ======================= ====================================
kind       internal unit           accepted spellings (examples)
========== ======================= ====================================
time       seconds (float)         ``"2 ms"``, ``"1.5 s"``, ``"250 us"``, ``"1 min"``
size       bytes (int)             ``"4 MB"``, ``"1 MiB"``, ``"1500 B"``, ``"12 kbit"``
rate       bytes per second        ``"54 Mbit/s"``, ``"100 Mbps"``, ``"1 MB/s"``
frequency  per second (Hz)         ``"30 fps"``, ``"10 Hz"``, ``"2 /s"``
fraction   a fraction (1 = 100 %)  ``"1%"``, ``"0.5 %"``
energy     joules (float)          ``"50 mJ"``, ``"1.5 J"``, ``"10 Wh"``, ``"2 kWh"``
power      watts (float)           ``"4.3 W"``, ``"438 mW"``, ``"20 uW"``
========== ======================= ====================================

Decimal prefixes are decimal (``1 MB = 10**6 B``, ``1 Mbit/s = 10**6 bit/s``), binary
prefixes binary (``1 MiB = 2**20 B``). ``B`` is a byte and ``bit`` a bit; the ambiguous
``b``, ``Mb`` or ``Mb/s`` are refused with a hint rather than guessed.

Plain numbers are refused wherever a unit is needed: the error shows an accepted example.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import Enum

__all__ = [
    "Kind",
    "UnitError",
    "parse",
    "parse_time",
    "parse_size",
    "parse_rate",
    "parse_frequency",
    "parse_fraction",
    "parse_energy",
    "parse_power",
    "format_quantity",
    "format_time",
    "format_size",
    "format_rate",
    "format_fraction",
    "format_energy",
    "format_power",
    "format_lifetime",
    "EXAMPLES",
]


class UnitError(ValueError):
    """A quantity string that cannot be parsed, or that is out of its allowed range."""


class Kind(str, Enum):
    TIME = "time"
    SIZE = "size"
    RATE = "rate"
    FREQUENCY = "frequency"
    FRACTION = "fraction"
    ENERGY = "energy"
    POWER = "power"


EXAMPLES: dict[Kind, str] = {
    Kind.TIME: '"2 ms"',
    Kind.SIZE: '"4 MB"',
    Kind.RATE: '"54 Mbit/s"',
    Kind.FREQUENCY: '"30 fps"',
    Kind.FRACTION: '"1%"',
    Kind.ENERGY: '"50 mJ"',
    Kind.POWER: '"4.3 W"',
}

_DECIMAL = {"": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}
_BINARY = {"Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40}

_TIME_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "min": 60.0,
    "h": 3600.0,
}
_FREQ_UNITS = {"Hz": 1.0, "kHz": 1e3, "MHz": 1e6, "fps": 1.0, "/s": 1.0, "1/s": 1.0}
_SMALL = {"n": 1e-9, "u": 1e-6, "µ": 1e-6, "μ": 1e-6, "m": 1e-3, "": 1.0, "k": 1e3, "M": 1e6}
_POWER_UNITS = {f"{prefix}W": factor for prefix, factor in _SMALL.items()}
# a watt-hour is 3600 J: battery capacities are given in Wh, energy per frame in mJ
_ENERGY_UNITS = {
    **{f"{prefix}J": factor for prefix, factor in _SMALL.items()},
    **{f"{prefix}Wh": factor * 3600.0 for prefix, factor in _SMALL.items() if prefix in "mk"},
    "Wh": 3600.0,
}


def _size_units() -> dict[str, float]:
    """Every size unit spelling, in bytes."""
    units: dict[str, float] = {}
    for prefix, factor in (_DECIMAL | _BINARY).items():
        units[f"{prefix}B"] = factor
        units[f"{prefix}bit"] = factor / 8.0
    return units


_SIZE_UNITS = _size_units()


def _rate_units() -> dict[str, float]:
    """Every data-rate unit spelling, in bytes per second."""
    units = {f"{name}/s": factor for name, factor in _SIZE_UNITS.items()}
    for prefix, factor in _DECIMAL.items():
        units[f"{prefix}bps"] = factor / 8.0
    units["Bps"] = 1.0
    return units


_RATE_UNITS = _rate_units()

_NUMBER = re.compile(
    r"^\s*(?P<num>[+-]?(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(?P<unit>.*?)\s*$"
)

_AMBIGUOUS = re.compile(r"^(?P<prefix>[kKMGT]i?)?b(?P<rate>/s|ps)?$")


@dataclass(frozen=True)
class _Parsed:
    value: float
    unit: str


def _split(text: str, kind: Kind) -> _Parsed:
    match = _NUMBER.match(text)
    if not match:
        raise UnitError(f"{text!r} is not a {kind.value}; write it like {EXAMPLES[kind]}")
    value = float(match.group("num").replace("_", ""))
    if not math.isfinite(value):
        raise UnitError(f"{text!r} is not a finite number")
    return _Parsed(value, match.group("unit"))


def _unit_table(kind: Kind) -> dict[str, float]:
    if kind is Kind.TIME:
        return _TIME_UNITS
    if kind is Kind.SIZE:
        return _SIZE_UNITS
    if kind is Kind.RATE:
        return _RATE_UNITS
    if kind is Kind.FREQUENCY:
        return _FREQ_UNITS
    if kind is Kind.ENERGY:
        return _ENERGY_UNITS
    if kind is Kind.POWER:
        return _POWER_UNITS
    return {"%": 0.01}


def parse(text: object, kind: Kind | str) -> float:
    """Parse ``text`` as a quantity of ``kind`` and return it in the internal unit.

    Args:
        text: a string with a number and a unit, e.g. ``"54 Mbit/s"``. A bare number
            (``54``, ``"54"``) is refused: the unit must be explicit.
        kind: which kind of quantity is expected.

    Returns:
        The value in seconds, bytes, bytes per second, per second, as a fraction, in
        joules or in watts.

    Raises:
        UnitError: with a message that shows an accepted example.
    """
    kind = Kind(kind)
    example = EXAMPLES[kind]
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise UnitError(f"expected a {kind.value} such as {example}, got {text!r}")
    if isinstance(text, (int, float)):
        raise UnitError(f"{text!r} needs a unit; write it like {example}")
    parsed = _split(text, kind)
    if parsed.unit == "":
        raise UnitError(f"{text.strip()!r} needs a unit; write it like {example}")
    table = _unit_table(kind)
    factor = table.get(parsed.unit)
    if factor is None:
        ambiguous = _AMBIGUOUS.match(parsed.unit) if kind in (Kind.SIZE, Kind.RATE) else None
        if ambiguous:
            prefix = ambiguous.group("prefix") or ""
            rate = "/s" if ambiguous.group("rate") else ""
            raise UnitError(
                f"{text.strip()!r}: {parsed.unit!r} is ambiguous: write {prefix}bit{rate} for bits "
                f"or {prefix}B{rate} for bytes"
            )
        hint = ""
        known = ", ".join(sorted(table, key=lambda u: (table[u], u)))
        raise UnitError(
            f"{text.strip()!r}: unknown {kind.value} unit {parsed.unit!r}{hint}; "
            f"use one of {known}, e.g. {example}"
        )
    return parsed.value * factor


def parse_time(text: object) -> float:
    """Parse a duration, e.g. ``"2 ms"``; returns seconds."""
    return parse(text, Kind.TIME)


def parse_size(text: object) -> int:
    """Parse a data size, e.g. ``"4 MB"``; returns whole bytes (bits round up to a byte)."""
    value = parse(text, Kind.SIZE)
    rounded = round(value)
    # Guard against 0.1 + 0.2 style noise before rounding up fractional bytes.
    if abs(value - rounded) < 1e-9 * max(1.0, abs(value)):
        return int(rounded)
    return int(math.ceil(value))


def parse_rate(text: object) -> float:
    """Parse a data rate, e.g. ``"54 Mbit/s"``; returns bytes per second."""
    return parse(text, Kind.RATE)


def parse_frequency(text: object) -> float:
    """Parse a frequency, e.g. ``"30 fps"``; returns events per second."""
    return parse(text, Kind.FREQUENCY)


def parse_fraction(text: object) -> float:
    """Parse a percentage, e.g. ``"1%"``; returns a fraction (0.01)."""
    return parse(text, Kind.FRACTION)


def parse_energy(text: object) -> float:
    """Parse an energy, e.g. ``"50 mJ"`` or ``"10 Wh"``; returns joules."""
    return parse(text, Kind.ENERGY)


def parse_power(text: object) -> float:
    """Parse a power, e.g. ``"4.3 W"``; returns watts."""
    return parse(text, Kind.POWER)


def _fmt_number(value: float) -> str:
    """Shortest text that reads back to exactly ``value``."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def format_quantity(value: float, kind: Kind | str, unit: str | None = None) -> str:
    """Write ``value`` (internal unit) as a string that :func:`parse` reads back exactly.

    Args:
        value: seconds, bytes, bytes per second, per second, a fraction, joules or watts.
        kind: the kind of quantity.
        unit: the unit to write in; the base unit of the kind by default
            (``s``, ``B``, ``B/s``, ``Hz``, ``%``, ``J``, ``W``).
    """
    kind = Kind(kind)
    base = {
        Kind.TIME: "s",
        Kind.SIZE: "B",
        Kind.RATE: "B/s",
        Kind.FREQUENCY: "Hz",
        Kind.FRACTION: "%",
        Kind.ENERGY: "J",
        Kind.POWER: "W",
    }[kind]
    unit = unit or base
    factor = _unit_table(kind)[unit]
    return f"{_fmt_number(value / factor)} {unit}"


def _human(value: float, steps: list[tuple[float, str]], digits: int, zero: str) -> str:
    if value == 0:
        return f"0 {zero}"
    for factor, unit in steps:
        if abs(value) >= factor:
            return f"{value / factor:.{digits}g} {unit}"
    factor, unit = steps[-1]
    return f"{value / factor:.{digits}g} {unit}"


def format_time(seconds: float, digits: int = 4) -> str:
    """Human-readable duration for tables and reports (not for round-tripping)."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "n/a"
    return _human(seconds, [(1.0, "s"), (1e-3, "ms"), (1e-6, "us"), (1e-9, "ns")], digits, "s")


def format_size(nbytes: float, digits: int = 4) -> str:
    """Human-readable size with decimal prefixes (``12.3 kB``)."""
    if nbytes is None or (isinstance(nbytes, float) and math.isnan(nbytes)):
        return "n/a"
    return _human(float(nbytes), [(1e9, "GB"), (1e6, "MB"), (1e3, "kB"), (1.0, "B")], digits, "B")


def format_rate(bytes_per_second: float, digits: int = 4) -> str:
    """Human-readable data rate in bits per second (``54 Mbit/s``)."""
    bits = bytes_per_second * 8.0
    return _human(
        bits, [(1e9, "Gbit/s"), (1e6, "Mbit/s"), (1e3, "kbit/s"), (1.0, "bit/s")], digits, "bit/s"
    )


def format_fraction(fraction: float, digits: int = 4) -> str:
    """Human-readable percentage (``1.5%``)."""
    if fraction is None or (isinstance(fraction, float) and math.isnan(fraction)):
        return "n/a"
    return f"{fraction * 100:.{digits}g}%"


def format_energy(joules: float, digits: int = 4) -> str:
    """Human-readable energy (``12.3 mJ``; ``Wh`` from 1 Wh up, as batteries are rated)."""
    if joules is None or (isinstance(joules, float) and math.isnan(joules)):
        return "n/a"
    steps = [(3600.0, "Wh"), (1.0, "J"), (1e-3, "mJ"), (1e-6, "uJ")]
    return _human(float(joules), steps, digits, "J")


def format_power(watts: float, digits: int = 4) -> str:
    """Human-readable power (``438 mW``)."""
    if watts is None or (isinstance(watts, float) and math.isnan(watts)):
        return "n/a"
    return _human(float(watts), [(1.0, "W"), (1e-3, "mW"), (1e-6, "uW")], digits, "W")


def format_lifetime(seconds: float, digits: int = 3) -> str:
    """Human-readable battery life: hours, or days from 48 h (``8.2 h``, ``3.1 days``)."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "n/a"
    if math.isinf(seconds):
        return "unlimited"
    if seconds >= 48 * 3600:
        return f"{seconds / 86400:.{digits}g} days"
    if seconds >= 3600:
        return f"{seconds / 3600:.{digits}g} h"
    return format_time(seconds, digits)
