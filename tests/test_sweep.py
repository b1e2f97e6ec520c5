"""Sweeps: grids validated like scenarios, resumable after Ctrl-C or kill, local = Dask."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from splitetimpera.cli import app
from splitetimpera.errors import ScenarioError, SeiError
from splitetimpera.scenario import check_key
from splitetimpera.sweep import build_points, parse_grid, run_sweep

from .browser import console_errors, render
from .conftest import REPO

runner = CliRunner()

GRID = ["network.bandwidth=2 Mbit/s,20 Mbit/s", "network.loss=0%,2%"]


def test_grid_keys_and_values_are_validated(write_scenario):
    path = write_scenario()
    axes = parse_grid(GRID, path)
    assert [a.key for a in axes] == ["network.bandwidth", "network.loss"]
    assert axes[0].values == ("2 Mbit/s", "20 Mbit/s")
    assert parse_grid(["device.count=1,4"], path)[0].values == (1, 4)
    with pytest.raises(
        ScenarioError, match=r"network.bandwdith: unknown key; did you mean 'network.bandwidth'"
    ):
        parse_grid(["network.bandwdith=1 Mbit/s"], path)
    with pytest.raises(
        ScenarioError, match=r"^--grid network.loss=150%: network.loss: 150% is out of range"
    ):
        build_points(path, parse_grid(["network.loss=0%,150%"], path), None)
    with pytest.raises(SeiError, match="key=value1,value2"):
        parse_grid(["network.loss"], path)
    with pytest.raises(SeiError, match="repeated"):
        parse_grid(["network.loss=1%,1%"], path)
    with pytest.raises(ScenarioError, match="is a value, not a section"):
        check_key("seed.value")


def test_cli_unknown_grid_key_exits_2(write_scenario):
    result = runner.invoke(
        app, ["sweep", str(write_scenario()), "--grid", "network.latency=5 ms,10 ms"]
    )
    assert result.exit_code == 2
    assert "network.latency: unknown key" in result.stderr and "Traceback" not in result.output


def test_sweep_writes_every_point_once_and_reuses_them(write_scenario, tmp_path):
    path = write_scenario()
    axes = parse_grid(GRID, path)
    out = tmp_path / "sweep"
    first = run_sweep(path, axes, frames=10, output=out)
    assert first.counts == {
        "points": 4,
        "reused": 0,
        "computed": 4,
        "failed": 0,
        "damaged": 0,
        "interrupted": False,
    }
    points = pd.read_csv(out / "points.csv")
    assert len(points) == 4 and set(points["status"]) == {"ok"}
    assert len(list((out / "points").iterdir())) == 4
    rows = pd.read_csv(out / "sweep.csv")
    assert len(rows) == 4 * 6 and {"network.bandwidth", "network.loss", "config", "chosen"} <= set(
        rows.columns
    )
    # at 2 Mbit/s the 131 kB split cannot keep up; at 20 Mbit/s more configurations are feasible
    slow = rows[(rows["network.bandwidth"] == "2 Mbit/s") & (rows["network.loss"] == "0%")]
    fast = rows[(rows["network.bandwidth"] == "20 Mbit/s") & (rows["network.loss"] == "0%")]
    assert fast["feasible"].sum() > slow["feasible"].sum()
    # a re-run reuses everything; a point whose mark is gone is recomputed alone
    marker = next((out / "points").iterdir()) / "point.json"
    marker.unlink()
    second = run_sweep(path, axes, frames=10, output=out)
    assert second.counts["reused"] == 3 and second.counts["computed"] == 1
    pd.testing.assert_frame_equal(pd.read_csv(out / "sweep.csv"), rows)


def test_a_failing_point_is_recorded_and_the_sweep_goes_on(write_scenario, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("time\n0\n0.1\n")
    empty = tmp_path / "empty.csv"
    empty.write_text("time\n")
    path = write_scenario(
        "name: traces\nmodel: {name: digits_vgg}\nsplits: {method: [features.7]}\n"
        "device: {profile: testhw}\nserver: {profile: testhw}\n"
        'network: {protocol: udp, bandwidth: "10 Mbit/s", delay: "5 ms"}\n'
        f"workload: {{arrival: trace, trace: {good}}}\n"
    )
    result = run_sweep(
        path, parse_grid([f"workload.trace={good},{empty}"], path), output=tmp_path / "s"
    )
    table = result.points.set_index("workload.trace")
    assert table.loc[str(good), "status"] == "ok"
    assert table.loc[str(empty), "status"] == "failed"
    assert "holds no timestamps" in table.loc[str(empty), "error"]
    assert result.counts["failed"] == 1


def _sweep_cmd(path: Path, out: Path) -> list[str]:
    grid = "network.bandwidth=" + ",".join(f"{b} Mbit/s" for b in (2, 3, 4, 6, 8, 12))
    return [
        sys.executable,
        "-m",
        "splitetimpera.cli",
        "sweep",
        str(path),
        "--grid",
        grid,
        "--frames",
        "150",
        "--output",
        str(out),
    ]


def _finished(out: Path) -> int:
    store = out / "points"
    return sum(1 for p in store.glob("*/point.json")) if store.is_dir() else 0


@pytest.mark.slow
@pytest.mark.parametrize(
    ("how", "workers"),
    [(signal.SIGKILL, 1), (signal.SIGINT, 1), (signal.SIGINT, 2)],
    ids=["kill", "ctrl-c", "ctrl-c-workers"],
)
def test_an_interrupted_sweep_loses_no_finished_point(
    write_scenario, tmp_path, profiles, how, workers
):
    path = write_scenario(
        "name: long\nmodel: {name: digits_vgg}\nsplits: {method: all, compression: [none, int8]}\n"
        "device: {profile: noisyhw}\nserver: {profile: noisyhw}\n"
        'network: {protocol: tcp, bandwidth: "10 Mbit/s", delay: "5 ms", loss: "1%"}\n'
        'workload: {rate: "10 fps", frames: 150}\n'
    )
    out = tmp_path / "sweep"
    env = {**os.environ, "SEI_PROFILES": str(profiles)}
    proc = subprocess.Popen(
        [*_sweep_cmd(path, out), "--workers", str(workers)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # its own process group, as a shell's foreground job
    )  # fmt: skip
    deadline = time.time() + 120
    while _finished(out) < 2 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    # Ctrl-C in a terminal reaches every process of the group, workers included
    os.killpg(proc.pid, how)
    _, stderr = proc.communicate(timeout=60)
    before = _finished(out)
    assert 2 <= before < 6, "interrupt the sweep midway"
    if how == signal.SIGINT:
        assert proc.returncode == 130, stderr
        assert f"interrupted: {before} of 6 points are done and kept" in stderr
        assert len(stderr.strip().splitlines()) == 1
    again = subprocess.run(
        [*_sweep_cmd(path, out), "--json"], env=env, capture_output=True, text=True, timeout=300
    )
    assert again.returncode == 0, again.stderr
    data = json.loads(again.stdout)
    assert data["counts"]["reused"] == before and data["counts"]["computed"] == 6 - before
    points = pd.read_csv(out / "points.csv")
    assert len(points) == 6 and (points["status"] == "ok").all()
    assert points["key"].is_unique and len(list((out / "points").iterdir())) == 6


@pytest.mark.slow
def test_local_and_dask_executors_give_identical_tables(write_scenario, tmp_path):
    path = write_scenario()
    axes = parse_grid(GRID, path)
    run_sweep(path, axes, frames=10, output=tmp_path / "local", executor="local", workers=2)
    dask = run_sweep(path, axes, frames=10, output=tmp_path / "dask", executor="dask", workers=2)
    assert dask.counts["computed"] == 4
    for name in ("points.csv", "sweep.csv"):
        assert (tmp_path / "local" / name).read_bytes() == (tmp_path / "dask" / name).read_bytes()
    run_sweep(path, axes, frames=10, output=tmp_path / "serial")
    assert (tmp_path / "serial" / "sweep.csv").read_bytes() == (
        tmp_path / "local" / "sweep.csv"
    ).read_bytes()


def test_scheduler_needs_dask(write_scenario):
    result = runner.invoke(
        app, ["sweep", str(write_scenario()), "--grid", GRID[1], "--scheduler", "tcp://127.0.0.1:1"]
    )
    assert result.exit_code == 2 and "--scheduler needs --executor dask" in result.stderr


@pytest.mark.slow
def test_wifi_sweep_report_renders_in_a_browser(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    monkeypatch.delenv("SEI_PROFILES", raising=False)
    out = tmp_path / "wifi-sweep"
    result = runner.invoke(
        app,
        ["sweep", "scenarios/wifi.yaml", "--grid", "network.bandwidth=5 Mbit/s,40 Mbit/s,200 Mbit/s",
         "--grid", "network.loss=0%,2%", "--frames", "20", "--output", str(out), "--workers", "2"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    dom, console = render(out / "report.html")
    assert not console_errors(console), console
    assert dom.count('class="main-svg"') >= 3  # plotly drew the heatmaps and lines
    assert "Chosen configuration over network.bandwidth and network.loss" in dom
    sim = runner.invoke(
        app,
        ["simulate", "scenarios/wifi.yaml", "--frames", "20", "--output", str(tmp_path / "sim")],
    )
    assert sim.exit_code == 0, sim.output
    dom, console = render(tmp_path / "sim" / "report.html")
    assert not console_errors(console), console
    assert "Latency breakdown" in dom and dom.count('class="main-svg"') >= 3


def test_report_rewrites_sweep_and_exploration_reports(write_scenario, tmp_path):
    path = write_scenario()
    run_sweep(path, parse_grid([GRID[1]], path), frames=5, output=tmp_path / "s")
    (tmp_path / "s" / "report.html").unlink()
    result = runner.invoke(app, ["report", str(tmp_path / "s"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["report"] == str(tmp_path / "s" / "report.html")
    assert "Chosen configuration" in (tmp_path / "s" / "report.html").read_text()
    spec = tmp_path / "space.yaml"
    spec.write_text(f"name: x\nbase: {path}\nframes: 5\ndimensions:\n  device.slowdown: [1, 2]\n")
    assert (
        runner.invoke(app, ["explore", str(spec), "--output", str(tmp_path / "e")]).exit_code == 0
    )
    (tmp_path / "e" / "report.html").unlink()
    assert runner.invoke(app, ["report", str(tmp_path / "e")]).exit_code == 0
    assert "Pareto-optimal designs" in (tmp_path / "e" / "report.html").read_text()
