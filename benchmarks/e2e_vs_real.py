"""sei simulate against a real split-inference run: per-frame latency and its stages.

A device process in one network namespace runs the head of a real model once per frame
(frames at a fixed rate), encodes the split tensor as sei counts it (fp32) and sends it over
real kernel TCP (CUBIC, one persistent connection or one connection per frame) through the
testbed's emulated link (``_testbed.py``: rate, one-way delay, random loss, 1000-packet
drop-tail queue, 38 B of Ethernet framing) to a server process in the other namespace,
which queues it for its worker, runs the tail and replies with 64 bytes. Both sides stamp
every stage (``_e2e_node.py``). One torch thread per process.

Just before the run, the same head and tail are profiled on this host with the same
thread count, twice: as ``sei profile`` does by default (back to back, warm), and with
``pace`` = the frame period (each run cold, handed to a worker thread and back, as a frame
is processed). ``sei simulate`` then runs the same scenario with each profile (same seed
for all cases; two devices get sei's own random phases, which the real devices copy).

Cases: loss-free at 10 Mbit/s (persistent and per-frame) and 100 Mbit/s, 1 % loss (the
small model at 10 Mbit/s, ResNet-50's 803 kB at 100 Mbit/s), a 10 Mbit/s link the frames
saturate, and a server shared by two devices (100 fps each, so that frames queue for its
worker; the small model keeps the devices' compute off the testbed's two cores). Per case: median, p95 and p99 latency, real
against simulated, and the stage medians (device queue, head, uplink, server queue, tail,
downlink). A one-device case is simulated with ``--sim-seeds`` seeds and their frames
pooled; each seed's own percentiles are kept too, since one run of a few hundred lossy
frames is one draw (the real run is one as well). The 1-minute load average is recorded
before and after each real run: timing needs a quiet machine. Writes
``benchmarks/results/e2e_vs_real.json``; Linux and root only.

    sudo python benchmarks/e2e_vs_real.py [--quick] [--cases 10M,loss1-resnet50] [--sim-seeds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import select
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import _testbed as tb  # noqa: E402
from benchmarks._common import machine, write  # noqa: E402
from splitetimpera.sim.frames import STAGES  # noqa: E402  (the real run stamps the same)

NODE = [sys.executable, str(Path(__file__).resolve().parent / "_e2e_node.py")]
SEED = 7
PORT = 5401
SMALL = ("digits_vgg", "features.6")  # 32 kB fp32 at the split
LARGE = ("resnet50", "layer3")  # 803 kB fp32 at the split, 224x224 input
#: Timed runs per part when profiling: a p95 from 30 paced runs rests on two of them.
PROFILE_REPEATS = 100


@dataclass(frozen=True)
class Case:
    name: str
    model: str
    split: str
    rate_bps: float
    delay_s: float
    loss: float
    fps: float
    frames: int
    connection: str = "persistent"
    devices: int = 1


CASES = (
    Case("10M", *SMALL, 10e6, 0.010, 0.0, 10, 300),
    Case("10M-per-frame", *SMALL, 10e6, 0.010, 0.0, 10, 300, connection="per-frame"),
    Case("100M", *SMALL, 100e6, 0.002, 0.0, 10, 300),
    Case("100M-resnet50", *LARGE, 100e6, 0.002, 0.0, 5, 150),
    Case("loss1-10M", *SMALL, 10e6, 0.010, 0.01, 10, 300),
    Case("loss1-resnet50", *LARGE, 100e6, 0.002, 0.01, 5, 150),
    Case("saturated", *SMALL, 10e6, 0.010, 0.0, 50, 300),
    Case("shared-server", *SMALL, 100e6, 0.002, 0.0, 100, 1000, devices=2),
)
QUICK = {"10M": 60, "loss1-resnet50": 40, "shared-server": 300}


# ------------------------------------------------------------------------ profiles


def profile(model: str, split: str, pace: float, folder: Path) -> str:
    """Profile one split on this host, one thread; returns the hardware name."""
    from splitetimpera.models.profile import profile_model

    hardware = "e2e-warm" if pace == 0 else f"e2e-paced-{round(pace * 1000)}ms"
    profile_model(model, threads=1, splits=[split], repeats=PROFILE_REPEATS, warmup=5, hardware=hardware,
                  folder=folder, pace=pace)  # fmt: skip
    return hardware


# ------------------------------------------------------------------------ real run


def _ready(procs: list[subprocess.Popen], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    for proc in procs:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"{proc.args} did not start")
            ready, _, _ = select.select([proc.stdout], [], [], left)
            if ready:
                line = proc.stdout.readline()
                if line.strip() == "ready":
                    break
                if not line:
                    raise RuntimeError(f"{proc.args} failed: {proc.stderr.read()}")


def phases(case: Case) -> list[float]:
    """The devices' first-frame offsets sei draws (so the real run can copy them)."""
    if case.devices == 1:
        return [0.0]
    from splitetimpera.sim.streams import Streams

    streams = Streams(SEED)
    return [float(streams.get(f"workload/{d}").uniform(0.0, 1.0 / case.fps))
            for d in range(case.devices)]  # fmt: skip


