"""Design-space exploration: spec checks, sampling, Pareto-optimal designs, report."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from splitetimpera.cli import app
from splitetimpera.errors import ScenarioError
from splitetimpera.explore import designs, load_spec, run_explore

from .browser import console_errors, render

runner = CliRunner()


def _spec(tmp_path, scenario, dimensions: str, extra: str = "") -> object:
    path = tmp_path / "space.yaml"
    path.write_text(f"name: space\nbase: {scenario}\nframes: 10\n{extra}dimensions:\n{dimensions}")
    return path


DIMENSIONS = (
    "  device.slowdown: [1, 30]\n"
    "  splits.compression: [[none], [int8]]\n"
    "  network:\n"
    '    fast: {network.bandwidth: "50 Mbit/s", network.delay: "1 ms"}\n'
    '    slow: {network.bandwidth: "2 Mbit/s", network.delay: "20 ms", network.loss: "1%"}\n'
)


def test_all_designs_and_seeded_samples(write_scenario, tmp_path):
    spec = load_spec(_spec(tmp_path, write_scenario(), DIMENSIONS))
    assert spec.size == 8
    every = designs(spec)
    assert len(every) == 8 and len({json.dumps(d[0], sort_keys=True) for d in every}) == 8
    assert every[0][1] == {
        "device.slowdown": 1,
        "splits.compression": ["none"],
        "network.bandwidth": "50 Mbit/s",
        "network.delay": "1 ms",
    }
    sampled = load_spec(_spec(tmp_path, write_scenario(), DIMENSIONS, "samples: 3\nseed: 4\n"))
    a, b = designs(sampled), designs(sampled)
    assert len(a) == 3 and a == b
    assert all(d in every for d in a)


@pytest.mark.parametrize(
    ("dimensions", "fragment"),
    [
        ("  device.speed: [1, 2]\n", "device.speed: unknown key"),
        (
            "  device.slowdown: [1, -3]\n",
            "dimensions.device.slowdown: -3: device.slowdown: must be > 0",
        ),
        (
            '  network:\n    bad: {network.loss: "200%"}\n',
            "dimensions.network: bad: network.loss: 200% is out of range",
        ),
        ("  device.slowdown: []\n", "give at least one alternative"),
    ],
)
def test_spec_mistakes_are_one_line(write_scenario, tmp_path, dimensions, fragment):
    with pytest.raises(ScenarioError) as info:
        load_spec(_spec(tmp_path, write_scenario(), dimensions))
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_missing_base(tmp_path):
    path = _spec(tmp_path, tmp_path / "nope.yaml", DIMENSIONS)
    result = runner.invoke(app, ["explore", str(path)])
    assert result.exit_code == 2 and "base: no scenario at" in result.stderr


def test_exploration_reports_pareto_designs(write_scenario, tmp_path):
    spec = load_spec(_spec(tmp_path, write_scenario(), DIMENSIONS))
    result = run_explore(spec, output=tmp_path / "out")
    table = pd.read_csv(tmp_path / "out" / "designs.csv")
    assert len(table) == 8 and (table["status"] == "ok").all()
    assert table["pareto"].any()
    pareto = table[table["pareto"]]
    # no evaluated design beats a Pareto-optimal one on latency, accuracy and bytes at once
    for _, p in pareto.iterrows():
        better = table[
            (table["latency_qos"] <= p["latency_qos"])
            & (
                table["accuracy"].fillna(-1)
                >= (p["accuracy"] if p["accuracy"] == p["accuracy"] else -1)
            )
            & (table["bytes_per_frame"] <= p["bytes_per_frame"])
            & (table["feasible"] >= p["feasible"])
        ]
        strictly = better[
            (better["latency_qos"] < p["latency_qos"])
            | (better["bytes_per_frame"] < p["bytes_per_frame"])
        ]
        assert strictly.empty or not p["feasible"]
    assert result.to_dict()["evaluated"] == 8
    again = run_explore(spec, output=tmp_path / "out")
    assert again.counts["reused"] == 8


@pytest.mark.slow
def test_explore_report_renders(write_scenario, tmp_path):
    path = _spec(tmp_path, write_scenario(), DIMENSIONS, "samples: 4\n")
    result = runner.invoke(app, ["explore", str(path), "--output", str(tmp_path / "x"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["evaluated"] == 4 and data["space"] == 8
    dom, console = render(tmp_path / "x" / "report.html")
    assert not console_errors(console), console
    assert "parcoords" in dom and "Pareto-optimal designs" in dom


def test_the_shipped_design_space_loads_against_its_base(monkeypatch):
    from .conftest import REPO

    monkeypatch.chdir(REPO)  # its base is given from the repository root, as the README runs it
    spec = load_spec("scenarios/designs/wifi.yaml")
    every = designs(spec)
    assert spec.size == len(every) == 54
    lte = [o for _, o in every if o.get("network.delay") == "20 ms"]
    assert len(lte) == 18 and all(isinstance(o["network.loss"], dict) for o in lte)


def test_an_alternative_that_needs_another_dimension_is_accepted(
    write_scenario, tmp_path, profiles
):
    from .conftest import write_test_profile

    write_test_profile(profiles, model="digits_resnet", hardware="otherhw")
    needs_otherhw = (
        "  model.name: [digits_vgg, digits_resnet]\n"
        "  hardware:\n"
        "    test: {device.profile: testhw, server.profile: testhw}\n"
        "    other: {device.profile: otherhw, server.profile: otherhw}\n"
    )
    spec = load_spec(_spec(tmp_path, write_scenario(), needs_otherhw))
    assert spec.size == 4  # digits_resnet fits only with 'other'; 'other' only with it
    # the two combinations that are no scenario are left out, and said so
    result = run_explore(spec, output=tmp_path / "mixed")
    assert len(result.designs) + len(result.invalid) == 4 and len(result.invalid) == 2
    assert {(d["model.name"], d["hardware"]) for d in result.invalid} == {
        ("digits_resnet", "test"),
        ("digits_vgg", "other"),
    }
    assert all("no profile of" in d["error"] for d in result.invalid)
    saved = json.loads((tmp_path / "mixed" / "run.json").read_text())
    assert saved["kind"] == "explore" and len(saved["invalid"]) == 2
    report = (tmp_path / "mixed" / "report.html").read_text()
    assert "2 combination(s) left out as no valid scenario" in report
    nowhere = "  model.name: [digits_vgg, digits_mobilenet]\n"
    with pytest.raises(ScenarioError, match="dimensions.model.name: digits_mobilenet: "):
        load_spec(_spec(tmp_path, write_scenario(), nowhere))


def test_exact_ties_merge_and_a_cost_is_an_objective(write_scenario, tmp_path):
    cost = "cost: {name: board price (USD), per: {device.slowdown: {1: 60, 30: 15}}}\n"
    spec = load_spec(_spec(tmp_path, write_scenario(), DIMENSIONS, cost))
    result = run_explore(spec, output=tmp_path / "c")
    designs_ = result.designs
    assert set(designs_["cost"]) == {60.0, 15.0}
    groups = result.pareto_groups
    # every Pareto-optimal design is in exactly one group, and a group's designs tie exactly
    assert groups["designs"].sum() == int(designs_["pareto"].sum())
    keys = ["chosen", "latency_qos", "accuracy", "bytes_per_frame", "cost"]
    assert not groups.duplicated(keys).any()
    # the cheap slow board is optimal on cost though the fast one beats it on latency
    pareto = designs_[designs_["pareto"]]
    assert {60.0, 15.0} <= set(pareto["cost"])
    merged = groups[groups["designs"] > 1]
    if len(merged):
        assert any(
            v == "any" or "," in v for v in merged[list(spec.dimensions)].astype(str).values.ravel()
        )


@pytest.mark.parametrize(
    ("cost", "fragment"),
    [
        ("cost: {per: {device.count: {1: 5}}}\n", "cost.per.device.count: not a dimension"),
        ("cost: {per: {device.slowdown: {1: 5}}}\n", "cost.per.device.slowdown: no cost for '30'"),
        ("cost: {per: {device.slowdown: {1: 5, 30: 1, 7: 2}}}\n", "no alternative '7'"),
    ],
)
def test_a_cost_must_name_real_alternatives(write_scenario, tmp_path, cost, fragment):
    with pytest.raises(ScenarioError, match=fragment):
        load_spec(_spec(tmp_path, write_scenario(), DIMENSIONS, cost))


def test_accuracy_axes_stay_within_100_percent(write_scenario, tmp_path):
    import re

    spec = load_spec(_spec(tmp_path, write_scenario(), DIMENSIONS, "samples: 4\n"))
    run_explore(spec, output=tmp_path / "a")
    html = (tmp_path / "a" / "report.html").read_text()
    uppers = re.findall(r'"range":\[[0-9.e-]+,([0-9.e-]+)\]', html)
    assert len(uppers) >= 2  # the parallel coordinates' accuracy axis and the scatter's
    assert all(float(upper) <= 1.0 + 1e-12 for upper in uppers)
