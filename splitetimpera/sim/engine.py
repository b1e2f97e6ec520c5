"""Engine: build, connect, run and collect one simulation per configuration.

:func:`simulate` is the one entry point (the CLI, sweeps and tests call it). For every
configuration (mode x split x compression) it builds a fresh SimPy environment with the
scenario's devices, the shared channel, one transport per device and the server, runs
every frame to its end, and turns the frame records into a tidy table once. Every
configuration uses the same seed and the same named random streams, so they see the same
arrivals and the same loss pattern (common random numbers).

A frame's life (METHODS section 5): generated -> waits for its device -> head (+ encoding)
-> uplink transfer -> waits for a server worker -> (decoding +) tail -> result over the
downlink. LC runs the whole model on the device; RC sends the input; SC splits at a
candidate; EE runs the head to an exit branch and finishes there with probability
``exit_rate``, otherwise continues as SC at that split.
"""

from __future__ import annotations

import logging
import math
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import simpy

from .. import __version__
from ..accuracy import AccuracyTable, load_accuracy
from ..errors import SeiError
from ..payload import parse_shapes, payload_bytes
from ..profiles import Profile, load_profile
from ..qos import QosResult, match
from ..selectors import select_splits
from .channel import Channel, LinkParams
from .compute import LatencySampler
from .device import Device
from .frames import FRAME_COLUMNS, FrameRecord
from .server import Server
from .streams import Streams
from .transport import TransportParams, make_transport
from .workload import arrival_times, read_trace, source

# Register the built-in transports by importing them.
from . import tcp as _tcp  # noqa: F401  isort: skip
from . import udp as _udp  # noqa: F401  isort: skip

__all__ = [
    "Configuration",
    "Result",
    "SUMMARY_COLUMNS",
    "plan",
    "simulate",
    "run_configuration",
    "summarise",
    "SETTLE_TIME",
]

log = logging.getLogger(__name__)

#: Simulated seconds the run continues after the last frame is generated; a frame not
#: back by then is lost with reason "timeout".
SETTLE_TIME = 300.0

#: Columns of summary.csv (one row per configuration).
SUMMARY_COLUMNS: dict[str, str] = {
    "config": "configuration id (LC, RC, RC+int8, SC@features.9, SC@features.9+int8, EE@...)",
    "mode": "LC, RC, SC or EE",
    "split": "split point ('output' for LC, 'input' for RC)",
    "compression": "none, fp16, int8 or bottleneck",
    "payload_bytes": "application bytes sent uplink per frame",
    "accuracy": "top-1 accuracy of the configuration (NaN when not measured)",
    "frames": "frames generated (all devices)",
    "delivered": "frames answered by their deadline",
    "late": "frames answered after their deadline",
    "lost": "frames never answered",
    "latency_mean": "mean end-to-end latency of answered frames (s)",
    "latency_p50": "median latency (s)",
    "latency_p95": "95th percentile latency (s)",
    "latency_p99": "99th percentile latency (s)",
    "latency_qos": "latency at the scenario's qos.percentile (s)",
    "throughput": "answered frames per second of simulated time",
    "deadline_miss": "share of frames late or lost",
    "frame_loss": "share of frames lost",
    "device_util": "mean busy share of the devices",
    "server_util": "busy share of the server's workers",
    "bytes_on_air": "bytes sent over the channel, both directions, all frames",
    "bytes_per_frame": "bytes_on_air / frames",
    "retransmissions": "retransmitted packets, all frames",
    "head_s": "mean head time drawn (s), encoding included",
    "tail_s": "mean tail time drawn (s), decoding included",
}


@dataclass(frozen=True)
class Configuration:
    """One way of running the application.

    Attributes:
        mode: LC, RC, SC or EE.
        split: where the model is cut (``output`` for LC, ``input`` for RC).
        compression: how the crossing tensors are sent.
        payload_bytes: bytes sent uplink per frame.
        accuracy: top-1 accuracy (NaN when unknown).
        encode_s: device-side encoding time per frame (s), before slowdown.
        decode_s: server-side decoding time per frame (s), before slowdown.
        exit_rate: EE only: share of frames that leave at the exit branch.
        branch_s: EE only: the exit branch's device time (s).
    """

    mode: str
    split: str
    compression: str
    payload_bytes: int
    accuracy: float
    encode_s: float = 0.0
    decode_s: float = 0.0
    exit_rate: float = 0.0
    branch_s: float = 0.0

    @property
    def id(self) -> str:
        suffix = "" if self.compression == "none" else f"+{self.compression}"
        if self.mode == "LC":
            return "LC"
        if self.mode == "RC":
            return f"RC{suffix}"
        return f"{self.mode}@{self.split}{suffix}"


