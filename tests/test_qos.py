"""The QoS matcher: feasibility, violations and by how much, the choice, the Pareto front."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from splitetimpera.qos import match, pareto_front
from splitetimpera.scenario import QosSpec


def _summary(rows) -> pd.DataFrame:
    base = {"deadline_miss": 0.0, "throughput": 30.0, "device_util": 0.2, "bytes_per_frame": 1000.0}
    return pd.DataFrame([{**base, **r} for r in rows])


ROWS = [
    {
        "config": "LC",
        "accuracy": 0.99,
        "latency_qos": 0.120,
        "bytes_per_frame": 0.0,
        "device_util": 0.9,
    },
    {"config": "RC", "accuracy": 0.99, "latency_qos": 0.060, "bytes_per_frame": 50_000.0},
    {"config": "SC@a", "accuracy": 0.97, "latency_qos": 0.040, "bytes_per_frame": 8_000.0},
    {"config": "SC@a+int8", "accuracy": 0.90, "latency_qos": 0.030, "bytes_per_frame": 2_000.0},
    {"config": "SC@b", "accuracy": math.nan, "latency_qos": 0.020, "bytes_per_frame": 9_000.0},
    {"config": "SC@c", "accuracy": 0.96, "latency_qos": 0.045, "bytes_per_frame": 9_000.0},
]


def test_feasible_and_chosen_by_latency():
    result = match(_summary(ROWS), QosSpec(min_accuracy="95%", max_latency="100 ms"))
    table = result.table.set_index("config")
    assert table.loc["SC@a", "feasible"] and table.loc["RC", "feasible"]
    assert not table.loc["LC", "feasible"] and not table.loc["SC@a+int8", "feasible"]
    assert not table.loc["SC@b", "feasible"]  # unknown accuracy cannot meet a minimum
    assert result.chosen == "SC@a"
    assert "p95 latency 120 ms > 100 ms" in table.loc["LC", "violations"]
    assert "accuracy 90% < 95%" in table.loc["SC@a+int8", "violations"]
    assert "accuracy unknown" in table.loc["SC@b", "violations"]
    lc = result.violations["LC"][0]
    assert lc.excess == pytest.approx(0.2)


@pytest.mark.parametrize(
    ("objective", "weights", "chosen"),
    [
        ("latency", None, "SC@a"),
        ("accuracy", None, "RC"),
        ("bytes", None, "SC@a"),
        ("weighted", {"bytes": 1.0}, "SC@a"),
        ("weighted", {"accuracy": 1.0, "latency": 0.01}, "RC"),
    ],
)
def test_objectives(objective, weights, chosen):
    qos = QosSpec(min_accuracy="95%", max_latency="100 ms", objective=objective, weights=weights)
    assert match(_summary(ROWS), qos).chosen == chosen


def test_nothing_feasible_names_the_closest():
    result = match(_summary(ROWS), QosSpec(min_accuracy="95%", max_latency="35 ms"))
    assert result.chosen is None
    # SC@a: 40 ms > 35 ms, 14% over; SC@a+int8: 90% < 95% accuracy, 5% short: closer
    assert result.closest == "SC@a+int8"
    assert (
        "None of 6 configurations meets the QoS. Closest: SC@a+int8 (accuracy 90% < 95%)"
        in result.explanation
    )


def test_other_constraints():
    qos = QosSpec(max_device_utilization="50%", min_throughput="25 fps", max_deadline_miss="5%")
    rows = [dict(r) for r in ROWS]
    rows[1]["throughput"] = 10.0
    rows[2]["deadline_miss"] = 0.2
    table = match(_summary(rows), qos).table.set_index("config")
    assert "device utilisation 90% > 50%" in table.loc["LC", "violations"]
    assert "throughput 10 fps < 25 fps" in table.loc["RC", "violations"]
    assert "deadline misses 20% > 5%" in table.loc["SC@a", "violations"]


def test_pareto_front():
    table = _summary(ROWS)
    front = dict(zip(table["config"], pareto_front(table)))
    # SC@c is worse than SC@a on all three; SC@b (accuracy unknown) has the lowest latency
    assert front == {
        "LC": True,
        "RC": True,
        "SC@a": True,
        "SC@a+int8": True,
        "SC@b": True,
        "SC@c": False,
    }


def test_to_dict_is_plain_json():
    import json

    result = match(_summary(ROWS), QosSpec(min_accuracy="95%", max_latency="100 ms"))
    text = json.dumps(result.to_dict())
    assert '"chosen": "SC@a"' in text


ENERGY = {"LC": 0.9, "RC": 2.6, "SC@a": 1.1, "SC@a+int8": 1.0, "SC@b": 3.0, "SC@c": 0.5}


def _with_energy(rows=ROWS) -> pd.DataFrame:
    table = _summary(rows)
    table["energy_per_frame"] = table["config"].map(ENERGY)
    table["battery_life"] = 36_000.0 / table["energy_per_frame"]  # 10 Wh at 1 fps
    return table


def test_objective_energy_and_an_energy_weight():
    qos = QosSpec(min_accuracy="95%", max_latency="100 ms", objective="energy")
    assert match(_with_energy(), qos).chosen == "SC@c"  # the least energy of the feasible
    weighted = QosSpec(min_accuracy="95%", objective="weighted", weights={"energy": 1.0})
    assert match(_with_energy(), weighted).chosen == "SC@c"


def test_energy_constraints_say_by_how_much():
    qos = QosSpec(max_energy="1.2 J", min_battery_life="8 h")
    result = match(_with_energy(), qos)
    table = result.table.set_index("config")
    assert "energy per frame 2.6 J > 1.2 J" in table.loc["RC", "violations"]
    assert "battery life 3.85 h < 8 h" in table.loc["RC", "violations"]
    assert result.violations["RC"][0].excess == pytest.approx(2.6 / 1.2 - 1)
    assert table.loc["SC@c", "feasible"] and not table.loc["SC@b", "feasible"]


def test_pareto_front_counts_energy_where_known():
    table = _with_energy()
    front = dict(zip(table["config"], pareto_front(table)))
    # SC@c was dominated on latency, accuracy and bytes; it spends the least energy
    assert front["SC@c"]
    unknown = table.assign(energy_per_frame=float("nan"))
    assert not dict(zip(unknown["config"], pareto_front(unknown)))["SC@c"]
