"""Accuracy tables: where they are found, in which order, and how they read."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from splitetimpera.accuracy import ACCURACY_COLUMNS, load_accuracy
from splitetimpera.errors import SeiError
from splitetimpera.pipeline import load_scenario
from splitetimpera.tables import data_identity


def _table(path, rows):
    pd.DataFrame(rows, columns=list(ACCURACY_COLUMNS)).to_csv(path, index=False)
    return path


def _row(split, compression, accuracy, seed=0, payload=100):
    return {
        "split": split, "compression": compression, "payload_bytes": payload,
        "accuracy": accuracy, "samples": 360, "seed": seed, "encode_s": 1e-4, "decode_s": 2e-4,
    }  # fmt: skip


def test_the_shipped_table_of_the_builtin_weights(write_scenario):
    table = load_accuracy(load_scenario(write_scenario()))
    assert table.source == "shipped digits_vgg.accuracy.csv (built-in weights, all classes)"
    assert 0.98 < table.base < 1.0  # digits_vgg's recorded test accuracy
    assert table.lookup("features.3", "none") == table.base  # no compression, no change
    assert 0.9 < table.lookup("features.3", "int8") <= 1.0
    assert math.isnan(table.lookup("features.3", "made-up"))
    assert table.codec_time("features.3", "none") == (0.0, 0.0)
    assert table.codec_time("nowhere", "int8") == (0.0, 0.0)


def test_seeds_are_averaged_and_the_output_row_is_the_base(write_scenario, tmp_path):
    path = _table(
        tmp_path / "acc.csv",
        [
            _row("output", "none", 0.95),
            _row("features.3", "bottleneck", 0.80, seed=0),
            _row("features.3", "bottleneck", 0.90, seed=1),
        ],
    )
    text = f"model: {{name: digits_vgg, accuracy: {path}}}"
    s = load_scenario(write_scenario(_replace_model(text)))
    table = load_accuracy(s)
    assert table.source == str(path)
    assert table.base == pytest.approx(0.95)
    assert table.lookup("features.3", "bottleneck") == pytest.approx(0.85)
    assert table.codec_time("features.3", "bottleneck") == pytest.approx((1e-4, 2e-4))


def _ranked(scenario, rows, identity=None):
    """What `sei rank --accuracy` leaves in the scenario's folder."""
    scenario.results_dir.mkdir(parents=True, exist_ok=True)
    _table(scenario.results_dir / "accuracy.csv", rows)
    record = {"identity": identity or data_identity(scenario), "rows": len(rows)}
    (scenario.results_dir / "accuracy.json").write_text(json.dumps(record))


def test_a_partial_ranked_table_is_laid_over_the_shipped_one(write_scenario):
    s = load_scenario(write_scenario())
    shipped = load_accuracy(s)
    _ranked(s, [_row("output", "none", 0.5), _row("features.3", "int8", 0.25)])
    table = load_accuracy(s)
    assert table.base == pytest.approx(0.5)
    assert table.lookup("features.3", "int8") == pytest.approx(0.25)
    # a row the ranking did not measure still comes from the shipped table
    assert table.lookup("features.7", "int8") == shipped.lookup("features.7", "int8")
    assert not math.isnan(table.lookup("features.7", "int8"))
    assert "(sei rank, 2 rows) over shipped digits_vgg.accuracy.csv" in table.source


def test_a_ranked_table_for_other_classes_is_ignored_and_said(write_scenario):
    s = load_scenario(write_scenario())
    _ranked(s, [_row("output", "none", 0.5)], identity={**data_identity(s), "classes": ["7"]})
    table = load_accuracy(s)
    assert table.base > 0.98 and "shipped" in table.source
    assert any("ignored: measured for another model" in n for n in table.notes)
    (s.results_dir / "accuracy.json").unlink()
    assert any("no record of what it measured" in n for n in load_accuracy(s).notes)


def test_an_explicit_table_wins_over_the_one_sei_rank_wrote(write_scenario, tmp_path):
    s = load_scenario(write_scenario())
    _ranked(s, [_row("output", "none", 0.5)])
    explicit = _table(tmp_path / "mine.csv", [_row("output", "none", 0.7)])
    text = f"model: {{name: digits_vgg, accuracy: {explicit}}}"
    assert load_accuracy(load_scenario(write_scenario(_replace_model(text)))).base == 0.7


def test_a_class_subset_is_told_the_shipped_table_is_for_all_classes(write_scenario):
    text = _replace_model("model: {name: digits_vgg}\ndataset: {classes: [1, 7]}")
    table = load_accuracy(load_scenario(write_scenario(text)))
    assert any("for all classes, not this scenario's [1, 7]" in n for n in table.notes)


def test_random_weights_have_no_accuracy(write_scenario):
    s = load_scenario(write_scenario(_replace_model("model: {name: digits_vgg, weights: none}")))
    table = load_accuracy(s)
    assert math.isnan(table.base) and table.table.empty
    assert "weights without an accuracy table" in table.source


def test_a_broken_table_is_one_line(write_scenario, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("split,accuracy\noutput,0.9\n")
    text = f"model: {{name: digits_vgg, accuracy: {bad}}}"
    with pytest.raises(SeiError, match="lacks columns compression"):
        load_accuracy(load_scenario(write_scenario(_replace_model(text))))


def _replace_model(line: str) -> str:
    from .conftest import BASE_SCENARIO

    return BASE_SCENARIO.replace("model: {name: digits_vgg}", line)