def run_real(bed: tb.Testbed, case: Case, frames: int, seed: int) -> dict:
    common = ["--model", case.model, "--split", case.split, "--port", str(PORT),
              "--threads", "1"]  # fmt: skip
    pipes = dict(stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    setting = tb.LinkSetting(case.rate_bps, case.delay_s, case.loss)
    with bed.link(setting, seed=seed) as counters:
        server = bed.spawn("b", [*NODE, "server", *common, "--workers", "1"], **pipes)
        _ready([server])
        devices = [
            bed.spawn("a", [*NODE, "device", *common, "--server", tb.ADDR_B, "--fps",
                            str(case.fps), "--frames", str(frames), "--connection",
                            case.connection, "--device", str(d), "--phase", str(phase)], **pipes)
            for d, phase in enumerate(phases(case))
        ]  # fmt: skip
        _ready(devices)
        t0 = time.monotonic() + 1.0
        for proc in (server, *devices):
            proc.stdin.write(f"start {t0!r}\n")
            proc.stdin.flush()
        limit = frames / case.fps + 180
        outs = [json.loads(bed.finish(d, limit)[0]) for d in devices]
        server.stdin.write("stop\n")
        server.stdin.flush()
        served = json.loads(bed.finish(server, 30)[0])
    dev = pd.DataFrame([r for o in outs for r in o["records"]])
    srv = pd.DataFrame(served["records"]).drop_duplicates(["device", "frame"])
    table = dev.merge(srv, on=["device", "frame"], how="left")
    for col in [c for c in table.columns if c.startswith("t_")]:
        table[col] = table[col] - t0
    table["latency"] = table["t_done"] - table["t_gen"]
    return {
        "frames": table,
        "retransmissions": int(sum(o["retransmissions"] for o in outs)),
        "payload_bytes": outs[0]["payload_bytes"],
        "emulator": counters,
    }


# ------------------------------------------------------------------------ simulation


def run_sim(case: Case, frames: int, hardware: str, out: Path, seed: int = SEED) -> dict:
    from splitetimpera.pipeline import scenario_from_dict, simulate

    spec = {
        "name": f"e2e-{case.name}",
        "seed": seed,
        "model": {"name": case.model, **({"weights": "none"} if case.model == "resnet50" else {})},
        "splits": {"method": [case.split], "compression": ["none"]},
        "modes": ["SC"],
        "device": {"profile": hardware, "count": case.devices},
        "server": {"profile": hardware, "workers": 1},
        "network": {"protocol": "tcp", "congestion": "cubic",
                    "bandwidth": f"{case.rate_bps:g} bit/s", "delay": f"{case.delay_s:g} s",
                    "loss": f"{case.loss * 100:g}%", "connection": case.connection,
                    "queue": 1000},
        "workload": {"arrival": "periodic", "rate": f"{case.fps:g} fps", "frames": frames},
        "output": str(out),
    }  # fmt: skip
    result = simulate(scenario_from_dict(spec, f"e2e-{case.name}.yaml"))
    table = result.frames.copy()
    return {"frames": table, "retransmissions": int(table["retransmissions"].sum()),
            "payload_bytes": int(table["payload_bytes"].iloc[0])}  # fmt: skip


# ------------------------------------------------------------------------ comparison


def describe(table: pd.DataFrame) -> dict:
    lat = table["latency"].dropna().to_numpy(float)
    out = {
        "frames": int(len(table)),
        "delivered": int(lat.size),
        "p50_s": float(np.percentile(lat, 50)),
        "p95_s": float(np.percentile(lat, 95)),
        "p99_s": float(np.percentile(lat, 99)),
        "mean_s": float(lat.mean()),
        "stages_median_s": {},
        "stages_mean_s": {},
        "stages_p95_s": {},
    }
    for name, a, b in STAGES:
        d = (table[b] - table[a]).dropna().to_numpy(float)
        out["stages_median_s"][name] = float(np.median(d)) if d.size else float("nan")
        out["stages_mean_s"][name] = float(d.mean()) if d.size else float("nan")
        out["stages_p95_s"][name] = float(np.percentile(d, 95)) if d.size else float("nan")
    return out


def goodput(table: pd.DataFrame, payload: int) -> float:
    """Split-tensor bits per second the uplink delivered over the run: from the first
    frame's head end to the last frame's arrival at the server."""
    arrived = table["t_up_end"].dropna()
    return float(arrived.size * payload * 8 / (arrived.max() - table["t_head_end"].min()))


def compare(real: dict, sim: dict) -> dict:
    return {k: sim[k] / real[k] - 1 for k in ("p50_s", "p95_s", "p99_s", "mean_s")}


def print_case(case: Case, row: dict) -> None:
    real = row["real"]
    print(f"\n{case.name}: {case.model}@{case.split} ({row['payload_bytes'] / 1e3:.0f} kB), "
          f"{case.rate_bps / 1e6:g} Mbit/s, {case.delay_s * 1e3:g} ms, {case.loss:.0%} loss, "
          f"{case.fps:g} fps x {case.devices}, {case.connection}")  # fmt: skip
    header = f"  {'':<14}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}  " + "".join(
        f"{s[:10]:>11}" for s, _, _ in STAGES
    )
    print(header + "   retx")
    for label, stats, retx in (
        ("real", real, row["real_retransmissions"]),
        ("sei warm", row["sim_warm"], row["sim_warm_retransmissions"]),
        ("sei paced", row["sim_paced"], row["sim_paced_retransmissions"]),
    ):
        stages = "".join(f"{stats['stages_median_s'][s] * 1e3:>11.2f}" for s, _, _ in STAGES)
        print(f"  {label:<14}{stats['p50_s'] * 1e3:>9.1f}{stats['p95_s'] * 1e3:>9.1f}"
              f"{stats['p99_s'] * 1e3:>9.1f}  {stages}   {retx:g}")  # fmt: skip
    print(f"  uplink goodput over the run: real {row['real_uplink_goodput_bps'] / 1e6:.2f}, "
          f"sei warm {row['sim_warm_uplink_goodput_bps'] / 1e6:.2f}, paced "
          f"{row['sim_paced_uplink_goodput_bps'] / 1e6:.2f} Mbit/s")  # fmt: skip
    for label in ("warm", "paced"):
        d = row[f"sim_{label}_vs_real"]
        seeds = row[f"sim_{label}_per_seed"]
        spread = ", ".join(
            f"{k[:3]} {min(x[k] for x in seeds) * 1e3:.1f}-{max(x[k] for x in seeds) * 1e3:.1f} ms"
            for k in ("p50_s", "p95_s")
        )
        print(f"  sei {label} vs real: p50 {d['p50_s']:+.1%}, p95 {d['p95_s']:+.1%}, "
              f"p99 {d['p99_s']:+.1%}; one seed's {spread} ({len(seeds)} seeds)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="three cases, fewer frames")
    parser.add_argument("--cases", help="comma-separated case names (all by default)")
    parser.add_argument("--sim-seeds", type=int, default=5,
                        help="seeds sei simulates a one-device case with (frames pooled; the "
                        "spread of one seed's percentiles shows what one run of this length "
                        "can tell)")  # fmt: skip
    parser.add_argument(
        "--name", default=None, help="result file name (default e2e_vs_real, e2e_vs_real_quick)"
    )
    args = parser.parse_args()
    why = tb.unavailable()
    if why:
        sys.exit(f"skipped: {why}")
    cases = [c for c in CASES if not args.quick or c.name in QUICK]
    if args.cases:
        wanted = set(args.cases.split(","))
        cases = [c for c in cases if c.name in wanted]
    load = os.getloadavg()[0]
    print(f"1-minute load average {load:.2f} (timing needs a quiet machine: below ~1)")
    t_start = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, tb.Testbed() as bed:
        tmp = Path(tmp)
        os.environ["SEI_PROFILES"] = str(tmp / "profiles")
        os.environ["SEI_CACHE"] = str(tmp / "cache")
        checks = tb.self_check(bed, tb.SELF_CHECKS[1:2] if args.quick else tb.SELF_CHECKS)
        hardware: dict[tuple, str] = {}
        for case in cases:
            for pace in (0.0, 1.0 / case.fps):
                key = (case.model, case.split, pace)
                if key not in hardware:
                    print(f"profiling {case.model}@{case.split}, pace {pace * 1e3:.0f} ms",
                          flush=True)  # fmt: skip
                    hardware[key] = profile(case.model, case.split, pace, tmp / "profiles")
        for i, case in enumerate(cases):
            frames = QUICK[case.name] if args.quick else case.frames
            case_load = os.getloadavg()[0]
            real = run_real(bed, case, frames, seed=100 + i)
            row = {"case": asdict(case), "frames_per_device": frames,
                   "load_average_1min": [case_load, os.getloadavg()[0]],
                   "payload_bytes": real["payload_bytes"], "emulator": real["emulator"],
                   "real": describe(real["frames"]),
                   "real_uplink_goodput_bps": goodput(real["frames"], real["payload_bytes"]),
                   "real_retransmissions": real["retransmissions"]}  # fmt: skip
            # two devices keep seed SEED: the real devices copy its phases
            seeds = [SEED + k for k in range(args.sim_seeds if case.devices == 1 else 1)]
            for label, pace in (("warm", 0.0), ("paced", 1.0 / case.fps)):
                hw = hardware[(case.model, case.split, pace)]
                sims = [run_sim(case, frames, hw, tmp / "out", seed) for seed in seeds]
                row[f"sim_{label}"] = describe(pd.concat([s["frames"] for s in sims]))
                row[f"sim_{label}_per_seed"] = [
                    {k: v for k, v in describe(s["frames"]).items() if k.startswith("p")}
                    for s in sims
                ]
                row[f"sim_{label}_uplink_goodput_bps"] = float(
                    np.mean([goodput(s["frames"], s["payload_bytes"]) for s in sims])
                )
                row[f"sim_{label}_retransmissions"] = float(
                    np.mean([s["retransmissions"] for s in sims])
                )
                row[f"sim_{label}_vs_real"] = compare(row["real"], row[f"sim_{label}"])
            row["sim_seeds"] = seeds
            row["real_frames"] = real["frames"].to_dict(orient="list")
            rows.append(row)
            print_case(case, row)
        profiles = {f"{m}@{s} pace {p * 1e3:.0f} ms": _profile_summary(tmp / "profiles", hw, m, s)
                    for (m, s, p), hw in hardware.items()}  # fmt: skip
    summary = {
        "cases": len(rows),
        "within_10pct_p50_p95_paced": sum(
            abs(r["sim_paced_vs_real"]["p50_s"]) <= 0.1 and abs(r["sim_paced_vs_real"]["p95_s"]) <= 0.1
            for r in rows
        ),
        "within_10pct_p50_p95_warm": sum(
            abs(r["sim_warm_vs_real"]["p50_s"]) <= 0.1 and abs(r["sim_warm_vs_real"]["p95_s"]) <= 0.1
            for r in rows
        ),
        "wall_s": time.perf_counter() - t_start,
        "load_average_1min_at_start": load,
        "load_average_1min_at_end": os.getloadavg()[0],
    }  # fmt: skip
    print(f"\nwithin 10 % at p50 and p95: {summary['within_10pct_p50_p95_paced']} of "
          f"{len(rows)} cases with paced profiles, {summary['within_10pct_p50_p95_warm']} with "
          f"warm ones; {summary['wall_s']:.0f} s")  # fmt: skip
    name = args.name or ("e2e_vs_real_quick" if args.quick else "e2e_vs_real")
    write(name, {"cases": rows, "summary": summary, "profiles": profiles,
                 "emulator_self_check": checks, "machine": machine()})  # fmt: skip


def _profile_summary(folder: Path, hardware: str, model: str, split: str) -> dict:
    table = pd.read_csv(folder / hardware / f"{model}.csv").set_index("split")
    row = table.loc[split]
    return {"hardware": hardware, "head_median_s": float(row["head_median_s"]),
            "tail_median_s": float(row["tail_median_s"]),
            "head_p95_s": float(row["head_p95_s"]), "tail_p95_s": float(row["tail_p95_s"])}  # fmt: skip


if __name__ == "__main__":
    main()
