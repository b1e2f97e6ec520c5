"""sei rank: the table and figure it writes, its cache, the accuracy table, bad input."""

from __future__ import annotations

import importlib
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from splitetimpera.cli import app
from splitetimpera.interpret import tables
from splitetimpera.pipeline import LAYER_COLUMNS

from .browser import console_errors, render

runner = CliRunner()

SCENARIO = (
    "name: ranked\nmodel: {name: digits_vgg}\ndataset: {name: digits, samples: 120}\n"
    "splits: {method: isplit, top_k: 2, compression: [none, int8, int8+zstd, jpeg@75]}\n"
    "device: {profile: testhw}\nserver: {profile: testhw}\n"
    'network: {bandwidth: "10 Mbit/s", delay: "5 ms"}\nworkload: {rate: "5 fps", frames: 5}\n'
)


def test_rank_writes_table_and_figure_and_is_cached(write_scenario, tmp_path, monkeypatch):
    path = write_scenario(SCENARIO)
    result = runner.invoke(app, ["rank", str(path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    folder = tmp_path / "results" / "ranked"
    table = pd.read_csv(folder / "isplit.csv")
    assert list(table.columns) == list(LAYER_COLUMNS)
    assert table["split"].tolist()[0] == "features.0" and len(table) == 25
    assert (
        data["candidates"] == table[table["isplit_candidate"]].sort_values("rank")["split"].tolist()
    )
    assert table["cde_candidate"].any() and (table["images"] == 120).all()
    assert set(data["best_per_class"]) == {str(c) for c in range(10)}
    # a second run reads the cache: computing again would fail here
    monkeypatch.setattr(tables, "compute_isplit", lambda *a, **k: pytest.fail("recomputed"))
    again = runner.invoke(app, ["rank", str(path), "--json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["candidates"] == data["candidates"]


def test_class_subsets_and_accuracy_table(write_scenario, tmp_path):
    path = write_scenario(SCENARIO)
    result = runner.invoke(
        app, ["rank", str(path), "--classes", "1,7", "--accuracy", "--top", "1", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["classes"] == [1, 7]
    accuracy = pd.read_csv(tmp_path / "results" / "ranked" / "accuracy.csv")
    assert set(accuracy["compression"]) == {"none", "int8", "int8+zstd", "jpeg@75"}
    assert set(accuracy.loc[accuracy["compression"] == "jpeg@75", "split"]) == {"input"}
    full = accuracy[(accuracy["split"] == "output")]
    from splitetimpera.data.datasets import load_dataset

    test = load_dataset("digits", "test", (3, 32, 32))
    assert full["samples"].item() == int(((test.labels == 1) | (test.labels == 7)).sum())
    assert (accuracy["accuracy"] > 0.9).all()
    assert "Rate and accuracy" in (tmp_path / "results" / "ranked" / "isplit.html").read_text()
    # the simulator reads these accuracies for a scenario of the same classes only
    subset = write_scenario(
        SCENARIO.replace("samples: 120}", "samples: 120, classes: [1, 7]}"), name="subset.yaml"
    )
    sim = runner.invoke(app, ["simulate", str(subset), "--json", "--no-report"])
    rows = {r["config"]: r for r in json.loads(sim.stdout)["summary"]}
    assert rows["LC"]["accuracy"] == pytest.approx(full["accuracy"].item())
    measured = accuracy.set_index(["split", "compression"])["accuracy"]
    assert rows["RC+jpeg@75"]["accuracy"] == pytest.approx(measured[("input", "jpeg@75")])
    every = runner.invoke(app, ["simulate", str(path), "--no-report"])
    assert every.exit_code == 0, every.output
    # (rich wraps long paths anywhere: compare without whitespace)
    assert "accuracy.csvignored:measuredforanothermodel" in "".join(every.output.split())


def test_reference_layers_and_rule_from_flags_and_scenario_keys(write_scenario, tmp_path):
    text = SCENARIO.replace("testhw", "amd-epyc-2t")
    path = write_scenario(text)
    args = ["rank", str(path), "--layers", "reference", "--candidates", "local-maxima", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["layer_set"] == "reference" and data["candidate_rule"] == "local-maxima"
    table = pd.read_csv(tmp_path / "results" / "ranked" / "isplit.csv")
    assert table["split"].tolist() == [
        "features.0", "features.3", "features.6", "features.7", "features.10",
        "features.13", "features.14", "features.17", "features",
    ]  # fmt: skip
    assert set(table["kind"]) == {"conv", "pool"} and not table["top_k"].any()
    assert (
        data["candidates"] == table[table["isplit_candidate"]].sort_values("rank")["split"].tolist()
    )
    assert data["candidates"] and "classifier.1" not in data["candidates"]
    # the same keys in the scenario: the simulator splits at exactly those candidates
    keys = "top_k: 2, layers: reference, candidates: local-maxima,"
    sim_path = write_scenario(text.replace("top_k: 2,", keys), "keys.yaml")
    sim = runner.invoke(app, ["simulate", str(sim_path), "--json", "--no-report"])
    assert sim.exit_code == 0, sim.output
    rows = json.loads(sim.stdout)["summary"]
    assert {r["split"] for r in rows if r["mode"] == "SC"} == set(data["candidates"])


def test_reference_layers_undefined_exits_2_naming_the_file_and_key(write_scenario, monkeypatch):
    rank_module = importlib.import_module("splitetimpera.pipeline.rank")  # not the function

    def no_reference_layer(scenario, progress=None):
        rows = {"split": ["fc"], "depth": [1], "kind": ["classifier"], "label": ["0"],
                "score_sum": [1.0], "count": [1]}  # fmt: skip
        return pd.DataFrame(rows)

    monkeypatch.setattr(rank_module, "isplit_for", no_reference_layer)
    path = write_scenario(SCENARIO)
    result = runner.invoke(app, ["rank", str(path), "--layers", "reference"])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().count("\n") == 0
    assert f"{path}: splits.layers: reference layers are not defined" in result.stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--classes", "3,12"], "dataset.classes: 12 is not a digits class"),
        (["--classes", ","], "--classes: an empty class subset"),
        (["--samples", "0"], "dataset.samples: must be > 0"),
    ],
)
def test_bad_input(write_scenario, args, fragment):
    result = runner.invoke(app, ["rank", str(write_scenario(SCENARIO)), *args])
    assert result.exit_code == 2, result.output
    assert fragment in result.stderr and "Traceback" not in result.output


def test_accuracy_needs_trained_weights(write_scenario, profiles):
    from .conftest import write_test_profile

    write_test_profile(profiles, model="resnet18")
    text = SCENARIO.replace("digits_vgg", "resnet18").replace(
        "model: {name: resnet18}", "model: {name: resnet18, weights: none, input: 3x32x32}"
    )
    result = runner.invoke(app, ["rank", str(write_scenario(text)), "--accuracy"])
    assert result.exit_code == 2 and "accuracy needs trained weights" in result.stderr


@pytest.mark.slow
def test_rank_figure_renders(write_scenario, tmp_path):
    runner.invoke(app, ["rank", str(write_scenario(SCENARIO))])
    dom, console = render(tmp_path / "results" / "ranked" / "isplit.html")
    assert not console_errors(console), console
    assert "I-SPLIT candidates" in dom and "log10 CUI" in dom
