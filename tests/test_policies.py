"""Run-time policies: adaptive's estimates by hand, its choices, probes and hysteresis, the
oracle on a known outage, and policy rows through the pipeline, the matcher and the CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from splitetimpera.cli import app
from splitetimpera.policies import POLICIES, Adaptive, Alternative, PolicyContext
from splitetimpera.sim.frames import FrameRecord

from .conftest import BASE_SCENARIO, make_scenario

runner = CliRunner()

LC = Alternative("LC", "LC", 0.0, head_s=0.30, tail_s=0.0)
RC = Alternative("RC", "RC", 10_000.0, head_s=0.0, tail_s=0.01)


def _context(**changes) -> PolicyContext:
    base = dict(
        alternatives=(LC, RC),
        devices=1,
        delay=0.02,
        uplink_rate=1e6,
        downlink_rate=1e6,
        result_bytes=64,
        wire=lambda n: n,  # no headers: the arithmetic stays readable
        alpha=0.5,
        hysteresis=0.1,
        probe=1.0,
    )
    base.update(changes)
    return PolicyContext(**base)


def _frame(n: int, choice: int = 1) -> FrameRecord:
    record = FrameRecord(device=0, frame=n, t_gen=0.0)
    record.choice = choice
    return record


def test_adaptive_estimates_by_hand():
    policy = Adaptive(_context())
    # nominal: 1 MB/s up; the result's way back: 64 B / 1 MB/s + 20 ms
    assert policy.estimates(0, 0.0) == pytest.approx((1e6, 0.020064))
    # RC predicted: 10 kB / 1 MB/s + 20 ms + 10 ms tail + 20.064 ms = 60.064 ms; LC 300 ms
    assert policy.predict(RC, 1e6, 0.020064) == pytest.approx(0.060064)
    choice, estimate = policy.choose(_frame(0), 0.0)
    assert (choice, estimate) == (1, 8e6)
    # a 10 kB upload that took 120 ms: goodput 10 kB / (120 - 20) ms = 100 kB/s;
    # EWMA with alpha 0.5: (1e6 + 1e5) / 2
    policy.sent(_frame(0), "up", 10_000, 0.0)
    policy.observe(_frame(0), "up", 10_000, 0.12, 0.12)
    assert policy.uplink[0] == pytest.approx(5.5e5)
    # the result came back 200 ms after the upload: 200 ms - 10 ms tail = 190 ms
    policy.sent(_frame(0), "down", 64, 0.12)
    policy.observe(_frame(0), "down", 64, 0.2, 0.32)
    assert policy.response[0] == pytest.approx((0.020064 + 0.19) / 2)
    # an upload still under way after 1.02 s caps the goodput at 10 kB / 1 s
    policy.sent(_frame(1), "up", 10_000, 1.0)
    assert policy.estimates(0, 2.02)[0] == pytest.approx(1e4)
    # a lost upload is a sample of 0
    policy.observe(_frame(1), "up", 0, 3.0, 4.0)
    assert policy.uplink[0] == pytest.approx(5.5e5 / 2)


def test_adaptive_falls_back_to_local_in_an_outage_and_probes():
    policy = Adaptive(_context())
    assert policy.choose(_frame(0), 0.0)[0] == 1
    policy.sent(_frame(0), "up", 10_000, 0.0)
    # 0.5 s later the upload is still under way: 10 kB in 480 ms caps the goodput at
    # 20.8 kB/s, RC is predicted at 0.53 s > LC's 0.30 s
    assert policy.choose(_frame(1, 0), 0.5)[0] == 0
    # no probe while a transfer is under way
    assert policy.choose(_frame(2, 0), 1.6)[0] == 0
    policy.observe(_frame(0), "up", 10_000, 1.7, 1.7)  # the outage ends
    policy.sent(_frame(0), "down", 64, 1.7)
    policy.observe(_frame(0), "down", 64, 0.04, 1.74)
    # goodput (1e6 + 10 kB / 1.68 s) / 2 = 503 kB/s: RC predicted 0.08 s, 3.7x faster
    assert policy.choose(_frame(3), 2.0)[0] == 1


def test_adaptive_probes_after_a_quiet_second_and_keeps_its_choice_within_hysteresis():
    slow = Alternative("LC", "LC", 0.0, head_s=0.05, tail_s=0.0)
    policy = Adaptive(_context(alternatives=(slow, RC)))
    assert policy.choose(_frame(0, 0), 0.0)[0] == 0  # LC 50 ms against RC's 60 ms
    assert policy.choose(_frame(1, 0), 0.5)[0] == 0
    assert policy.choose(_frame(2, 0), 1.2)[0] == 1  # quiet for > 1 s: one frame probes
    assert policy.choose(_frame(3, 0), 1.3)[0] == 0  # one probe per interval
    # hysteresis: RC must be predicted 10 % faster than the current choice to take over
    policy.uplink[0] = 1.7e6  # RC: 10 kB / 1.7 MB/s + 50.064 ms = 55.95 ms, 12 % slower
    assert policy.choose(_frame(4, 0), 1.4)[0] == 0
    policy.uplink[0] = 1e8  # RC 50.164 ms: not 10 % faster than LC's 50 ms either
    assert policy.choose(_frame(5, 0), 1.5)[0] == 0


def test_policies_are_found_by_name():
    assert set(POLICIES.names()) >= {"static", "adaptive", "oracle"}
    assert POLICIES.get("oracle").bound and not POLICIES.get("adaptive").bound
    assert not POLICIES.get("static").per_frame


def _outage_trace(tmp_path) -> str:
    """Good (12 Mbit/s) for 4 s, nothing for 4 s, good for 4 s."""
    ms = [t for t in range(1, 12001) if not 4000 < t <= 8000]
    path = tmp_path / "outage.up"
    path.write_text("\n".join(str(t) for t in ms) + "\n")
    return str(path)


def _policy_scenario(profiles, tmp_path, **changes):
    keys = {
        "network.bandwidth": {"trace": _outage_trace(tmp_path)},
        "network.downlink": "100 Mbit/s",
        "network.protocol": "tcp",
        "workload.rate": "5 fps",
        "workload.frames": 60,
        "workload.deadline": "200 ms",
        "device.slowdown": 10,
        "splits.method": ["features.7"],
        "qos.max_latency": "200 ms",
        "policy.name": ["adaptive", "oracle"],
    }
    keys.update(changes)
    return make_scenario(profiles, **keys)


def test_policies_choose_per_frame_on_a_trace_and_the_oracle_is_never_chosen(profiles, tmp_path):
    from splitetimpera.pipeline import simulate

    result = simulate(_policy_scenario(profiles, tmp_path))
    summary = result.summary.set_index("config")
    assert list(summary.index[-2:]) == ["adaptive", "oracle"]
    assert (summary.loc[["adaptive", "oracle"], "mode"] == "policy").all()
    frames = result.frames
    statics = set(summary.index[summary["mode"] != "policy"])
    oracle = frames[frames["config"] == "oracle"]
    assert set(oracle["used_config"]) <= statics
    # LC (100 ms on the slowed device) against RC (12 kB at 12 Mbit/s, 10 ms of delay and
    # a 10 ms tail: about 30 ms): remote while the link is up, local in the outage
    inside = oracle[(oracle["t_gen"] > 4.0) & (oracle["t_gen"] < 7.8)]
    assert (inside["used_config"] == "LC").all()
    up = oracle[(oracle["t_gen"] < 3.8) | (oracle["t_gen"] > 8.0)]
    assert (up["used_config"] != "LC").all()
    assert oracle["estimate_bps"].notna().any()
    adaptive = frames[frames["config"] == "adaptive"]
    assert adaptive["estimate_bps"].notna().all()
    assert (frames.loc[frames["config"].isin(statics), "estimate_bps"].isna()).all()
    # the oracle is a bound: never the choice, never on the Pareto front
    assert not summary.loc["oracle", "chosen"] and not summary.loc["oracle", "pareto"]
    assert result.qos.chosen != "oracle"
    # deterministic: the same scenario and seed give the same frames
    again = simulate(_policy_scenario(profiles, tmp_path))
    assert again.frames.equals(frames)


def test_a_policy_chooses_only_among_accurate_configurations(profiles, tmp_path):
    from splitetimpera.pipeline import simulate

    result = simulate(
        _policy_scenario(
            profiles, tmp_path, **{"qos.min_accuracy": "50%", "policy.name": "adaptive"}
        )
    )
    summary = result.summary.set_index("config")
    accurate = set(summary.index[(summary["accuracy"] >= 0.5) & (summary["mode"] != "policy")])
    used = set(result.frames.loc[result.frames["config"] == "adaptive", "used_config"])
    assert used <= accurate
    assert not math.isnan(summary.loc["adaptive", "accuracy"])


def test_policy_rows_through_the_cli_and_back(write_scenario, tmp_path):
    trace = _outage_trace(tmp_path)
    text = BASE_SCENARIO.replace('bandwidth: "10 Mbit/s"', f"bandwidth: {{trace: {trace}}}")
    path = write_scenario(text + "policy: {name: [static, adaptive]}\n")
    result = runner.invoke(app, ["simulate", str(path), "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["config"]: r for r in json.loads(result.stdout)["summary"]}
    assert rows["adaptive"]["mode"] == "policy" and "oracle" not in rows
    folder = tmp_path / "results" / "test"
    again = runner.invoke(app, ["report", str(folder)])
    assert again.exit_code == 0, again.output
    html = (folder / "report.html").read_text()
    assert "<h2>Policies</h2>" in html and "<h2>Timeline</h2>" in html
    import pandas as pd

    frames = pd.read_parquet(folder / "frames.parquet")
    assert {"used_config", "estimate_bps"} <= set(frames.columns)
    bad = write_scenario(text + "policy: {name: adaptve}\n", "bad.yaml")
    refused = runner.invoke(app, ["simulate", str(bad)])
    assert refused.exit_code == 2
    assert "policy.name[0]" in refused.stderr and "did you mean 'adaptive'" in refused.stderr


def test_oracle_foresees_the_link_it_is_bound_to():
    """finish_time on a traced link: behind its queue, on its capacity."""
    import simpy

    from splitetimpera.sim.channel import Link, LinkParams
    from splitetimpera.sim.trace import TraceParams

    env = simpy.Environment()
    trace = TraceParams("rates", np.array([0.0, 1.0]), 2.0, rates=np.array([1e6, 0.0]))
    link = Link(
        env, LinkParams(rate=5e5, delay=0.0, overhead=0, trace=trace), np.random.default_rng(0)
    )
    assert link.finish_time(0.5, 250_000) == pytest.approx(0.75)
    assert link.finish_time(0.5, 750_000) == pytest.approx(2.25)  # over the outage
    link.send(1000 - 0, None, lambda _p: None)  # 1 kB queued at 0: frees at 1 ms
    assert link.finish_time(0.0, 1000) == pytest.approx(0.002)


def test_sweeps_take_traces_and_policies_as_dimensions(write_scenario, tmp_path):
    trace = _outage_trace(tmp_path)
    path = write_scenario()
    out = tmp_path / "sweep"
    result = runner.invoke(
        app,
        ["sweep", str(path), "--grid", f"network.bandwidth=trace:{trace},10 Mbit/s",
         "--grid", "policy.name=static,adaptive", "-o", str(out), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    import pandas as pd

    points = pd.read_csv(out / "points.csv")
    assert len(points) == 4
    assert points["network.bandwidth"].str.startswith("trace:").sum() == 2
    rows = pd.read_csv(out / "sweep.csv")  # every configuration of every point
    assert (rows["config"] == "adaptive").sum() == 2
    bad = runner.invoke(
        app, ["sweep", str(path), "--grid", "network.bandwidth=trace:nowhere.up", "-o", str(out)]
    )
    assert bad.exit_code == 2 and "no trace file nowhere.up" in bad.stderr
