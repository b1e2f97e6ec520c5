"""Simulator speed: frames and packets per second of wall time, packet level against fast.

One configuration: a 1 MB payload per frame over TCP (CUBIC) at 100 Mbit/s, 5 ms one-way,
1 % loss, one device at 1 frame/s (TCP's loss-limited throughput here is about 14 Mbit/s,
so faster rates only build an ever-growing queue), deterministic 1 ms head and tail. The packet level
simulates every packet; the fast level draws per-frame transfers from distributions the
packet model computes once (the time to build them is reported apart). Both run the same
10,000 frames in this run; the agreement of their latency distributions is reported.

    python benchmarks/sim_speed.py [--frames 10000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import machine, write  # noqa: E402
from splitetimpera.profiles import write_profile  # noqa: E402

SCENARIO = """\
name: speed
seed: 1
model: {name: digits_vgg}
splits: {method: [big], compression: [none]}
modes: [SC]
device: {profile: bench}
server: {profile: bench}
network: {protocol: tcp, bandwidth: "100 Mbit/s", delay: "5 ms", loss: "1%", fidelity: FIDELITY}
workload: {arrival: periodic, rate: "1 fps", frames: FRAMES}
output: OUT
"""


def profile(folder: Path) -> None:
    rows = []
    for depth, (name, shape) in enumerate(
        [("input", "3x32x32"), ("big", "250000"), ("output", "10")]
    ):
        numel = int(shape) if "x" not in shape else 3 * 32 * 32
        rows.append({
            "split": name, "depth": depth, "n_tensors": 1, "shapes": shape, "payload_fp32": numel * 4,
            "payload_fp16": numel * 2, "payload_int8": numel, "head_flops": 0, "tail_flops": 0,
            "head_params": 0, "tail_params": 0, "head_median_s": 0.001, "head_p5_s": 0.001,
            "head_p95_s": 0.001, "tail_median_s": 0.001, "tail_p5_s": 0.001, "tail_p95_s": 0.001,
            "full_median_s": 0.002, "samples": 1,
        })  # fmt: skip
    write_profile(
        folder / "bench", "digits_vgg", pd.DataFrame(rows), {"cpu": "synthetic", "threads": 1}
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        profile(tmp / "profiles")
        os.environ["SEI_PROFILES"] = str(tmp / "profiles")
        os.environ["SEI_CACHE"] = str(tmp / "cache")
        import yaml

        from splitetimpera.pipeline import scenario_from_dict, simulate
        from splitetimpera.sim.fast import FAST_REPS

        out = {}
        for fidelity in ("packet", "fast"):
            text = (
                SCENARIO.replace("FIDELITY", fidelity)
                .replace("FRAMES", str(args.frames))
                .replace("OUT", str(tmp))
            )
            scenario = scenario_from_dict(yaml.safe_load(text), "speed.yaml")
            if fidelity == "fast":  # build the distributions first, timed apart
                t0 = time.perf_counter()
                simulate(scenario, frames=1)
                build = time.perf_counter() - t0
            t0 = time.perf_counter()
            result = simulate(scenario)
            wall = time.perf_counter() - t0
            s = result.summary.iloc[0]
            out[fidelity] = {
                "frames": args.frames, "wall_s": wall, "frames_per_s": args.frames / wall,
                "packets": int(result.meta["packets_simulated"]),
                "latency_p50_s": float(s["latency_p50"]), "latency_p95_s": float(s["latency_p95"]),
                "latency_mean_s": float(s["latency_mean"]), "retransmissions_per_frame": float(s["retransmissions"]) / args.frames,
            }  # fmt: skip
            if fidelity == "packet":
                out[fidelity]["packets_per_s"] = out[fidelity]["packets"] / wall
            else:
                out[fidelity]["distribution_build_s"] = build
                out[fidelity]["distribution_reps"] = FAST_REPS
            print(
                f"{fidelity}: {args.frames} frames in {wall:.2f} s ({args.frames / wall:,.0f} frames/s)",
                flush=True,
            )
    p, f = out["packet"], out["fast"]
    agreement = {k: f[k] / p[k] - 1 for k in ("latency_p50_s", "latency_p95_s", "latency_mean_s")}
    print(
        f"packets/s at packet level: {p['packets_per_s']:,.0f}; fast/packet speed ratio {f['frames_per_s'] / p['frames_per_s']:.0f}x"
    )
    print("fast vs packet latency: " + ", ".join(f"{k} {v:+.1%}" for k, v in agreement.items()))
    write(
        "sim_speed",
        {
            **out,
            "speedup": f["frames_per_s"] / p["frames_per_s"],
            "relative_difference_fast_vs_packet": agreement,
            "machine": machine(),
        },
    )


if __name__ == "__main__":
    main()
