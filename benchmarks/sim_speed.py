"""Simulator speed: frames and packets per second of wall time, packet level against fast.

One configuration: a 1 MB payload per frame over TCP (CUBIC) at 100 Mbit/s, 5 ms one-way,
1 % loss, one device at 1 frame/s (TCP's loss-limited throughput here is about 14 Mbit/s,
so faster rates only build an ever-growing queue), deterministic 1 ms head and tail. The packet level
simulates every packet; the fast level draws per-frame transfers from distributions the
packet model computes once (the time to build them is reported apart). Both run the same
10,000 frames in this run; the agreement of their latency distributions is reported. Fast
fidelity may refuse the configuration (the reason is recorded) and simulate it packet by
packet; since the Linux-like TCP model it does (p50 on a cliff).

``--against REV ...`` also runs the packet level of this same scenario with the code of
each git revision (``git archive`` into a temporary folder, one fresh process per run,
interleaved with this tree's for ``--rounds`` rounds): the speed of each, and whether
their frames tables are identical (a hash of the columns every revision writes). A
``--profile`` run adds each tree's cProfile of 1,000 packet-level frames: the functions
that take the time.

    python benchmarks/sim_speed.py [--frames 10000] [--against REV ...] [--rounds 2] [--profile]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._common import machine, write  # noqa: E402

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
    from splitetimpera.profiles import write_profile

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


#: frames columns every compared revision writes: a frame's identity, stage times,
#: traffic and status (later revisions add energy and payload columns)
HASHED = ("config", "device", "frame", "t_gen", "t_head_start", "t_head_end", "t_up_end",
          "t_tail_start", "t_tail_end", "t_done", "bytes_on_air", "packets",
          "retransmissions", "status")  # fmt: skip


def worker(tree: str, frames: int, cprofile: bool) -> None:
    """One packet-level run with the code in ``tree``; prints one JSON line."""
    sys.path.insert(0, tree)
    import numpy as np
    import yaml

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        profile(tmp / "profiles")
        os.environ["SEI_PROFILES"] = str(tmp / "profiles")
        os.environ["SEI_CACHE"] = str(tmp / "cache")
        from splitetimpera.pipeline import scenario_from_dict, simulate

        text = SCENARIO.replace("FIDELITY", "packet").replace("FRAMES", str(frames))
        scenario = scenario_from_dict(yaml.safe_load(text.replace("OUT", str(tmp))), "speed.yaml")
        out = {"tree": tree, "frames": frames}
        if cprofile:
            import cProfile
            import pstats

            prof = cProfile.Profile()
            prof.enable()
            simulate(scenario)
            prof.disable()
            stats = pstats.Stats(prof).stats
            total = sum(v[2] for v in stats.values())
            top = sorted(stats.items(), key=lambda kv: -kv[1][2])[:15]
            out["profile_tottime_share"] = [
                {"function": f"{Path(f).name}:{line}({name})", "calls": v[1],
                 "share": v[2] / total} for (f, line, name), v in top
            ]  # fmt: skip
        else:
            t0 = time.perf_counter()
            result = simulate(scenario)
            out["wall_s"] = time.perf_counter() - t0
            out["packets"] = int(result.meta["packets_simulated"])
            table = result.frames[[c for c in HASHED if c in result.frames]]
            out["hashed_columns"] = list(table.columns)
            out["frames_sha256"] = hashlib.sha256(
                np.ascontiguousarray(pd.util.hash_pandas_object(table, index=False).to_numpy())
            ).hexdigest()
    print(json.dumps(out), flush=True)


def _tree(rev: str, folder: Path) -> str:
    """This repository's code at ``rev`` (a tag, branch or commit), unpacked in folder."""
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", rev],
                            check=True, capture_output=True, text=True).stdout.strip()  # fmt: skip
    dest = folder / commit
    dest.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "splitetimpera"],
                             check=True, capture_output=True).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return str(dest)


