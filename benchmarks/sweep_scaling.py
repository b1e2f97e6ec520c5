"""Sweep scaling: points per second on a 100-point sweep with 1 and 2 local workers and
with a Dask LocalCluster of 2 workers, same sweep, same machine, one run.

    python benchmarks/sweep_scaling.py [--frames 40]
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

SCENARIO = """\
name: scaling
seed: 3
model: {name: digits_vgg}
splits: {method: cde, compression: [none, int8]}
device: {profile: amd-epyc-2t, count: 2, slowdown: 10}
server: {profile: h100}
network: {protocol: tcp, bandwidth: "20 Mbit/s", delay: "5 ms"}
workload: {rate: "10 fps", frames: 40, deadline: "100 ms"}
qos: {min_accuracy: "95%", max_latency: "60 ms"}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=40)
    args = parser.parse_args()
    from splitetimpera.sweep import parse_grid, run_sweep

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ["SEI_CACHE"] = str(tmp / "cache")
        scenario = tmp / "scaling.yaml"
        scenario.write_text(SCENARIO + f"output: {tmp / 'out'}\n")
        grid = [
            "network.bandwidth="
            + ",".join(f"{b} Mbit/s" for b in (2, 4, 6, 8, 10, 15, 20, 30, 50, 100)),
            "network.loss=" + ",".join(f"{p}%" for p in (0, 0.2, 0.5, 1, 1.5, 2, 3, 4, 5, 7)),
        ]
        axes = parse_grid(grid, scenario)
        for label, executor, workers in (
            ("local-1", "local", 1),
            ("local-2", "local", 2),
            ("dask-2", "dask", 2),
        ):
            t0 = time.perf_counter()
            result = run_sweep(
                scenario,
                axes,
                executor=executor,
                workers=workers,
                frames=args.frames,
                output=tmp / label,
            )
            wall = time.perf_counter() - t0
            assert result.counts["computed"] == 100 and result.counts["failed"] == 0
            results[label] = {"points": 100, "wall_s": wall, "points_per_s": 100 / wall}
            print(f"{label}: 100 points in {wall:.1f} s ({100 / wall:.2f} points/s)", flush=True)
        same = (tmp / "local-1" / "sweep.csv").read_bytes() == (
            tmp / "dask-2" / "sweep.csv"
        ).read_bytes()
    base = results["local-1"]["points_per_s"]
    for v in results.values():
        v["speedup_vs_local_1"] = v["points_per_s"] / base
    write(
        "sweep_scaling",
        {"results": results, "identical_tables_local_vs_dask": same, "machine": machine()},
    )


if __name__ == "__main__":
    main()