def _payload(profile: Profile, split: str, compression: str, accuracy: AccuracyTable) -> int:
    row = profile.row(split)
    if compression == "bottleneck":
        measured = accuracy.table.get("payload_bytes") if not accuracy.table.empty else None
        if measured is not None and (split, compression) in measured.index:
            return int(measured.loc[(split, compression)])
    return payload_bytes(parse_shapes(row["shapes"]), compression)


def plan(
    scenario,
    device_profile: Profile,
    accuracy: AccuracyTable,
    splits: list[str],
) -> list[Configuration]:
    """Every configuration the scenario asks for, in a stable order."""
    out: list[Configuration] = []
    compressions = list(scenario.splits.compression)

    def make(mode: str, split: str, compression: str, **extra) -> Configuration:
        encode, decode = accuracy.codec_time(split, compression)
        return Configuration(
            mode=mode,
            split=split,
            compression=compression,
            payload_bytes=_payload(device_profile, split, compression, accuracy),
            accuracy=accuracy.lookup(split, compression),
            encode_s=encode,
            decode_s=decode,
            **extra,
        )

    if "LC" in scenario.modes:
        out.append(Configuration("LC", "output", "none", 0, accuracy.lookup("output", "none")))
    if "RC" in scenario.modes:
        rc = [c for c in compressions if c in ("none", "fp16", "int8")] or ["none"]
        out.extend(make("RC", "input", c) for c in rc)
    if "SC" in scenario.modes:
        for split in splits:
            out.extend(make("SC", split, c) for c in compressions)
    if "EE" in scenario.modes:
        ee = scenario.early_exit
        for c in compressions:
            base = make("EE", ee.split, c)
            acc = ee.exit_rate * ee.accuracy + (1 - ee.exit_rate) * base.accuracy
            out.append(
                Configuration(
                    "EE",
                    ee.split,
                    c,
                    base.payload_bytes,
                    acc,
                    base.encode_s,
                    base.decode_s,
                    ee.exit_rate,
                    ee.branch_latency,
                )
            )
    return out


def _link_params(network) -> tuple[LinkParams, LinkParams]:
    common = dict(
        delay=network.delay,
        jitter=network.jitter,
        queue_limit=network.queue,
        mtu=network.mtu,
        overhead=network.link_overhead,
        loss=network.loss,
    )
    return (
        LinkParams(rate=network.uplink_rate, **common),
        LinkParams(rate=network.downlink_rate, **common),
    )


def transport_params(network) -> TransportParams:
    return TransportParams(connection=network.connection, congestion=network.congestion)


