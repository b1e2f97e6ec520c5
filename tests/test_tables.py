"""Tables on disk: the shipped I-SPLIT tables are found by key, without torch."""

from __future__ import annotations

import subprocess
import sys

from splitetimpera.pipeline import load_scenario
from splitetimpera.tables import (
    accuracy_key,
    find_accuracy_row,
    find_isplit_table,
    isplit_key,
    shipped_isplit_path,
    store_accuracy_row,
    store_isplit_table,
)

from .conftest import REPO


def test_shipped_scenarios_find_their_shipped_tables(monkeypatch):
    monkeypatch.chdir(REPO)
    for name in ("wifi", "lte", "5g"):
        scenario = load_scenario(f"scenarios/{name}.yaml")
        key = isplit_key(scenario)
        assert shipped_isplit_path(key).is_file(), name
        table = find_isplit_table(scenario)
        assert set(table.columns) == {"split", "depth", "kind", "label", "score_sum", "count"}
        assert table["count"].sum() > 0


def test_keys_follow_what_changes_a_table(write_scenario):
    base = load_scenario(write_scenario())
    fewer = base.model_copy(update={"dataset": base.dataset.model_copy(update={"samples": 64})})
    subset = base.model_copy(update={"dataset": base.dataset.model_copy(update={"classes": [3]})})
    keys = {isplit_key(base), isplit_key(fewer), isplit_key(subset)}
    assert len(keys) == 3
    # an accuracy row also depends on the seed of its training
    assert accuracy_key(base, "features.3", "int8", 0, 12) != accuracy_key(
        base, "features.3", "int8", 1, 12
    )


def test_computed_tables_and_rows_are_cached(write_scenario):
    import pandas as pd

    scenario = load_scenario(write_scenario())
    assert find_isplit_table(scenario) is None
    table = pd.DataFrame(
        {
            "split": ["a", "b"],
            "depth": [1, 2],
            "label": ["0", "0"],
            "score_sum": [0.1, 0.3],
            "count": [4, 4],
        }
    )
    store_isplit_table(scenario, table)
    pd.testing.assert_frame_equal(find_isplit_table(scenario), table)
    key = accuracy_key(scenario, "a", "int8", 0, 12)
    assert find_accuracy_row(key) is None
    store_accuracy_row(key, {"split": "a", "accuracy": 0.9})
    assert find_accuracy_row(key) == {"split": "a", "accuracy": 0.9}


def test_reading_tables_needs_no_torch():
    code = (
        "import sys; from splitetimpera import tables, accuracy, ranking, selectors; "
        "assert 'torch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
