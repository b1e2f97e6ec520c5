"""``fidelity: fast`` gives the packet model's answer on every shipped scenario.

Fast fidelity draws each frame's transfers from measured streams; where that cannot
reproduce the packet model (a loaded link, a percentile on a cliff of the distribution) a
configuration is simulated packet by packet and says so. Either way the answer must be
the packet model's: every configuration's p50 and p95 within 5 %, the same verdicts, the
same choice.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from splitetimpera.errors import ScenarioError
from splitetimpera.pipeline import load_scenario, simulate

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((REPO / "scenarios").glob("*.yaml"))


@pytest.mark.slow
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_fast_agrees_with_packet(path, monkeypatch):
    monkeypatch.chdir(REPO)
    if load_scenario(path).network.traced:
        # fast draws transfers from a constant-rate link: it refuses a trace, naming
        # the fidelity that follows it
        with pytest.raises(ScenarioError, match="use fidelity: packet"):
            load_scenario(path, {"network.fidelity": "fast"})
        return
    packet = simulate(load_scenario(path, {"network.fidelity": "packet"}))
    fast = simulate(load_scenario(path, {"network.fidelity": "fast"}))
    a = packet.summary.set_index("config")
    b = fast.summary.set_index("config")
    assert list(a.index) == list(b.index)
    drawn = b.index[b["fidelity"] == "fast"]
    instead = fast.meta["packet_instead_of_fast"]
    assert set(drawn) | set(instead) >= set(b.index[b["mode"] != "LC"])
    for column in ("latency_p50", "latency_p95"):
        ratio = (b[column] / a[column]).dropna()
        worst = ratio.sub(1).abs().idxmax() if len(ratio) else None
        assert ratio.between(0.95, 1.05).all(), (column, worst, ratio[worst])
    assert (a["feasible"] == b["feasible"]).all(), list(a.index[a["feasible"] != b["feasible"]])
    assert packet.qos.chosen == fast.qos.chosen


def test_a_loaded_link_is_simulated_packet_by_packet(write_scenario):
    # 64x32x32 fp32 (262 kB) at 10 fps needs 21 Mbit/s of a 10 Mbit/s link
    text = (
        "name: loaded\nmodel: {name: digits_vgg}\nsplits: {method: [features.0]}\nmodes: [SC]\n"
        "device: {profile: testhw}\nserver: {profile: testhw}\n"
        'network: {protocol: udp, bandwidth: "10 Mbit/s", delay: "5 ms", fidelity: fast}\n'
        'workload: {rate: "10 fps", frames: 5}\n'
    )
    result = simulate(load_scenario(write_scenario(text)))
    assert result.summary["fidelity"].tolist() == ["packet"]
    assert "uplink load" in result.meta["packet_instead_of_fast"]["SC@features.0"]