def _run_worker(tree: str, frames: int, cprofile: bool = False) -> dict:
    argv = [sys.executable, __file__, "--worker", tree, "--frames", str(frames)]
    done = subprocess.run(argv + (["--profile"] if cprofile else []), check=True,
                          capture_output=True, text=True)  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def against(revs: list[str], frames: int, rounds: int, cprofile: bool) -> dict:
    """Packet-level speed of this tree and of each revision, interleaved, side by side."""
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"working tree": str(ROOT)}
        for rev in revs:
            trees[rev] = _tree(rev, Path(tmp))
        runs: dict[str, list[dict]] = {name: [] for name in trees}
        for r in range(rounds):
            for name, tree in trees.items():
                run = _run_worker(tree, frames)
                run["load_average_1min"] = os.getloadavg()[0]
                runs[name].append(run)
                print(f"round {r + 1}: {name}: {frames / run['wall_s']:,.0f} frames/s "
                      f"({run['packets'] / run['wall_s']:,.0f} packets/s)", flush=True)  # fmt: skip
        profiles = {}
        if cprofile:
            for name, tree in trees.items():
                profiles[name] = _run_worker(tree, min(frames, 1000), True)
    base = runs["working tree"]
    out = {}
    for name, rows in runs.items():
        wall = sorted(r["wall_s"] for r in rows)[len(rows) // 2]
        out[name] = {
            "wall_s": [r["wall_s"] for r in rows], "median_wall_s": wall,
            "frames_per_s": frames / wall, "packets_per_s": rows[0]["packets"] / wall,
            "packets": rows[0]["packets"], "frames_sha256": rows[0]["frames_sha256"],
            "identical_to_working_tree": rows[0]["frames_sha256"] == base[0]["frames_sha256"],
            "load_average_1min": [r["load_average_1min"] for r in rows],
        }  # fmt: skip
        if name in profiles:
            out[name]["profile_1000_frames"] = profiles[name]["profile_tottime_share"]
    for name in out:
        out[name]["working_tree_speedup"] = (
            out[name]["median_wall_s"] / out["working tree"]["median_wall_s"]
        )
    return {"frames": frames, "rounds": rounds, "hashed_columns": base[0]["hashed_columns"],
            "trees": out}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=10_000)
    parser.add_argument("--against", nargs="*", default=[], metavar="REV",
                        help="git revisions whose packet level runs beside this tree's")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=2, help="interleaved runs per tree")
    parser.add_argument("--profile", action="store_true", help="cProfile each tree too")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.frames, args.profile)
        return
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
            # fast fidelity refuses a configuration it cannot reproduce and simulates it
            # packet by packet (the reason is in the run's metadata)
            out[fidelity]["fidelity_used"] = str(s["fidelity"])
            if fidelity == "packet":
                out[fidelity]["packets_per_s"] = out[fidelity]["packets"] / wall
            else:
                out[fidelity]["distribution_build_s"] = build
                out[fidelity]["distribution_reps"] = FAST_REPS
                refused = result.meta.get("packet_instead_of_fast") or {}
                out[fidelity]["packet_instead_of_fast"] = refused.get(str(s["config"]))
            print(
                f"{fidelity}: {args.frames} frames in {wall:.2f} s ({args.frames / wall:,.0f} frames/s)"
                + (f", simulated {s['fidelity']}" if s["fidelity"] != fidelity else ""),
                flush=True,
            )
    p, f = out["packet"], out["fast"]
    agreement = {k: f[k] / p[k] - 1 for k in ("latency_p50_s", "latency_p95_s", "latency_mean_s")}
    print(
        f"packets/s at packet level: {p['packets_per_s']:,.0f}; fast/packet speed ratio {f['frames_per_s'] / p['frames_per_s']:.0f}x"
    )
    print("fast vs packet latency: " + ", ".join(f"{k} {v:+.1%}" for k, v in agreement.items()))
    if f["packet_instead_of_fast"]:
        print(f"fast fidelity refused this configuration: {f['packet_instead_of_fast']}")
    payload = {
        **out,
        "speedup": f["frames_per_s"] / p["frames_per_s"],
        "relative_difference_fast_vs_packet": agreement,
        "load_average_1min": os.getloadavg()[0],
    }
    if args.against:
        payload["revisions"] = against(args.against, args.frames, args.rounds, args.profile)
    write("sim_speed", {**payload, "machine": machine()})


if __name__ == "__main__":
    main()
