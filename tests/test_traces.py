"""Links that follow a trace: parsing (Mahimahi and CSV), bad traces, the capacity model
against hand computations, and simulations on traces against constant links."""

from __future__ import annotations

import numpy as np
import pytest
import simpy
from typer.testing import CliRunner

from splitetimpera.cli import app
from splitetimpera.sim.channel import Link, LinkParams
from splitetimpera.sim.params import JobParams, NetworkParams, RunSpec, WorkloadParams
from splitetimpera.sim.run import run_configuration
from splitetimpera.sim.trace import Capacity, TraceParams
from splitetimpera.traces import TraceError, read_link_trace, shipped_traces_dir

from .conftest import BASE_SCENARIO, make_scenario

runner = CliRunner()


def _file(tmp_path, text: str, name: str = "link.up"):
    path = tmp_path / name
    path.write_text(text)
    return path


# ---------------------------------------------------------------- parsing


def test_mahimahi_and_csv_traces_parse(tmp_path):
    constant = read_link_trace(_file(tmp_path, "1\n"))
    assert constant.kind == "opportunities" and constant.period == 0.001
    assert constant.mean_rate == pytest.approx(1.5e6)  # 1500 B a millisecond: 12 Mbit/s
    bursts = read_link_trace(_file(tmp_path, "2\n2\n2\n5\n\n", "b.up"))
    assert list(bursts.times) == [0.002, 0.002, 0.002, 0.005] and bursts.period == 0.005
    assert bursts.mean_rate == pytest.approx(4 * 1500 / 0.005)
    csv = read_link_trace(
        _file(tmp_path, "time (s),bandwidth (Mbit/s)\n0,8\n1,0\n2,4\n", "step.csv")
    )
    assert csv.kind == "rates" and list(csv.times) == [0.0, 1.0, 2.0] and csv.period == 3.0
    assert list(csv.rates) == [1e6, 0.0, 5e5]
    assert csv.mean_rate == pytest.approx(1.5e6 / 3)
    units = read_link_trace(_file(tmp_path, "bandwidth,time\n8 Mbit/s,500 ms\n", "u.csv"))
    assert list(units.times) == [0.0] and list(units.rates) == [1e6] and units.period == 1.0
    # the shipped traces, with the means their README gives
    att = read_link_trace(shipped_traces_dir() / "ATT-LTE-driving-2016.up")
    assert att.period == pytest.approx(120.002)
    assert att.mean_rate * 8 / 1e6 == pytest.approx(1.91, abs=0.005)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", "is empty"),
        ("\n\n", "is empty"),
        ("1\n2\nfast\n", "line 3: 'fast' is not a whole number of milliseconds"),
        ("1\n5\n3\n", "line 3: 3 ms comes after 5 ms"),
        ("-1\n", "line 1: -1 ms is negative"),
        ("0\n0\n", "every timestamp is 0 ms"),
        ("when,rate\n0 s,1 Mbit/s\n", "line 1: the header has no time and no bandwidth column"),
        ("time,bandwidth\n0,8\n", "line 2: time '0' needs a unit"),
        ("time (s),bandwidth (Mbit/s)\n0,1\n1,x\n", "line 3: bandwidth"),
        ("time (s),bandwidth (Mbit/s)\n0,1\n2,1\n1,1\n", "line 4: time 1 s does not come after"),
        ("time (s),bandwidth (Mbit/s)\n0,0\n1,0\n", "every bandwidth is 0"),
        ("time (s),bandwidth (Mbit/s)\n0,-1\n", "line 2: a bandwidth cannot be negative"),
        ("time (s),bandwidth (Mbit/s)\n", "has a header but no rows"),
        ("time (s),bandwidth (Mbit/s)\n0\n", "line 2: 1 values for the 2 columns"),
    ],
)
def test_bad_traces_are_one_line_naming_the_file_and_line(tmp_path, text, expected):
    path = _file(tmp_path, text, "bad.csv" if "," in text else "bad.up")
    with pytest.raises(TraceError, match=expected) as caught:
        read_link_trace(path)
    message = str(caught.value)
    assert message.startswith(str(path)) and "\n" not in message


