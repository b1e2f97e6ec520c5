"""The unit parser: exact examples, refusals, and round-trips (hypothesis)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from splitetimpera import units
from splitetimpera.units import Kind, UnitError


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("54 Mbit/s", Kind.RATE, 54e6 / 8),
        ("100 Mbps", Kind.RATE, 100e6 / 8),
        ("1 MB/s", Kind.RATE, 1e6),
        ("1 MiB/s", Kind.RATE, 2**20),
        ("8 bit/s", Kind.RATE, 1.0),
        ("2 ms", Kind.TIME, 0.002),
        ("250 us", Kind.TIME, 250e-6),
        ("250 µs", Kind.TIME, 250e-6),
        ("1.5 s", Kind.TIME, 1.5),
        ("2 min", Kind.TIME, 120.0),
        ("1%", Kind.FRACTION, 0.01),
        ("0.5 %", Kind.FRACTION, 0.005),
        ("30 fps", Kind.FREQUENCY, 30.0),
        ("1 kHz", Kind.FREQUENCY, 1000.0),
        ("1e3 ms", Kind.TIME, 1.0),
        ("50 mJ", Kind.ENERGY, 0.05),
        ("1.5 J", Kind.ENERGY, 1.5),
        ("10 Wh", Kind.ENERGY, 36_000.0),
        ("500 mWh", Kind.ENERGY, 1800.0),
        ("2 kWh", Kind.ENERGY, 7.2e6),
        ("20 uJ", Kind.ENERGY, 20e-6),
        ("4.3 W", Kind.POWER, 4.3),
        ("438.39 mW", Kind.POWER, 0.43839),
        ("20 µW", Kind.POWER, 20e-6),
    ],
)
def test_examples(text, kind, expected):
    assert units.parse(text, kind) == pytest.approx(expected, rel=1e-12)


def test_sizes_are_whole_bytes_and_prefixes_are_what_they_say():
    assert units.parse_size("4 MB") == 4_000_000
    assert units.parse_size("1 MiB") == 2**20
    assert units.parse_size("1 kB") == 1000
    assert units.parse_size("1 KB") == 1000
    assert units.parse_size("1 KiB") == 1024
    assert units.parse_size("12 bit") == 2  # 1.5 bytes round up to whole bytes
    assert units.parse_size("8 Mbit") == 1_000_000
    assert units.parse_size("1500 B") == 1500


@pytest.mark.parametrize("value", [54, 54.0, "54", " 3 "])
def test_plain_numbers_are_refused_with_an_example(value):
    with pytest.raises(UnitError, match=r'needs a unit; write it like "54 Mbit/s"'):
        units.parse_rate(value)


@pytest.mark.parametrize("text", ["10 Mb/s", "10 Mbps ", "10 b", "10 Mb"])
def test_ambiguous_b_is_refused(text):
    if text.strip().endswith("Mbps"):
        assert units.parse_rate(text) == 10e6 / 8  # bps is unambiguous
        return
    kind = Kind.RATE if "/s" in text else Kind.SIZE
    with pytest.raises(UnitError, match="ambiguous"):
        units.parse(text, kind)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("fast", Kind.TIME),
        ("10 parsecs", Kind.TIME),
        ("5 ms", Kind.RATE),
        ("nan ms", Kind.TIME),
        (True, Kind.TIME),
        ([1], Kind.SIZE),
        ("5 W", Kind.ENERGY),  # a power is not an energy
        ("5 J", Kind.POWER),
        ("5 Wh", Kind.POWER),
        ("10 h", Kind.ENERGY),
    ],
)
def test_garbage_is_refused(text, kind):
    with pytest.raises(UnitError):
        units.parse(text, kind)


_UNITS = {
    Kind.TIME: ["s", "ms", "us", "ns", "min", "h"],
    Kind.SIZE: ["B", "kB", "MB", "GB", "KiB", "MiB", "GiB"],
    Kind.RATE: ["bit/s", "kbit/s", "Mbit/s", "Gbit/s", "B/s", "kB/s", "MB/s", "MiB/s", "Mbps"],
    Kind.FREQUENCY: ["Hz", "kHz", "fps"],
    Kind.FRACTION: ["%"],
    Kind.ENERGY: ["J", "mJ", "uJ", "kJ", "Wh", "mWh", "kWh"],
    Kind.POWER: ["W", "mW", "uW", "kW"],
}


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(
        [Kind.TIME, Kind.RATE, Kind.FREQUENCY, Kind.FRACTION, Kind.ENERGY, Kind.POWER]
    ),
    value=st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False),
    data=st.data(),
)
def test_round_trip_value_to_text_to_value(kind, value, data):
    unit = data.draw(st.sampled_from(_UNITS[kind]))
    text = units.format_quantity(value, kind, unit)
    assert units.parse(text, kind) == pytest.approx(value, rel=1e-12, abs=1e-300)


@settings(max_examples=200, deadline=None)
@given(nbytes=st.integers(min_value=0, max_value=10**15), unit=st.sampled_from(_UNITS[Kind.SIZE]))
def test_round_trip_sizes_exactly(nbytes, unit):
    text = units.format_quantity(nbytes, Kind.SIZE, unit)
    assert units.parse_size(text) == nbytes


@settings(max_examples=200, deadline=None)
@given(
    number=st.decimals(
        min_value=0, max_value=10**6, places=3, allow_nan=False, allow_infinity=False
    ),
    unit=st.sampled_from(_UNITS[Kind.RATE]),
    space=st.sampled_from(["", " ", "  "]),
)
def test_round_trip_text_to_value_to_text(number, unit, space):
    text = f"{number}{space}{unit}"
    value = units.parse_rate(text)
    again = units.parse_rate(units.format_quantity(value, Kind.RATE, unit))
    assert again == pytest.approx(value, rel=1e-12)
    assert math.isclose(value, float(number) * units.parse_rate(f"1 {unit}"), rel_tol=1e-12)


@pytest.mark.parametrize("kind", [Kind.ENERGY, Kind.POWER])
@pytest.mark.parametrize("value", [54, 54.0, "54"])
def test_energy_and_power_need_units(kind, value):
    with pytest.raises(UnitError, match="needs a unit"):
        units.parse(value, kind)


@settings(max_examples=200, deadline=None)
@given(
    value=st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False),
    kind=st.sampled_from([Kind.ENERGY, Kind.POWER]),
)
def test_energy_and_power_round_trip_exactly_in_their_base_unit(value, kind):
    assert units.parse(units.format_quantity(value, kind), kind) == value


def test_bits_and_bytes_never_confused():
    assert units.parse_rate("8 Mbit/s") == units.parse_rate("1 MB/s")
    assert units.parse_size("8 bit") == units.parse_size("1 B")
    assert units.parse_rate("1 Mbit/s") != units.parse_rate("1 MB/s")


def test_human_formats():
    assert units.format_rate(54e6 / 8) == "54 Mbit/s"
    assert units.format_time(0.0123) == "12.3 ms"
    assert units.format_time(0.0) == "0 s"
    assert units.format_size(1500) == "1.5 kB"
    assert units.format_fraction(0.015) == "1.5%"
    assert units.format_energy(0.0123) == "12.3 mJ"
    assert units.format_energy(36_000.0) == "10 Wh"
    assert units.format_power(0.403) == "403 mW"
    assert units.format_lifetime(8 * 3600) == "8 h"
    assert units.format_lifetime(5 * 86400) == "5 days"
