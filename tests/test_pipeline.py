"""The pipeline's ``simulate``: exact latencies, invariants, determinism, fidelity levels."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from splitetimpera.pipeline import SUMMARY_COLUMNS, simulate
from splitetimpera.results import write_result
from splitetimpera.sim.frames import FRAME_COLUMNS, STATUSES

from .conftest import REPO, make_scenario

R = 10e6 / 8  # 10 Mbit/s in bytes per second
D = 0.005


def _udp_wire(payload: int, mtu: int = 1500) -> int:
    per = mtu - 28
    n = math.ceil(payload / per)
    return payload + n * (28 + 38)


def _scenario(profiles, **changes):
    return make_scenario(profiles, **changes)


def test_loss_free_udp_deterministic_compute_gives_exact_latency(profiles):
    s = _scenario(profiles, **{"splits.method": ["features.7"], "modes": ["LC", "RC", "SC"]})
    result = simulate(s)
    frames = result.frames
    expected = {
        # LC: the whole model on the device (5 steps of 2 ms)
        "LC": 5 * 0.002,
        # RC: send the 3x32x32 input, whole model on the server, result back
        "RC": _udp_wire(12288) / R + D + 5 * 0.002 + _udp_wire(64) / R + D,
        # SC at depth 3: head 6 ms, 128x8x8 fp32 up, tail 4 ms, result back
        "SC@features.7": 3 * 0.002 + _udp_wire(32768) / R + D + 2 * 0.002 + _udp_wire(64) / R + D,
    }
    for config, latency in expected.items():
        got = frames.loc[frames["config"] == config, "latency"].to_numpy()
        assert len(got) == 20
        assert np.all(np.abs(got - latency) < 1e-12), (config, got[:3], latency)
    assert (frames["status"] == "delivered").all()


def test_same_scenario_and_seed_give_byte_identical_summary(profiles, tmp_path):
    s = _scenario(
        profiles,
        **{
            "network.protocol": "tcp",
            "network.loss": "2%",
            "device.profile": "noisyhw",
            "device.count": 2,
            "workload.arrival": "poisson",
        },
    )
    a = write_result(simulate(s), tmp_path / "a", report=False)
    b = write_result(simulate(s), tmp_path / "b", report=False)
    assert (a / "summary.csv").read_bytes() == (b / "summary.csv").read_bytes()
    pd.testing.assert_frame_equal(
        pd.read_parquet(a / "frames.parquet"), pd.read_parquet(b / "frames.parquet")
    )
    other = simulate(
        _scenario(
            profiles,
            **{
                "seed": 8,
                "network.protocol": "tcp",
                "network.loss": "2%",
                "device.profile": "noisyhw",
                "device.count": 2,
                "workload.arrival": "poisson",
            },
        )
    )
    assert not other.summary["latency_mean"].equals(simulate(s).summary["latency_mean"])


def test_outputs_have_the_documented_columns(profiles, tmp_path):
    result = simulate(_scenario(profiles))
    folder = write_result(result, tmp_path / "out")
    frames = pd.read_parquet(folder / "frames.parquet")
    assert list(frames.columns) == list(FRAME_COLUMNS)
    summary = pd.read_csv(folder / "summary.csv")
    assert list(summary.columns[: len(SUMMARY_COLUMNS)]) == list(SUMMARY_COLUMNS)
    for extra in ("feasible", "violations", "pareto", "chosen"):
        assert extra in summary.columns
    import json

    run = json.loads((folder / "run.json").read_text())
    assert run["seed"] == 7 and run["scenario"]["name"] == "test"
    assert run["wall_time_s"] > 0 and "sei_version" in run
    assert set(run["columns"]["frames.parquet"]) == set(FRAME_COLUMNS)
    html = (folder / "report.html").read_text()
    assert "plotly" in html and "Latency breakdown" in html


settings.register_profile(
    "sim",
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@settings(settings.get_profile("sim"))
@given(
    protocol=st.sampled_from(["tcp", "udp"]),
    mbit=st.floats(min_value=0.5, max_value=100),
    delay_ms=st.floats(min_value=0, max_value=40),
    loss=st.sampled_from(["0%", "1%", "5%"]),
    devices=st.integers(min_value=1, max_value=3),
    fps=st.floats(min_value=2, max_value=60),
    connection=st.sampled_from(["persistent", "per-frame"]),
    compression=st.sampled_from(["none", "int8"]),
    fidelity=st.sampled_from(["packet", "fast"]),
)
def test_invariants(
    profiles, protocol, mbit, delay_ms, loss, devices, fps, connection, compression, fidelity
):
    s = _scenario(
        profiles,
        **{
            "network.protocol": protocol,
            "network.bandwidth": f"{mbit} Mbit/s",
            "network.delay": f"{delay_ms} ms",
            "network.loss": loss,
            "network.connection": connection,
            "network.fidelity": fidelity,
            "device.count": devices,
            "device.profile": "noisyhw",
            "server.profile": "noisyhw",
            "workload.rate": f"{fps} fps",
            "workload.frames": 8,
            "splits.compression": [compression],
            "splits.method": ["features.7", "classifier.0"],
        },
    )
    result = simulate(s)
    frames = result.frames
    assert set(frames["status"]) <= set(STATUSES)
    # every frame ends exactly once
    assert not frames.duplicated(["config", "device", "frame"]).any()
    assert len(frames) == len(result.summary) * devices * 8
    order = [
        "t_gen",
        "t_head_start",
        "t_head_end",
        "t_up_end",
        "t_tail_start",
        "t_tail_end",
        "t_done",
    ]
    for _, f in frames.iterrows():
        times = [f[c] for c in order if not math.isnan(f[c])]
        assert times == sorted(times), "no stage ends before it starts"
        if f["status"] == "lost":
            assert math.isnan(f["latency"]) and f["reason"]
            continue
        assert f["latency"] == pytest.approx(f["t_done"] - f["t_gen"])
        deadline_ok = f["t_done"] <= f["deadline"] + 1e-12
        assert (f["status"] == "delivered") == deadline_ok
        # physical lower bound: fastest compute, bytes at the link rate, two propagation delays
        row = result.summary.set_index("config").loc[f["config"]]
        depth = {"LC": 5, "RC": 0, "SC@features.7": 3, "SC@classifier.0": 4}[
            f["config"].split("+")[0]
        ]
        head = 0.9 * depth * 0.002
        bound = head
        if f["mode"] != "LC":
            rate = mbit * 1e6 / 8
            payload = int(row["payload_bytes"])
            bound += (
                _udp_wire(payload) / rate
                + 2 * delay_ms / 1e3
                + 0.9 * (5 - depth) * 0.002
                + _udp_wire(64) / rate
            )
        assert f["latency"] >= bound * (1 - 1e-9)


def test_several_devices_share_the_link_and_queue(profiles):
    one = simulate(
        _scenario(
            profiles,
            **{
                "splits.method": ["features.3"],
                "modes": ["SC"],
                "network.bandwidth": "20 Mbit/s",
                "workload.rate": "20 fps",
            },
        )
    )
    four = simulate(
        _scenario(
            profiles,
            **{
                "splits.method": ["features.3"],
                "modes": ["SC"],
                "network.bandwidth": "20 Mbit/s",
                "workload.rate": "20 fps",
                "device.count": 4,
            },
        )
    )
    # 64x16x16 fp32 = 64 kB per frame: one device uses 52% of 20 Mbit/s, four overload it
    assert four.summary["latency_p95"].iloc[0] > 3 * one.summary["latency_p95"].iloc[0]
    assert four.summary["frames"].iloc[0] == 80


def test_server_queue_md1_through_the_engine(profiles, tmp_path):
    """Poisson frames, negligible network, a deterministic 2 ms tail: an M/D/1 server."""
    from .conftest import write_test_profile

    write_test_profile(profiles, hardware="md1", head_s=0.0, tail_s=0.002)
    s = _scenario(
        profiles,
        **{
            "splits.method": ["features.7"], "modes": ["SC"], "device.profile": "md1", "server.profile": "md1",
            "network.bandwidth": "100 Gbit/s", "network.delay": "0 ms", "workload.arrival": "poisson",
            "workload.rate": "150 fps", "workload.frames": 60000, "device.count": 1,
        },
    )  # fmt: skip
    frames = simulate(s).frames
    waits = (frames["t_tail_start"] - frames["t_up_end"]).to_numpy()[6000:]
    mu, lam = 1 / 0.004, 150.0  # tail at depth 3 of 5: 2 x 2 ms
    rho = lam / mu
    assert waits.mean() == pytest.approx(rho / (2 * mu * (1 - rho)), rel=0.05)


def test_fast_fidelity_is_exact_where_transfers_are_deterministic(profiles):
    packet = simulate(_scenario(profiles))
    fast = simulate(_scenario(profiles, **{"network.fidelity": "fast"}))
    pd.testing.assert_series_equal(packet.frames["latency"], fast.frames["latency"], rtol=1e-9)


def test_fast_fidelity_agrees_with_packet_level_under_loss(profiles):
    # 262 kB frames take 0.2 s on average over this lossy link (CUBIC as Linux: HyStart,
    # PRR), so 3 fps keeps the connection below saturation, where a queue's growth is
    # no question of fidelity
    changes = {
        "network.protocol": "tcp", "network.loss": "1%", "network.bandwidth": "50 Mbit/s",
        "splits.method": ["features.0"], "modes": ["SC"], "workload.frames": 400, "workload.rate": "3 fps",
    }  # fmt: skip
    packet = simulate(_scenario(profiles, **changes)).summary.iloc[0]
    fast = simulate(_scenario(profiles, **{**changes, "network.fidelity": "fast"})).summary.iloc[0]
    assert fast["latency_p50"] == pytest.approx(packet["latency_p50"], rel=0.15)
    assert fast["latency_mean"] == pytest.approx(packet["latency_mean"], rel=0.15)


def test_early_exit_mode(profiles):
    s = _scenario(
        profiles,
        **{
            "modes": ["EE", "LC"],
            "early_exit": {
                "split": "features.3",
                "exit_rate": "60%",
                "accuracy": "90%",
                "branch_latency": "1 ms",
            },
            "workload.frames": 200,
        },
    )
    result = simulate(s)
    ee = result.frames[result.frames["mode"] == "EE"]
    share = ee["exited"].mean()
    assert 0.5 < share < 0.7
    exited = ee[ee["exited"]]
    assert np.allclose(exited["latency"], 2 * 0.002 + 0.001)
    assert exited["payload_bytes"].eq(0).all()


def test_trace_arrivals(profiles, tmp_path):
    trace = tmp_path / "trace.csv"
    trace.write_text("time\n1.0\n1.25\n3.0\n")
    s = _scenario(
        profiles, **{"workload.arrival": "trace", "workload.trace": str(trace), "modes": ["LC"]}
    )
    frames = simulate(s).frames
    assert frames["t_gen"].tolist() == [0.0, 0.25, 2.0]


def test_simulating_a_shipped_isplit_scenario_does_not_import_torch(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    code = (
        "import sys; from splitetimpera import load_scenario, simulate; "
        "s = load_scenario('scenarios/wifi.yaml'); r = simulate(s, frames=3); "
        "assert len(r.summary) > 3; assert 'torch' not in sys.modules, 'torch was imported'"
    )
    env = {k: v for k, v in os.environ.items() if k != "SEI_PROFILES"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_simulator_does_not_import_torch(profiles):
    code = (
        "import sys; import splitetimpera; from splitetimpera import load_scenario, simulate; "
        "import splitetimpera.pipeline, splitetimpera.results, splitetimpera.sim.run, "
        "splitetimpera.scenario, splitetimpera.qos, splitetimpera.report, splitetimpera.study, "
        "splitetimpera.sweep, splitetimpera.explore, splitetimpera.render; "
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_transport_registered_by_name_can_be_named_in_a_scenario(profiles):
    from splitetimpera.errors import ScenarioError
    from splitetimpera.sim.transport import TRANSPORTS
    from splitetimpera.sim.udp import UdpTransport

    @TRANSPORTS.register
    class Teleport(UdpTransport):
        """A protocol whose messages arrive at once (for the test)."""

        name = "teleport"

        def send(self, direction, nbytes, record):
            return self.env.timeout(0, True)

    try:
        result = simulate(_scenario(profiles, **{"network.protocol": "teleport", "modes": ["RC"]}))
        assert np.allclose(result.frames["latency"], 5 * 0.002)  # the whole model on the server
    finally:
        TRANSPORTS.unregister("teleport")
    with pytest.raises(
        ScenarioError, match=r"network.protocol: unknown protocol 'teleport'.*Known: tcp, udp"
    ):
        _scenario(profiles, **{"network.protocol": "teleport"})