def test_scenarios_refuse_bad_traces_in_one_line_with_exit_2(write_scenario, tmp_path):
    _file(tmp_path, "1\n2\nx\n", "broken.up")
    _file(tmp_path, "1\n", "ok.up")
    cases = {
        "{trace: broken.up}": "network.bandwidth.trace: ",
        "{trace: nowhere.up}": "no trace file nowhere.up",
        '{trace: ok.up, start: "2 ms"}': "network.bandwidth.start: 0.002 s is beyond the trace",
        "trace:ok.up, fidelity: fast": "fidelity: fast draws transfers from a constant-rate link",
        "{trace: ok.up, loop: false}": "network.bandwidth.loop: the workload runs 2 s",
    }
    for value, expected in cases.items():
        text = BASE_SCENARIO.replace('bandwidth: "10 Mbit/s"', f"bandwidth: {value}")
        result = runner.invoke(app, ["validate", str(write_scenario(text))])
        assert result.exit_code == 2, (value, result.output)
        assert expected in result.stderr, (value, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1
    # relative to the scenario's folder: the good trace loads, and says what it is
    text = BASE_SCENARIO.replace('bandwidth: "10 Mbit/s"', "bandwidth: {trace: ok.up}")
    result = runner.invoke(app, ["validate", str(write_scenario(text))])
    assert result.exit_code == 0, result.output
    assert "trace ok.up (mean 12 Mbit/s) up" in result.stdout


# ---------------------------------------------------------------- capacity by hand


def test_mahimahi_capacity_by_hand():
    # opportunities at 1, 1 and 3 ms, looping every 3 ms: 3 x 1500 B per 3 ms
    cap = Capacity(TraceParams("opportunities", np.array([0.001, 0.001, 0.003]), 0.003))
    assert cap.position(0.0) == 0.0
    assert cap.position(0.001) == 0.0  # an opportunity at exactly now is still to come
    assert cap.position(0.002) == 3000.0
    assert cap.time_at(1500) == pytest.approx(0.001)
    assert cap.time_at(3000) == pytest.approx(0.001)
    assert cap.time_at(3001) == pytest.approx(0.003)
    assert cap.time_at(4501) == pytest.approx(0.004)  # next loop: 3 + 1 ms
    # started 2 ms into the trace, the first opportunity is the one at 3 ms
    late = Capacity(
        TraceParams("opportunities", np.array([0.001, 0.001, 0.003]), 0.003, start=0.002)
    )
    assert late.transfer_time(0.0, 1500) == pytest.approx(0.001)
    half = Capacity(TraceParams("opportunities", np.array([0.001]), 0.001, scale=0.5))
    assert half.time_at(1500) == pytest.approx(0.002)  # 750 B an opportunity


def test_step_trace_transfer_time_by_hand():
    # 8 Mbit/s for 1 s, an outage for 1 s, 4 Mbit/s for 1 s, looping every 3 s
    step = TraceParams("rates", np.array([0.0, 1.0, 2.0]), 3.0, rates=np.array([1e6, 0.0, 5e5]))
    cap = Capacity(step)
    # 1.5 MB from 0.5 s: 0.5 MB by 1 s, nothing until 2 s, 0.5 MB by 3 s, the last 0.5 MB
    # at 1 MB/s from 3 s (the trace has looped): done at 3.5 s
    assert cap.transfer_time(0.5, 1.5e6) == pytest.approx(3.0)
    assert cap.time_at(cap.position(1.2) + 1) == pytest.approx(2.0 + 1 / 5e5)
    assert cap.period_bytes / step.period == pytest.approx(5e5)  # the mean rate

    # the same on a link, packet by packet: 1500 packets of 1000 B handed over at 0.5 s
    env = simpy.Environment()
    params = LinkParams(rate=5e5, delay=0.01, overhead=0, queue_limit=2000, trace=step)
    link = Link(env, params, np.random.default_rng(0))
    arrivals: list[float] = []

    def sender():
        yield env.timeout(0.5)
        for i in range(1500):
            link.send(1000, i, lambda _p: arrivals.append(env.now))

    env.process(sender())
    env.run()
    assert len(arrivals) == 1500
    assert arrivals[499] == pytest.approx(1.0 + 0.01)  # 0.5 MB by the outage
    assert arrivals[500] == pytest.approx(2.0 + 1000 / 5e5 + 0.01)
    assert arrivals[-1] == pytest.approx(3.5 + 0.01)


# ---------------------------------------------------------------- simulations on traces


@pytest.mark.parametrize("protocol", ["tcp", "udp"])
def test_a_constant_mahimahi_trace_reproduces_the_constant_link(profiles, tmp_path, protocol):
    """A file holding ``1`` is 12 Mbit/s: within 1 % of the constant link. (Each transfer's
    last byte waits for the next whole millisecond, Mahimahi's grid, and over TCP each round
    trip's ACKs too: payloads of 262 kB keep that under 1 %; a 64 kB one over TCP with 5 ms
    of delay is 2 % slower.)"""
    trace = _file(tmp_path, "1\n", "constant.up")
    from splitetimpera.pipeline import simulate

    common = {
        "network.protocol": protocol,
        "splits.method": ["features.0"],
        "workload.rate": "4 fps",
        "workload.frames": 40,
        "modes": ["SC"],
    }
    constant = simulate(make_scenario(profiles, **common, **{"network.bandwidth": "12 Mbit/s"}))
    traced = simulate(
        make_scenario(profiles, **common, **{"network.bandwidth": {"trace": str(trace)}})
    )
    a = constant.summary.set_index("config")
    b = traced.summary.set_index("config")
    assert list(a.index) == list(b.index) == ["SC@features.0"]
    assert a["payload_bytes"].iloc[0] == 262144
    for column in ("latency_p50", "latency_p95", "latency_mean", "bytes_per_frame"):
        np.testing.assert_allclose(b[column], a[column], rtol=0.01)
    assert (traced.frames["used_config"] == traced.frames["config"]).all()


def _outage_run(trace: TraceParams | None):
    rate = 1.5e6
    up = LinkParams(rate=rate, delay=0.01, trace=trace)
    down = LinkParams(rate=rate, delay=0.01)
    spec = RunSpec(
        seed=3,
        devices=1,
        workers=1,
        workload=WorkloadParams("periodic", 40, rate=10.0, result_size=64),
        network=NetworkParams(up, down, protocol="udp"),
        job=JobParams("RC", 1000, np.array([0.0]), np.array([0.001])),
    )
    return run_configuration(spec).records


def test_an_outage_delays_exactly_the_frames_in_flight():
    ms = np.arange(1, 4001) / 1000.0
    steady = TraceParams("opportunities", ms, 4.0)
    # no opportunity after 1.05 s until 3.051 s: a 2 s outage
    outage = TraceParams("opportunities", ms[(ms <= 1.05) | (ms > 3.05)], 4.0)
    before, after = _outage_run(steady), _outage_run(outage)
    hit = [r for r in after if 1.05 < r.t_gen <= 3.05]
    assert len(hit) == 20  # frames at 1.1 s ... 3.0 s
    for a, b in zip(before, after):
        if 1.05 < b.t_gen <= 3.05:
            # waited for the first opportunity after the outage (20 datagrams of 1066 B
            # on the wire leave within 15 ms of it)
            assert 3.051 + 0.01 <= b.t_up_end <= 3.066 + 0.01
        else:
            assert b.t_done == a.t_done and b.t_up_end == a.t_up_end


def test_sei_channel_takes_a_trace(tmp_path):
    trace = _file(tmp_path, "1\n", "constant.up")
    args = ["channel", "--protocol", "udp", "--payload", "15 kB", "--reps", "3", "--json"]
    traced = runner.invoke(app, [*args, "--bandwidth", f"trace:{trace}", "--delay", "0 ms"])
    assert traced.exit_code == 0, traced.output
    import json

    stats = json.loads(traced.stdout)
    assert stats["bandwidth_bps"] == pytest.approx(12e6)
    # 11 datagrams: 15000 B + 11 x 66 B = 15726 B on the wire, 10.484 opportunities
    assert stats["median_s"] == pytest.approx(0.011, abs=0.0011)
    bad = runner.invoke(app, [*args, "--bandwidth", "trace:nowhere.up"])
    assert bad.exit_code == 2 and bad.stderr.startswith("error: --bandwidth: no trace file")
