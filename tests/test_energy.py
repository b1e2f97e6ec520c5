"""Energy through the pipeline: summary columns, idle over run time, LC without the network,
the QoS on energy, and every shipped scenario naming its power models."""

from __future__ import annotations

import pytest
import yaml

from splitetimpera.pipeline import SUMMARY_COLUMNS, scenario_from_dict, simulate
from splitetimpera.sim.frames import FRAME_COLUMNS

from .conftest import BASE_SCENARIO, REPO, make_scenario

BOARD = {"idle": "1 W", "active": "3 W"}
ENERGY = ["energy_per_frame", "energy_compute", "energy_radio", "energy_tail", "energy_idle"]


def _scenario(profiles, **changes):
    return make_scenario(profiles, **{"device.power": BOARD, "network.radio": "lte", **changes})


def _row(result, config: str):
    return result.summary.set_index("config").loc[config]


def test_energy_columns_are_documented_and_add_up(profiles):
    result = simulate(_scenario(profiles, **{"device.battery": "10 Wh"}))
    for column in (*ENERGY, "battery_life"):
        assert column in SUMMARY_COLUMNS
    for column in ("energy_compute", "energy_radio", "energy_tail"):
        assert column in FRAME_COLUMNS and column in result.frames
    summary = result.summary
    parts = summary[ENERGY[1:]].sum(axis=1)
    assert (summary["energy_per_frame"] - parts).abs().max() < 1e-12
    assert (summary["energy_per_frame_lo"] <= summary["energy_per_frame"] + 1e-12).all()
    assert (summary["energy_per_frame"] <= summary["energy_per_frame_hi"] + 1e-12).all()
    # battery life: 10 Wh over the average power of the run's window
    lc = _row(result, "LC")
    window = 20 / 10.0  # 20 frames at 10 fps, one device
    power = lc["energy_per_frame"] * 20 / window
    assert lc["battery_life"] == pytest.approx(36_000 / power, rel=1e-9)
    # per-frame compute energy: the board's active power x its compute time
    frames = result.frames[result.frames["config"] == "LC"]
    assert frames["energy_compute"].to_numpy() == pytest.approx(3.0 * 0.010)


@pytest.mark.parametrize("rate", [10.0, 5.0, 2.0])
def test_idle_energy_scales_with_run_time(profiles, rate):
    s = _scenario(profiles, **{"modes": ["LC"], "workload.rate": f"{rate:g} fps"})
    lc = _row(simulate(s), "LC")
    # testhw: the whole model is 5 steps of 2 ms; the board idles the rest of each period
    assert lc["energy_idle"] == pytest.approx(1.0 * (1 / rate - 0.010), rel=1e-9)
    assert lc["energy_compute"] == pytest.approx(3.0 * 0.010, rel=1e-9)


def test_energy_of_lc_does_not_depend_on_the_network(profiles):
    base = _row(simulate(_scenario(profiles)), "LC")
    for changes in (
        {"network.bandwidth": "1 Mbit/s", "network.loss": "2%"},
        {"network.delay": "80 ms", "network.protocol": "tcp"},
        {"network.radio": "wifi"},
        {"network.radio": "gigabit-ethernet"},
    ):
        other = _row(simulate(_scenario(profiles, **changes)), "LC")
        for column in ENERGY:
            assert other[column] == base[column], (changes, column)
    assert base["energy_radio"] == 0 and base["energy_tail"] == 0


def test_offloading_pays_for_the_radio(profiles):
    result = simulate(_scenario(profiles))
    rc = _row(result, "RC")
    assert rc["energy_radio"] > 0 and rc["energy_tail"] > 0
    # 10 fps: the LTE tail never ends between frames, so there is one promotion: the first
    # frame pays it (1.21 W x 0.26 s) and waits for it; the next two wait for its end too
    frames = result.frames[result.frames["config"] == "RC"].sort_values("t_gen")
    assert frames["energy_tail"].iloc[0] >= 1.21 * 0.26
    latency = frames["latency"].to_numpy()
    assert latency[0] > 0.26 and latency[-1] < 0.26


def test_without_power_models_energy_is_unknown(profiles):
    data = yaml.safe_load(BASE_SCENARIO)
    data["output"] = str(profiles.parent / "results")
    result = simulate(scenario_from_dict(data, "test.yaml"))
    assert result.summary["energy_per_frame"].isna().all()
    assert result.qos.chosen is not None  # latency decides as before


def test_objective_energy_and_energy_constraints(profiles):
    # a board 10x slower: LC takes 100 ms, offloading is faster but pays the LTE tail
    slow = {"workload.rate": "1 fps", "device.slowdown": 10, "qos.max_latency": "200 ms"}
    latency = simulate(_scenario(profiles, **slow))
    energy = simulate(_scenario(profiles, **slow, **{"qos.objective": "energy"}))
    table = energy.summary
    feasible = table[table["feasible"]]
    assert energy.qos.chosen == feasible.sort_values("energy_per_frame").iloc[0]["config"]
    # at 1 fps the LTE tail dominates: computing locally is cheapest
    assert energy.qos.chosen == "LC"
    assert "per frame" in energy.qos.explanation
    assert latency.qos.chosen != energy.qos.chosen
    cap = float(_row(energy, "LC")["energy_per_frame"]) * 1.01
    capped = simulate(_scenario(profiles, **slow, **{"qos.max_energy": f"{cap * 1e3:.6g} mJ"}))
    assert capped.qos.chosen == "LC"
    assert "energy per frame" in _row(capped, "RC")["violations"]


def test_min_battery_life_needs_a_battery_and_bounds_the_choice(profiles):
    with pytest.raises(Exception, match="device.battery"):
        _scenario(profiles, **{"qos.min_battery_life": "8 h"})
    result = simulate(
        _scenario(profiles, **{"device.battery": "10 Wh", "qos.min_battery_life": "1 h"})
    )
    table = result.summary
    assert (table.loc[table["feasible"], "battery_life"] >= 3600).all()


def test_weighted_objective_takes_an_energy_weight(profiles):
    s = _scenario(profiles, **{"qos.objective": "weighted", "qos.weights": {"energy": 1.0}})
    result = simulate(s)
    assert result.qos.chosen == "LC"


def test_pareto_front_counts_energy(profiles):
    result = simulate(_scenario(profiles, **{"workload.rate": "1 fps"}))
    table = result.summary.set_index("config")
    # LC spends least: nothing beats it on energy, whatever its latency
    assert table.loc["LC", "pareto"]
    cheapest = table["energy_per_frame"].idxmin()
    assert table.loc[cheapest, "pareto"]


@pytest.mark.parametrize("path", sorted((REPO / "scenarios").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_scenario_names_its_power_models(path):
    data = yaml.safe_load(path.read_text())
    assert data["device"].get("power"), "device.power"
    assert data["network"].get("radio"), "network.radio"