def run_configuration(
    scenario,
    config: Configuration,
    device_profile: Profile,
    server_profile: Profile,
    *,
    frames: int | None = None,
    trace: np.ndarray | None = None,
) -> tuple[list[FrameRecord], dict]:
    """Simulate one configuration; returns the frame records and entity statistics."""
    streams = Streams(scenario.seed)
    env = simpy.Environment()
    net = scenario.network
    wl = scenario.workload
    count = scenario.device.count
    n_frames = frames or wl.frames
    needs_network = config.mode != "LC"
    channel = None
    transports: list = []
    if needs_network:
        up, down = _link_params(net)
        channel = Channel(env, up, down, streams.get("link/up"), streams.get("link/down"))
        if net.fidelity == "fast":
            from .fast import FastTransport

            transports = [
                FastTransport(env, channel, scenario, config, d, streams.get(f"transport/{d}"))
                for d in range(count)
            ]
        else:
            params = transport_params(net)
            transports = [
                make_transport(net.protocol, env, channel, params, d, streams.get(f"transport/{d}"))
                for d in range(count)
            ]
    devices = [Device(env, d) for d in range(count)]
    server = Server(env, scenario.server.workers)
    records: list[FrameRecord] = []
    head_draws: list[float] = []
    tail_draws: list[float] = []

    dev_slow = scenario.device.slowdown
    srv_slow = scenario.server.slowdown
    head_split = config.split if config.mode != "RC" else None
    head = [
        LatencySampler(
            device_profile.latency_samples(head_split, "head") if head_split else [0.0],
            dev_slow,
            streams.get(f"device/{d}/head"),
        )
        for d in range(count)
    ]
    tail = LatencySampler(
        server_profile.latency_samples(config.split, "tail") if config.mode != "LC" else [0.0],
        srv_slow,
        streams.get("server/tail"),
    )
    exits = [streams.get(f"device/{d}/exit") for d in range(count)]
    encode = config.encode_s * dev_slow
    decode = config.decode_s * srv_slow
    branch = config.branch_s * dev_slow

    def life(record: FrameRecord):
        d = record.device
        seconds = head[d]() + encode + branch
        head_draws.append(seconds)
        yield from devices[d].run(record, seconds)
        if config.mode == "LC":
            record.finish(env.now)
            return
        if config.mode == "EE" and exits[d].random() < config.exit_rate:
            record.exited = True
            record.finish(env.now)
            return
        record.payload_bytes = config.payload_bytes
        ok = yield transports[d].send("up", config.payload_bytes, record)
        if not ok:
            transports[d].close(record)
            record.lose("uplink loss")
            return
        record.t_up_end = env.now
        seconds = tail() + decode
        tail_draws.append(seconds)
        yield from server.run(record, seconds)
        ok = yield transports[d].send("down", wl.result_size, record)
        if not ok:
            record.lose("downlink loss")
            return
        record.finish(env.now)

    def start(record: FrameRecord) -> None:
        records.append(record)
        env.process(life(record))

    last_gen = 0.0
    for d in range(count):
        times = arrival_times(
            wl.arrival,
            n_frames,
            streams.get(f"workload/{d}"),
            rate=wl.rate,
            trace=trace,
            random_phase=count > 1,
        )
        last_gen = max(last_gen, float(times[-1]))
        env.process(source(env, d, times, wl.deadline, start))
    for t in transports:
        t.start()
    env.run(until=last_gen + SETTLE_TIME)
    for record in records:
        if not record.status:
            record.lose("timeout")
    records.sort(key=lambda r: (r.t_gen, r.device, r.frame))
    span = _span(records)
    stats = {
        "span": span,
        "device_busy": sum(d.busy for d in devices),
        "server_busy": server.busy,
        "workers": server.workers,
        "devices": count,
        "packets": (channel.up.packets + channel.down.packets) if channel else 0,
        "link_lost": (channel.up.lost + channel.down.lost) if channel else 0,
        "link_dropped": (channel.up.dropped + channel.down.dropped) if channel else 0,
        "head_mean": float(np.mean(head_draws)) if head_draws else 0.0,
        "tail_mean": float(np.mean(tail_draws)) if tail_draws else 0.0,
    }
    return records, stats


def _span(records: list[FrameRecord]) -> float:
    """Simulated time from the first generation to the last thing any frame did."""
    if not records:
        return 0.0
    first = min(r.t_gen for r in records)
    last = first
    for r in records:
        for t in (r.t_done, r.t_tail_end, r.t_up_end, r.t_head_end, r.t_gen):
            if not math.isnan(t):
                last = max(last, t)
                break
    return last - first


def summarise(
    config: Configuration, records: list[FrameRecord], stats: dict, percentile: float
) -> dict:
    """One summary row (the columns of :data:`SUMMARY_COLUMNS`)."""
    n = len(records)
    status = np.array([r.status for r in records])
    latency = np.array([r.t_done - r.t_gen for r in records if r.status != "lost"], dtype=float)
    delivered = int(np.sum(status == "delivered"))
    late = int(np.sum(status == "late"))
    lost = int(np.sum(status == "lost"))
    span = stats["span"]

    def pct(q: float) -> float:
        return float(np.percentile(latency, q)) if latency.size else math.nan

    bytes_on_air = int(sum(r.wire_bytes for r in records))
    return {
        "config": config.id,
        "mode": config.mode,
        "split": config.split,
        "compression": config.compression,
        "payload_bytes": config.payload_bytes,
        "accuracy": config.accuracy,
        "frames": n,
        "delivered": delivered,
        "late": late,
        "lost": lost,
        "latency_mean": float(latency.mean()) if latency.size else math.nan,
        "latency_p50": pct(50),
        "latency_p95": pct(95),
        "latency_p99": pct(99),
        "latency_qos": pct(percentile),
        "throughput": (delivered + late) / span if span > 0 else math.nan,
        "deadline_miss": (late + lost) / n if n else math.nan,
        "frame_loss": lost / n if n else math.nan,
        "device_util": stats["device_busy"] / (stats["devices"] * span) if span > 0 else math.nan,
        "server_util": stats["server_busy"] / (stats["workers"] * span) if span > 0 else math.nan,
        "bytes_on_air": bytes_on_air,
        "bytes_per_frame": bytes_on_air / n if n else math.nan,
        "retransmissions": int(sum(r.retransmissions for r in records)),
        "head_s": stats["head_mean"],
        "tail_s": stats["tail_mean"],
    }


