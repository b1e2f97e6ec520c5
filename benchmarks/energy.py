"""Energy per frame of LC, RC and the best SC on WiFi and LTE at 1, 5 and 15 frames/s.

One camera board (the development host's CPU profile slowed 20x, powered as a Raspberry Pi
3 Model B: rpi3b) runs digits_vgg against an H100 server, over the WiFi link of
scenarios/wifi.yaml (40 Mbit/s, 2 ms, 0.5 % loss; ARO's WiFi radio) and the LTE link of
scenarios/lte.yaml (8/30 Mbit/s, 20 ms, bursty loss; Huang et al.'s LTE model with ARO's
parameters), at 1, 5 and 15 frames/s; every split I-SPLIT proposes with no compression,
int8 and the bottleneck, packet by packet. For each case it reports LC, RC and the SC
configuration that spends least, each split into compute, radio transfer, tail and
promotion, and idle, with the tail's share of the total and of the radio's energy, and the
ratio of LTE's radio energy to WiFi's.

    python benchmarks/energy.py [--frames 100]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import machine, write  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RATES = (1, 5, 15)
NETWORKS = {
    "wifi": {
        "protocol": "tcp",
        "bandwidth": "40 Mbit/s",
        "delay": "2 ms",
        "jitter": "1 ms",
        "loss": "0.5%",
        "radio": "wifi",
    },
    "lte": {
        "protocol": "tcp",
        "bandwidth": "8 Mbit/s",
        "downlink": "30 Mbit/s",
        "delay": "20 ms",
        "jitter": "5 ms",
        "loss": {
            "p_good_to_bad": "0.3%",
            "p_bad_to_good": "25%",
            "loss_good": "0.1%",
            "loss_bad": "70%",
        },
        "radio": "lte",
    },
}
PARTS = ("energy_compute", "energy_radio", "energy_tail", "energy_idle")


def scenario(network: str, rate: int, frames: int, out: Path) -> dict:
    return {
        "name": f"energy-{network}-{rate}fps",
        "seed": 42,
        "model": {"name": "digits_vgg"},
        "dataset": {"name": "digits", "classes": "all", "samples": 360},
        "splits": {"method": "isplit", "top_k": 3, "compression": ["none", "int8", "bottleneck"]},
        "device": {"profile": "amd-epyc-2t", "count": 1, "slowdown": 20, "power": "rpi3b"},
        "server": {"profile": "h100", "workers": 1},
        "network": NETWORKS[network],
        "workload": {"arrival": "periodic", "rate": f"{rate} fps", "frames": frames},
        "qos": {"percentile": 95},
        "modes": ["LC", "RC", "SC"],
        "output": str(out),
    }


def row(r, network: str, rate: int) -> dict:
    radio = r["energy_radio"] + r["energy_tail"]
    return {
        "network": network,
        "fps": rate,
        "config": r["config"],
        "mode": r["mode"],
        "energy_per_frame_mj": r["energy_per_frame"] * 1e3,
        **{f"{p.removeprefix('energy_')}_mj": r[p] * 1e3 for p in PARTS},
        "tail_share_of_total": r["energy_tail"] / r["energy_per_frame"],
        "tail_share_of_radio": r["energy_tail"] / radio if radio > 0 else None,
        "latency_p95_ms": r["latency_p95"] * 1e3,
        "accuracy": r["accuracy"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100)
    args = parser.parse_args()
    from splitetimpera.pipeline import scenario_from_dict, simulate

    os.chdir(REPO)  # shipped profiles and tables are found from the repository
    rows = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for network in NETWORKS:
            for rate in RATES:
                data = scenario(network, rate, args.frames, Path(tmp))
                summary = simulate(scenario_from_dict(data, f"{network}@{rate}fps")).summary
                sc = summary[summary["mode"] == "SC"].sort_values("energy_per_frame")
                picked = [
                    summary[summary["mode"] == "LC"].iloc[0],
                    summary[summary["mode"] == "RC"].sort_values("config").iloc[0],
                    sc.iloc[0],
                ]
                for r in picked:
                    rows.append(row(r, network, rate))
                cheapest = summary.sort_values("energy_per_frame").iloc[0]["config"]
                rows[-1]["cheapest_overall"] = cheapest
                print(f"{network} {rate:>2} fps: cheapest {cheapest}", flush=True)
    wall = time.perf_counter() - started
    header = (
        f"{'net':5} {'fps':>3} {'config':22} {'total mJ':>9} {'compute':>8} {'radio':>8} "
        f"{'tail':>8} {'idle':>8} {'tail/total':>10} {'tail/radio':>10} {'p95 ms':>7}"
    )
    print(header)
    for r in rows:
        share = r["tail_share_of_radio"]
        print(
            f"{r['network']:5} {r['fps']:>3} {r['config']:22} {r['energy_per_frame_mj']:9.1f} "
            f"{r['compute_mj']:8.1f} {r['radio_mj']:8.1f} {r['tail_mj']:8.1f} {r['idle_mj']:8.1f} "
            f"{r['tail_share_of_total']:10.1%} {'' if share is None else f'{share:10.1%}':>10} "
            f"{r['latency_p95_ms']:7.1f}"
        )
    ratios = {}
    for rate in RATES:
        for mode in ("RC", "SC"):
            pick = {r["network"]: r for r in rows if r["fps"] == rate and r["mode"] == mode}
            radio = {n: pick[n]["radio_mj"] + pick[n]["tail_mj"] for n in pick}
            ratios[f"{mode}@{rate}fps"] = float(radio["lte"] / radio["wifi"])
    print("LTE radio energy / WiFi radio energy:", {k: round(v, 1) for k, v in ratios.items()})
    write(
        "energy",
        {
            "machine": machine(),
            "frames_per_run": args.frames,
            "wall_time_s": wall,
            "rows": rows,
            "lte_over_wifi_radio_energy": ratios,
        },
    )


if __name__ == "__main__":
    main()
