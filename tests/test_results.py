"""Results folders: one run.json schema, written and read back only by ``results``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from splitetimpera.errors import SeiError
from splitetimpera.pipeline import SUMMARY_COLUMNS, load_scenario, simulate
from splitetimpera.results import (
    QOS_COLUMNS,
    RUN_KINDS,
    point_done,
    point_info,
    prepare_folder,
    read_result,
    read_run,
    read_table,
    run_header,
    write_point,
    write_result,
    write_study,
)
from splitetimpera.sim.frames import FRAME_COLUMNS


@pytest.fixture
def result(write_scenario):
    return simulate(load_scenario(write_scenario()))


def test_a_simulation_folder_round_trips(result, tmp_path):
    folder = write_result(result, tmp_path / "run", report=False)
    assert sorted(p.name for p in folder.iterdir()) == [
        "frames.parquet", "links.parquet", "run.json", "summary.csv",
    ]  # fmt: skip
    assert set(read_result(folder).links["config"]) == set(result.links["config"])
    back = read_result(folder)
    pd.testing.assert_frame_equal(back.frames, result.frames)
    assert back.qos.chosen == result.qos.chosen
    assert list(back.summary["config"]) == list(result.summary["config"])
    assert [c.id for c in back.configurations] == [c.id for c in result.configurations]
    assert back.scenario.model_dump() == result.scenario.model_dump()
    assert back.meta["seed"] == result.meta["seed"] == 7


def test_run_json_has_one_schema(result, tmp_path):
    folder = write_result(result, tmp_path / "run", report=False)
    run = read_run(folder)
    header = run_header("simulate", result.scenario, 1.0)
    assert set(header) <= set(run)
    assert run["kind"] == "simulate" and run["scenario"]["name"] == "test"
    assert run["columns"]["frames.parquet"] == FRAME_COLUMNS
    assert run["columns"]["summary.csv"] == {**SUMMARY_COLUMNS, **QOS_COLUMNS}
    assert run["qos"]["chosen"] == result.qos.chosen
    assert "wall_time_s" in run and run["wall_time_s"] > 0
    with pytest.raises(ValueError, match="unknown run kind"):
        run_header("bench", result.scenario, None)
    assert RUN_KINDS == ("simulate", "sweep", "explore")


@pytest.mark.parametrize(
    ("setup", "fragment"),
    [
        (lambda d: None, "no such results folder"),
        (lambda d: d.mkdir(), "not a results folder (no run.json)"),
        (lambda d: (d.mkdir(), (d / "run.json").write_text("{broken")), "unreadable"),
        (lambda d: (d.mkdir(), (d / "run.json").write_text('{"kind": "x"}')), "'kind' is 'x'"),
    ],
)
def test_reading_a_bad_folder_is_one_line(tmp_path, setup, fragment):
    folder = tmp_path / "f"
    setup(folder)
    with pytest.raises(SeiError, match=re.escape(fragment)):
        read_run(folder)


def test_a_study_folder_is_not_read_as_a_simulation(result, tmp_path):
    run = run_header("sweep", result.scenario, 2.0)
    table = pd.DataFrame({"point": [0], "status": ["ok"]})
    write_study(tmp_path, run, {"points.csv": table, "empty.csv": pd.DataFrame()}, {}, "<html>")
    assert (tmp_path / "report.html").read_text() == "<html>"
    assert not (tmp_path / "empty.csv").exists()
    pd.testing.assert_frame_equal(read_table(tmp_path, "points.csv"), table)
    assert read_table(tmp_path, "nowhere.csv").empty
    with pytest.raises(SeiError, match="a sweep folder, not a simulation's"):
        read_result(tmp_path)


def test_a_point_is_done_only_when_its_marker_says_ok(result, tmp_path):
    ok = tmp_path / "ok"
    info = {"key": "k1", "label": {"seed": 1}, "status": "ok", "error": ""}
    write_point(ok, info, result)
    assert point_done(ok) == info
    assert json.loads((ok / "run.json").read_text())["label"] == {"seed": 1}
    failed = tmp_path / "failed"
    write_point(failed, {**info, "status": "failed", "error": "boom"}, None)
    assert point_done(failed) is None and point_info(failed)["error"] == "boom"
    assert sorted(p.name for p in failed.iterdir()) == ["point.json"]
    (failed / "point.json").write_text("{half")
    assert point_info(failed) is None and point_done(tmp_path / "missing") is None


def test_a_truncated_or_corrupt_file_is_caught_before_it_is_used(result, tmp_path):
    folder = write_result(result, tmp_path / "run", report=False)
    summary = folder / "summary.csv"
    text = summary.read_text()
    summary.write_text(text[: len(text) // 2])  # still parses as CSV: only the manifest knows
    with pytest.raises(SeiError, match="summary.csv: truncated or changed since it was written"):
        read_result(folder)
    summary.write_text(text)
    read_result(folder)  # restored
    (folder / "frames.parquet").write_bytes(b"PAR1 garbage")
    with pytest.raises(SeiError, match="frames.parquet: truncated or changed"):
        read_result(folder)


def test_an_unwritable_folder_is_refused_before_any_work(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    for folder in (blocker / "results", Path("/proc/sei-results")):
        with pytest.raises(
            SeiError, match="cannot write results there .*; choose another folder with -o"
        ):
            prepare_folder(folder)