@dataclass
class Result:
    """Everything one simulation produced.

    Attributes:
        scenario: the resolved scenario.
        configurations: what was simulated, in order.
        frames: one row per frame per configuration (:data:`FRAME_COLUMNS`).
        summary: one row per configuration (:data:`SUMMARY_COLUMNS` plus the QoS columns
            ``feasible``, ``violations``, ``pareto``, ``chosen``).
        qos: the matcher's answer.
        meta: seed, versions, wall time, profiles used and how they were scaled.
    """

    scenario: object
    configurations: list[Configuration]
    frames: pd.DataFrame
    summary: pd.DataFrame
    qos: QosResult
    meta: dict

    def write(self, folder: str | Path | None = None, report: bool = True) -> Path:
        """Write frames.parquet, summary.csv, run.json and report.html into ``folder``
        (the scenario's ``output/<name>`` by default); returns the folder."""
        from ..results import write_result

        return write_result(self, Path(folder) if folder else self.scenario.results_dir, report)


def _profiles(scenario) -> tuple[Profile, Profile]:
    model = scenario.model.profile_name
    device = load_profile(scenario.device.profile, model)
    server = load_profile(scenario.server.profile, model)
    if device.splits != server.splits:
        raise SeiError(
            f"device profile {scenario.device.profile!r} and server profile "
            f"{scenario.server.profile!r} of {model} list different split points; "
            "measure both with the same version of sei"
        )
    return device, server


def simulate(
    scenario,
    *,
    frames: int | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    only: list[str] | None = None,
) -> Result:
    """Run every configuration of ``scenario``.

    Args:
        scenario: a :class:`~splitetimpera.scenario.Scenario` (see ``load_scenario``).
        frames: frames per device, overriding ``workload.frames``.
        progress: called as ``progress(done, total, config_id)`` after each configuration.
        only: simulate only these configuration ids.

    Returns:
        A :class:`Result`; nothing is written until ``Result.write``.
    """
    started = time.perf_counter()
    device_profile, server_profile = _profiles(scenario)
    accuracy = load_accuracy(scenario)
    splits = select_splits(scenario, device_profile) if "SC" in scenario.modes else []
    configs = plan(scenario, device_profile, accuracy, splits)
    if only is not None:
        known = {c.id for c in configs}
        unknown = [o for o in only if o not in known]
        if unknown:
            raise SeiError(
                f"no configuration {unknown[0]!r}; this scenario has {', '.join(sorted(known))}"
            )
        configs = [c for c in configs if c.id in only]
    trace = read_trace(scenario.workload.trace) if scenario.workload.arrival == "trace" else None
    rows, tables = [], []
    packets = 0
    for i, config in enumerate(configs):
        records, stats = run_configuration(
            scenario, config, device_profile, server_profile, frames=frames, trace=trace
        )
        packets += stats["packets"]
        rows.append(summarise(config, records, stats, scenario.qos.percentile))
        tables.append(_frame_table(config, records))
        if progress is not None:
            progress(i + 1, len(configs), config.id)
    summary = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    frames_table = (
        pd.concat(tables, ignore_index=True)
        if tables
        else pd.DataFrame(columns=list(FRAME_COLUMNS))
    )
    qos = match(summary, scenario.qos)
    wall = time.perf_counter() - started
    meta = {
        "sei_version": __version__,
        "python": platform.python_version(),
        "simpy": simpy.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "seed": scenario.seed,
        "fidelity": scenario.network.fidelity,
        "frames_per_device": frames or scenario.workload.frames,
        "wall_time_s": wall,
        "packets_simulated": packets,
        "splits": splits,
        "split_method": scenario.splits.method,
        "accuracy_source": accuracy.source,
        "device_profile": {
            "hardware": device_profile.hardware,
            "slowdown": scenario.device.slowdown,
            "scaled": scenario.device.slowdown != 1.0,
            "measured_on": device_profile.meta.get("cpu") or device_profile.meta.get("gpu"),
        },
        "server_profile": {
            "hardware": server_profile.hardware,
            "slowdown": scenario.server.slowdown,
            "scaled": scenario.server.slowdown != 1.0,
            "measured_on": server_profile.meta.get("gpu") or server_profile.meta.get("cpu"),
        },
    }
    return Result(scenario, configs, frames_table, qos.table, qos, meta)


def _frame_table(config: Configuration, records: list[FrameRecord]) -> pd.DataFrame:
    table = pd.DataFrame([r.row() for r in records])
    if table.empty:
        table = pd.DataFrame(columns=list(FRAME_COLUMNS))
    table.insert(0, "config", config.id)
    table.insert(1, "mode", config.mode)
    table.insert(2, "split", config.split)
    table.insert(3, "compression", config.compression)
    return table[list(FRAME_COLUMNS)]
