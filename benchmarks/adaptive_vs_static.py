"""Run-time policies against the best static configuration on every shipped trace, and the
packet level's speed on a trace.

Policies. scenarios/lte_driving.yaml (ResNet-50 on a Raspberry Pi 4 class board, 2 fps,
a 500 ms deadline, LC / RC+jpeg@75 / RC+int8+zstd / SC at layer3 and layer4) runs on each
shipped pair of traces (AT&T LTE while driving, T-Mobile LTE, Verizon LTE; uplink and
downlink), over the whole trace once (frames = the trace's length x 2 fps), packet by
packet. For each trace: deadline-miss rate, p50/p95 latency and frames lost of the best
static configuration (the QoS choice among static ones, else the one of lowest p95),
``adaptive`` and ``oracle``, and the share of the static-to-oracle gap adaptive closes on
each metric (1 = as good as the oracle, 0 = no better than static, negative = worse).

Speed. 120 s at 15 fps with 803 kB payloads (ResNet-50 split at layer3, raw fp32: 1 MB
class), every packet simulated, on each trace as recorded (which no trace can carry) and on
the AT&T trace scaled 60x (115 Mbit/s on average): wall time, frames answered, simulated
packets and packets per second.

Constant trace. A Mahimahi file holding ``1`` (1500 B every millisecond: 12 Mbit/s) against
a constant 12 Mbit/s link both ways, on every RC and SC configuration of wifi.yaml (four
devices, 200 frames each, no loss or jitter), TCP and UDP: the relative difference of p50
and p95 per configuration, by payload size.

    python benchmarks/adaptive_vs_static.py [--seeds 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import machine, write  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
TRACES = ("ATT-LTE-driving-2016", "TMobile-LTE-short", "Verizon-LTE-short")
METRICS = ("deadline_miss", "latency_p50", "latency_p95", "lost")


def _row(summary, config: str) -> dict:
    row = summary.set_index("config").loc[config]
    return {m: float(row[m]) for m in METRICS} | {"config": config}


def _closed(static: float, adaptive: float, oracle: float) -> float | None:
    gap = static - oracle
    if abs(gap) < 1e-12:
        return None
    return (static - adaptive) / gap


def _scenario(trace: str, frames: int, seed: int, **changes):
    from splitetimpera import load_scenario

    keys = {
        "network.bandwidth": {"trace": f"{trace}.up"},
        "network.downlink": {"trace": f"{trace}.down"},
        "workload.frames": frames,
        "seed": seed,
    }
    keys.update(changes)
    return load_scenario(REPO / "scenarios" / "lte_driving.yaml", keys)


def policies(trace: str, seed: int) -> dict:
    from splitetimpera import simulate
    from splitetimpera.report.timeline import best_static
    from splitetimpera.traces import read_link_trace, shipped_traces_dir

    period = read_link_trace(shipped_traces_dir() / f"{trace}.up").period
    frames = int(period * 2)  # 2 fps over the whole trace
    started = time.perf_counter()
    result = simulate(_scenario(trace, frames, seed))
    wall = time.perf_counter() - started
    # adaptive again, planning on 2 mean deviations of the per-byte time (policy.caution)
    cautious = simulate(_scenario(trace, frames, seed, **{"policy.caution": 2}), only=["adaptive"])
    summary = result.summary
    static = best_static(summary)
    out = {
        "trace": trace,
        "seed": seed,
        "frames": frames,
        "wall_s": wall,
        "best_static": _row(summary, static),
        "adaptive": _row(summary, "adaptive"),
        "oracle": _row(summary, "oracle"),
        "adaptive_caution_2": _row(cautious.summary, "adaptive"),
        "static_rows": {
            c: _row(summary, c) for c in summary["config"] if c not in ("adaptive", "oracle")
        },
    }
    frames_table = result.frames
    for name in ("adaptive", "oracle"):
        used = frames_table.loc[frames_table["config"] == name, "used_config"]
        out[name]["used"] = used.value_counts().to_dict()
    for name in ("adaptive", "adaptive_caution_2"):
        out[f"gap_closed_{name}"] = {
            m: _closed(out["best_static"][m], out[name][m], out["oracle"][m]) for m in METRICS
        }
    return out


def speed(trace: str, scale: float = 1.0) -> dict:
    from splitetimpera import simulate

    scenario = _scenario(
        trace,
        1800,
        0,
        **{
            "network.bandwidth": {"trace": f"{trace}.up", "scale": scale},
            "modes": ["SC"],
            "splits.method": ["layer3"],
            "splits.compression": ["none"],
            "workload.rate": "15 fps",
            "workload.deadline": None,
            "policy.name": ["static"],
        },
    )
    started = time.perf_counter()
    result = simulate(scenario)
    wall = time.perf_counter() - started
    row = result.summary.iloc[0]
    packets = result.meta["packets_simulated"]
    return {
        "trace": trace,
        "scale": scale,
        "config": str(row["config"]),
        "payload_bytes": int(row["payload_bytes"]),
        "frames": int(row["frames"]),
        "delivered": int(row["delivered"] + row["late"]),
        "wall_s": wall,
        "packets": int(packets),
        "packets_per_s": packets / wall,
        "load_1min": os.getloadavg()[0],
    }


def constant_trace() -> dict:
    """Per protocol and configuration: payload, and the trace's p50/p95 over the constant
    link's, minus 1."""
    import tempfile

    from splitetimpera import load_scenario, simulate

    folder = Path(tempfile.mkdtemp())
    (folder / "constant.up").write_text("1\n")
    trace = {"trace": str(folder / "constant.up")}
    out = {}
    for protocol in ("tcp", "udp"):
        base = {
            "network.protocol": protocol,
            "network.jitter": "0 ms",
            "network.loss": "0%",
            "workload.frames": 200,
            "modes": ["RC", "SC"],
            "splits.compression": ["none", "int8"],
        }
        runs = []
        for link in ("12 Mbit/s", trace):
            changes = {**base, "network.bandwidth": link, "network.downlink": link}
            runs.append(simulate(load_scenario(REPO / "scenarios" / "wifi.yaml", changes)))
        a, b = (r.summary.set_index("config") for r in runs)
        out[protocol] = {
            config: {
                "payload_bytes": int(a.loc[config, "payload_bytes"]),
                "p50": float(b.loc[config, "latency_p50"] / a.loc[config, "latency_p50"] - 1),
                "p95": float(b.loc[config, "latency_p95"] / a.loc[config, "latency_p95"] - 1),
            }
            for config in a.index
        }
        for limit in (32_768, 0):
            rows = [v for v in out[protocol].values() if v["payload_bytes"] >= limit]
            worst = max(abs(v["p50"]) for v in rows)
            print(f"constant trace, {protocol}, payloads >= {limit} B: |p50| <= {worst:.2%}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds per trace")
    args = parser.parse_args()
    runs = []
    for trace in TRACES:
        for seed in range(args.seeds):
            run = policies(trace, seed)
            runs.append(run)
            rows = [run[k] for k in ("best_static", "adaptive", "adaptive_caution_2", "oracle")]

            def show(metric: str, rows=rows) -> str:
                return " / ".join(f"{r[metric]:.3f}" for r in rows)

            print(
                f"{trace} seed {seed} (static {rows[0]['config']} / adaptive / adaptive "
                f"caution 2 / oracle): miss {show('deadline_miss')}; p50 "
                f"{show('latency_p50')} s; p95 {show('latency_p95')} s; lost {show('lost')}"
            )
    speeds = []
    # the traces as recorded (the frames overload every one), and the AT&T trace scaled
    # 60x (115 Mbit/s on average) so that most frames go through
    for trace, scale in [*((t, 1.0) for t in TRACES), (TRACES[0], 60.0)]:
        s = speed(trace, scale)
        speeds.append(s)
        print(
            f"speed {trace} x{scale:g}: {s['delivered']} answered of {s['frames']} frames of {s['payload_bytes']} B, {s['packets']} "
            f"packets in {s['wall_s']:.1f} s ({s['packets_per_s']:.0f} packets/s)"
        )
    constant = constant_trace()
    write(
        "adaptive_vs_static",
        {
            "constant_trace": constant,
            "machine": machine(),
            "load_1min": os.getloadavg()[0],
            "scenario": "scenarios/lte_driving.yaml",
            "policies": runs,
            "speed": speeds,
        },
    )


if __name__ == "__main__":
    main()
