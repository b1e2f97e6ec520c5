"""Every shipped scenario still gives the summary.csv it gave when its golden file was recorded.

The golden files in ``tests/golden/`` were written by ``sei simulate SCENARIO`` before a
change that must not alter results (the architecture rework). A change that alters
results on purpose regenerates them with ``python tests/golden/update.py`` and says so
in its note.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from splitetimpera import load_scenario, simulate
from splitetimpera.store import write_csv

REPO = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).resolve().parent / "golden"
SCENARIOS = sorted((REPO / "scenarios").glob("*.yaml"))


def test_every_shipped_scenario_has_a_golden_file():
    names = {p.stem for p in SCENARIOS}
    golden = {p.name.removesuffix(".summary.csv") for p in GOLDEN.glob("*.summary.csv")}
    assert names == golden


@pytest.mark.slow
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_summary_is_byte_identical(path, tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)  # shipped scenarios name repository-relative paths
    result = simulate(load_scenario(path))
    out = tmp_path / "summary.csv"
    write_csv(result.summary, out)
    expected = (GOLDEN / f"{path.stem}.summary.csv").read_bytes()
    assert out.read_bytes() == expected
