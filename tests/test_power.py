"""The shipped power models: they load, every number has its source, names are checked,
and RAPL counters read (or say they cannot)."""

from __future__ import annotations

import re

import pytest

from splitetimpera import power
from splitetimpera.errors import UnknownNameError
from splitetimpera.scenario.power import DevicePowerSpec

_QUANTITY = re.compile(r'^\s*[a-z_]+:\s*"[^"]*\d[^"]*"')


def test_shipped_models_load_and_are_named_as_their_files():
    boards = power.device_models()
    radios = power.radio_models()
    assert {"rpi3b", "rpi4b", "rpi-zero", "jetson-nano-10w", "mini-pc"} <= set(boards.names())
    assert {"lte", "wifi", "gigabit-ethernet"} <= set(radios.names())
    # the figures the issue names, from their sources
    assert boards.get("rpi3b").idle == pytest.approx(0.30 * 5.1)
    assert boards.get("rpi4b").active == pytest.approx(1.2 * 5.1)
    lte = radios.get("lte")
    assert lte.transfer.up_per_mbps == pytest.approx(0.43839)
    assert lte.promotion.duration == pytest.approx(0.26) and lte.tail.power == pytest.approx(1.06)


@pytest.mark.parametrize(
    "path", sorted(power.models_dir().glob("*/*.yaml")), ids=lambda p: f"{p.parent.name}/{p.stem}"
)
def test_every_number_carries_its_source_in_a_comment(path):
    lines = path.read_text().splitlines()
    assert lines[0].startswith("#"), "a header naming the source"
    for i, line in enumerate(lines):
        if _QUANTITY.match(line):
            commented = "#" in line or (i > 0 and lines[i - 1].lstrip().startswith("#"))
            assert commented, f"line {i + 1} has no comment: {line!r}"


def test_unknown_names_suggest_the_closest():
    with pytest.raises(UnknownNameError, match="did you mean 'rpi4b'"):
        power.device_power("rpi4")
    with pytest.raises(UnknownNameError, match="Known: gigabit-ethernet, lte, wifi"):
        power.radio("5g")


def test_an_inline_model_is_used_as_given():
    model = DevicePowerSpec(idle="0.5 W", active="2 W")
    assert power.device_power(model) is model


def test_rapl_counters_are_read_and_unwrapped(tmp_path):
    assert power.read_rapl(tmp_path) is None  # nothing there: "not measured"
    for name, energy in (("intel-rapl:0", 1_000_000), ("intel-rapl:0:0", 5)):
        domain = tmp_path / name
        domain.mkdir()
        (domain / "energy_uj").write_text(f"{energy}\n")
        (domain / "max_energy_range_uj").write_text("2000000\n")
    before = power.read_rapl(tmp_path)
    assert before == {"intel-rapl:0": (1_000_000, 2_000_000)}  # the package, not sub-domains
    (tmp_path / "intel-rapl:0" / "energy_uj").write_text("500000\n")  # wrapped once
    assert power.rapl_energy(before, power.read_rapl(tmp_path)) == pytest.approx(1.5)
