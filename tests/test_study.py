"""Studies: points keyed by what they simulate, resumable, failures kept as text."""

from __future__ import annotations

import pytest

from splitetimpera.errors import SeiError, UnknownNameError
from splitetimpera.pipeline import load_scenario
from splitetimpera.results import point_done, point_info
from splitetimpera.study import EXECUTORS, Point, evaluate_point, make_executor, run_points

TRACE_SCENARIO = """\
name: traced
model: {name: digits_vgg}
splits: {method: all}
modes: [LC]
device: {profile: testhw}
server: {profile: testhw}
network: {protocol: udp, bandwidth: "10 Mbit/s", delay: "5 ms"}
workload: {arrival: trace, trace: TRACE, frames: 3}
"""


def test_a_point_key_follows_its_scenario_and_frames(write_scenario):
    s = load_scenario(write_scenario())
    other = load_scenario(write_scenario(), {"seed": 8})
    assert Point({}, s).key == Point({"x": 1}, s).key  # the label is not what is simulated
    assert Point({}, s).key != Point({}, other).key
    assert Point({}, s).key != Point({}, s, frames=5).key
    assert len(Point({}, s).key) == 16


def test_a_failing_point_comes_back_as_text(write_scenario, tmp_path):
    trace = tmp_path / "times.csv"
    trace.write_text("0\n0.1\n")
    s = load_scenario(write_scenario(TRACE_SCENARIO.replace("TRACE", str(trace))))
    trace.write_text("time\nsoon\n")  # broken after the scenario was checked
    outcome = evaluate_point(s, None, "k")
    assert not outcome.ok and outcome.result is None
    assert "is not a time in seconds" in outcome.error and outcome.seconds >= 0


def test_points_resume_and_failures_are_retried(write_scenario, tmp_path):
    trace = tmp_path / "times.csv"
    trace.write_text("0\n0.1\n0.2\n")
    good = load_scenario(write_scenario(TRACE_SCENARIO.replace("TRACE", str(trace))))
    fine = Point({"seed": 0}, good)
    bad_trace = tmp_path / "bad.csv"
    bad_trace.write_text("0\n")
    bad = load_scenario(write_scenario(TRACE_SCENARIO.replace("TRACE", str(bad_trace)), "b.yaml"))
    broken = Point({"seed": 1}, bad.model_copy(update={"seed": 1}))
    bad_trace.write_text("x\n")
    folder = tmp_path / "study"
    table, rows, counts = run_points([fine, broken], folder)
    assert counts == {
        "points": 2, "reused": 0, "computed": 2, "failed": 1, "damaged": 0, "interrupted": False,
    }  # fmt: skip
    assert list(table["status"]) == ["ok", "failed"]
    assert table.loc[0, "chosen"] == "LC" and set(rows["point"]) == {0}
    assert point_done(folder / "points" / fine.key) is not None
    assert "not a time" in point_info(folder / "points" / broken.key)["error"]
    bad_trace.write_text("0\n0.5\n")  # mended: the re-run retries the failed point only
    table, _, counts = run_points([fine, broken], folder)
    assert counts["reused"] == 1 and counts["computed"] == 1 and counts["failed"] == 0
    assert list(table["status"]) == ["ok", "ok"]


def test_duplicate_points_and_unknown_executors_are_refused(write_scenario, tmp_path):
    s = load_scenario(write_scenario())
    with pytest.raises(SeiError, match="resolve to the same scenario"):
        run_points([Point({"a": 1}, s), Point({"a": 2}, s)], tmp_path)
    with pytest.raises(UnknownNameError, match="unknown executor 'daks'; did you mean 'dask'"):
        make_executor("daks")
    with pytest.raises(SeiError, match="--scheduler needs --executor dask"):
        make_executor("local", scheduler="tcp://x:1")
    assert EXECUTORS.names() == ["local", "dask"]


def test_a_damaged_point_is_recomputed_with_a_message(write_scenario, tmp_path, caplog):
    trace = tmp_path / "times.csv"
    trace.write_text("0\n0.1\n0.2\n")
    point = Point(
        {"seed": 0}, load_scenario(write_scenario(TRACE_SCENARIO.replace("TRACE", str(trace))))
    )
    folder = tmp_path / "study"
    run_points([point], folder)
    frames = folder / "points" / point.key / "frames.parquet"
    frames.write_bytes(frames.read_bytes()[:100])  # truncated after it finished
    with caplog.at_level("WARNING"):
        table, _, counts = run_points([point], folder)
    assert counts["damaged"] == 1 and counts["computed"] == 1 and counts["reused"] == 0
    assert "damaged since it finished; recomputing" in caplog.text
    assert table.loc[0, "status"] == "ok" and point_done(folder / "points" / point.key)
