"""sei's channel against real Linux TCP over an emulated link: transfer time and retransmissions.

Fresh TCP connections (handshake included) carry 10 kB to 4 MB from one network namespace
to another over the testbed's emulated link (``_testbed.py``: 10 or 100 Mbit/s, 5 or 25 ms
one-way, 0/1/3 % independent loss in each direction, 1000-packet drop-tail queue, 38 B of
Ethernet framing per packet). Linux runs CUBIC (set on the socket), SACK, timestamps,
its own ACK policy, HyStart, RACK-TLP, F-RTO, everything at its defaults except
``tcp_no_metrics_save=1`` (a fresh connection learns nothing from the previous one). The
transfer time runs from ``connect()`` to the last byte read by the receiver; Linux's
retransmissions are ``tcpi_total_retrans`` read once the receiver has answered, minus the
SYN retransmissions (told by the connect time), so both sides count data segments.

``sei channel`` is run on the same link parameters (1000 transfers per lossy point).
Lossy points compare means (with few repetitions lossy medians are noisy); the bias is
pooled over the lossy grid as the geometric mean of the per-point ratios of means, with a
95 % bootstrap interval (transfers resampled within each point, both sides), and
retransmissions as the ratio of their sums. Loss-free points compare medians. A lossy
point runs at least 20 Linux transfers and more while under a minute: a 1 % loss costs a
fresh connection a 1 s SYN timeout once in 50 transfers, which a mean of 20 cannot see.

The Linux measurements are kept in the JSON; ``--reuse`` compares a changed sei against
them without measuring Linux again. Linux and root only; skipped with a message elsewhere.

    sudo python benchmarks/channel_vs_linux.py [--reps 20] [--quick] [--reuse]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import _testbed as tb  # noqa: E402
from benchmarks._common import RESULTS, machine, write  # noqa: E402
from splitetimpera.sim.channel import LinkParams  # noqa: E402
from splitetimpera.sim.transfer import TransferSetup, measure_transfers  # noqa: E402
from splitetimpera.sim.transport import TransportParams  # noqa: E402

PAYLOADS = (10_000, 100_000, 1_000_000, 4_000_000)
RATES = (10e6, 100e6)
DELAYS = (0.005, 0.025)
LOSSES = (0.0, 0.01, 0.03)
PORT = 5301
#: Seconds between the end of one transfer and the next connection.
GAP = 0.1
NAME = "channel_vs_linux"


def key(payload, rate, delay, loss) -> str:
    return f"{payload}/{rate:g}/{delay:g}/{loss:g}"


def syn_retries(connect_s: float) -> int:
    """SYN retransmissions behind a connect time: SYNs go at 0, 1, 3, 7, ... s."""
    return int(math.floor(math.log2(connect_s + 1.0))) if connect_s >= 0.9 else 0


def linux_point(bed: tb.Testbed, payload, rate, delay, loss, reps: tuple, seed: int) -> dict:
    """Fresh-connection transfers over the emulated link: at least ``reps[0]``, then more
    while under ``reps[2]`` seconds, at most ``reps[1]``."""
    setting = tb.LinkSetting(rate, delay, loss)
    least, most, budget = reps
    with bed.link(setting, seed=seed) as counters:
        sink = bed.spawn("b", [*tb.PROBE, "tcp-sink", str(PORT)], realtime=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
        time.sleep(0.3)
        send = bed.spawn("a", [*tb.PROBE, "tcp-send", tb.ADDR_B, str(PORT), str(payload),
                               str(least), str(most), str(budget), str(GAP)], realtime=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
        limit = budget + 300 + least * (2 + payload * 8 / rate * 30)
        sent = [json.loads(x) for x in bed.finish(send, limit)[0].splitlines()]
        time.sleep(0.2)
        got = {r["rep"]: r for r in map(json.loads, bed.stop(sink).splitlines())}
    rows = []
    for s in sent:
        r = got[s["rep"]]
        connect = (s["t_connected_ns"] - s["t0_ns"]) / 1e9
        retries = syn_retries(connect)
        rows.append({
            "duration": (r["t_last_ns"] - s["t0_ns"]) / 1e9, "connect": connect,
            "syn_retries": retries, "retransmissions": s["total_retrans"] - retries,
            **{k: s[k] for k in ("total_retrans", "total_rto", "total_rto_recoveries",
                                 "dsack_dups", "snd_mss", "congestion") if k in s},
        })  # fmt: skip
    return {"rows": rows, "emulator": counters}


def sei_point(payload, rate, delay, loss, reps: int, seed: int) -> dict:
    link = LinkParams(rate=rate / 8, delay=delay, loss=loss, queue_limit=1000,
                      overhead=tb.OVERHEAD)  # fmt: skip
    setup = TransferSetup(
        "tcp", payload, link, link, TransportParams(connection="per-frame", congestion="cubic")
    )
    table = measure_transfers(setup, reps, seed=seed)
    return {
        "duration": table["duration"].to_numpy(float).tolist(),
        "handshake": (table["handshake"] if "handshake" in table else 0.0 * table["duration"])
        .to_numpy(float)
        .tolist(),
        "retransmissions": table["retransmissions"].to_numpy(int).tolist(),
    }


def compare(point: dict) -> dict:
    lin = np.array([r["duration"] for r in point["linux"]["rows"]])
    lin_rx = np.array([r["retransmissions"] for r in point["linux"]["rows"]], float)
    sei = np.array(point["sei"]["duration"])
    sei_rx = np.array(point["sei"]["retransmissions"], float)
    out = {
        "linux_mean_s": float(np.nanmean(lin)), "sei_mean_s": float(np.nanmean(sei)),
        "linux_median_s": float(np.nanmedian(lin)), "sei_median_s": float(np.nanmedian(sei)),
        "linux_retx": float(lin_rx.mean()), "sei_retx": float(sei_rx.mean()),
        "linux_reps": int(lin.size), "sei_reps": int(sei.size),
    }  # fmt: skip
    # the standard error of the Linux mean, so a reader sees what 20 repetitions can tell
    out["linux_mean_se_s"] = (
        float(np.nanstd(lin, ddof=1) / math.sqrt(lin.size)) if lin.size > 1 else 0.0
    )
    stat = "mean" if point["loss"] > 0 else "median"
    out["relative_difference"] = out[f"sei_{stat}_s"] / out[f"linux_{stat}_s"] - 1
    out["compared"] = stat
    # the data phase alone: the rare 1 s SYN timeouts (the same rule on both sides) are
    # what makes lossy means of small transfers noisy
    lin_data = lin - np.array([r["connect"] for r in point["linux"]["rows"]])
    sei_data = sei - np.array(point["sei"].get("handshake", np.zeros(sei.size)))
    out["linux_data_mean_s"] = float(np.nanmean(lin_data))
    out["sei_data_mean_s"] = float(np.nanmean(sei_data))
    out["data_relative_difference"] = out["sei_data_mean_s"] / out["linux_data_mean_s"] - 1
    return out


def _bootstrap(lossy: list[dict], draws: int = 400, seed: int = 0) -> list[float]:
    """95 % interval of the pooled bias, transfers resampled within each point."""
    rng = np.random.default_rng(seed)
    sides = [(np.array([r["duration"] for r in p["linux"]["rows"]]),
              np.array(p["sei"]["duration"])) for p in lossy]  # fmt: skip
    pooled = []
    for _ in range(draws):
        logs = [math.log(np.nanmean(rng.choice(s, s.size)) / np.nanmean(rng.choice(lin, lin.size)))
                for lin, s in sides]  # fmt: skip
        pooled.append(math.exp(np.mean(logs)) - 1)
    return [float(np.percentile(pooled, 2.5)), float(np.percentile(pooled, 97.5))]


def summarise(points: list[dict]) -> dict:
    lossy = [p for p in points if p["loss"] > 0]
    free = [p for p in points if p["loss"] == 0]
    ratios = np.array([1 + p["compare"]["relative_difference"] for p in lossy])
    sei_rx = sum(p["compare"]["sei_retx"] for p in lossy)
    lin_rx = sum(p["compare"]["linux_retx"] for p in lossy)
    out = {
        "lossy_points": len(lossy),
        "pooled_bias_mean": float(np.exp(np.mean(np.log(ratios))) - 1) if lossy else math.nan,
        "ratio_of_summed_means": float(
            sum(p["compare"]["sei_mean_s"] for p in lossy)
            / sum(p["compare"]["linux_mean_s"] for p in lossy)
        ) - 1 if lossy else math.nan,
        "pooled_bias_interval_95": _bootstrap(lossy) if lossy else [math.nan, math.nan],
        "pooled_bias_data_phase": float(np.exp(np.mean(np.log(
            [1 + p["compare"]["data_relative_difference"] for p in lossy])))) - 1 if lossy else math.nan,
        "retransmission_ratio": sei_rx / lin_rx if lin_rx else math.nan,
        "loss_free_points": len(free),
        "loss_free_max_abs_difference": float(
            max(abs(p["compare"]["relative_difference"]) for p in free)
        ) if free else math.nan,
        "loss_free_median_difference": float(
            np.median([p["compare"]["relative_difference"] for p in free])
        ) if free else math.nan,
    }  # fmt: skip
    for loss in sorted({p["loss"] for p in lossy}):
        sub = [p for p in lossy if p["loss"] == loss]
        r = np.array([1 + p["compare"]["relative_difference"] for p in sub])
        out[f"pooled_bias_loss_{loss:g}"] = float(np.exp(np.mean(np.log(r))) - 1)
        out[f"retransmission_ratio_loss_{loss:g}"] = sum(
            p["compare"]["sei_retx"] for p in sub
        ) / max(sum(p["compare"]["linux_retx"] for p in sub), 1e-9)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--reps", type=int, default=20, help="least Linux transfers per lossy point"
    )
    parser.add_argument(
        "--max-reps", type=int, default=400, help="most Linux transfers per lossy point"
    )
    parser.add_argument("--budget", type=float, default=60.0,
                        help="seconds per lossy point: past --reps, Linux transfers continue "
                        "until this is spent (the rare 1 s SYN timeouts need many)")  # fmt: skip
    parser.add_argument(
        "--free-reps", type=int, default=5, help="Linux transfers per loss-free point"
    )
    parser.add_argument("--sei-reps", type=int, default=1000, help="sei transfers per lossy point")
    parser.add_argument("--quick", action="store_true", help="four points, 5 repetitions")
    parser.add_argument("--reuse", nargs="?", const=str(RESULTS / f"{NAME}.json"), default=None,
                        metavar="JSON", help="compare sei against the Linux measurements of "
                        "an earlier run (default: the last full run's JSON)")  # fmt: skip
    parser.add_argument(
        "--name", default=NAME, help="result file name (benchmarks/results/NAME.json)"
    )
    args = parser.parse_args()
    grid = list(itertools.product(PAYLOADS, RATES, DELAYS, LOSSES))
    if args.quick and not args.reuse:
        grid = [(100_000, 10e6, 0.005, 0.0), (1_000_000, 100e6, 0.005, 0.01),
                (100_000, 10e6, 0.025, 0.03), (4_000_000, 100e6, 0.025, 0.01)]  # fmt: skip
        args.reps, args.max_reps, args.budget, args.free_reps, args.sei_reps = 5, 5, 0, 2, 50
    previous = {}
    if args.reuse:
        old = json.loads(Path(args.reuse).read_text())
        previous = {
            key(p["payload"], p["rate_bps"], p["delay_s"], p["loss"]): p for p in old["points"]
        }
        grid = [g for g in grid if key(*g) in previous]
    elif tb.unavailable():
        sys.exit(f"skipped: {tb.unavailable()}")
    points, t_start = [], time.perf_counter()
    bed = tb.Testbed() if not args.reuse else None
    with bed if bed is not None else contextlib.nullcontext():
        checks = previous and old.get("emulator_self_check") or tb.self_check(bed)
        for i, (payload, rate, delay, loss) in enumerate(grid):
            k = key(payload, rate, delay, loss)
            if k in previous:
                linux = previous[k]["linux"]
            else:
                reps = (
                    (args.reps, args.max_reps, args.budget)
                    if loss > 0
                    else (args.free_reps,) * 2 + (0,)
                )
                linux = linux_point(bed, payload, rate, delay, loss, reps, seed=1000 + i)
            sei = sei_point(payload, rate, delay, loss, args.sei_reps if loss > 0 else 1, seed=1)
            point = {"payload": payload, "rate_bps": rate, "delay_s": delay, "loss": loss,
                     "linux": linux, "sei": sei}  # fmt: skip
            point["compare"] = c = compare(point)
            points.append(point)
            stat = c["compared"]
            print(f"{payload / 1e3:>5.0f} kB {rate / 1e6:>3.0f} Mbit/s {delay * 1e3:>2.0f} ms "
                  f"{loss:>3.0%}: {stat} Linux {c[f'linux_{stat}_s'] * 1e3:8.1f} ms "
                  f"(±{c['linux_mean_se_s'] * 1e3:.1f}) sei {c[f'sei_{stat}_s'] * 1e3:8.1f} ms "
                  f"{c['relative_difference']:+6.1%}; retx/transfer Linux {c['linux_retx']:5.1f} "
                  f"sei {c['sei_retx']:5.1f}", flush=True)  # fmt: skip
    summary = summarise(points)
    summary["wall_s"] = time.perf_counter() - t_start
    low, high = summary["pooled_bias_interval_95"]
    print(f"lossy ({summary['lossy_points']} points): pooled bias of means "
          f"{summary['pooled_bias_mean']:+.1%} [{low:+.1%}, {high:+.1%}] (data phase "
          f"{summary['pooled_bias_data_phase']:+.1%}), retransmissions sei/Linux "
          f"{summary['retransmission_ratio']:.2f}x; loss-free: worst "
          f"{summary['loss_free_max_abs_difference']:.1%}, median "
          f"{summary['loss_free_median_difference']:+.1%}")  # fmt: skip
    write(args.name if not args.quick else f"{args.name}_quick",
          {"points": points, "summary": summary, "emulator_self_check": checks,
           "linux_reused": bool(args.reuse), "machine": machine()})  # fmt: skip


if __name__ == "__main__":
    main()
