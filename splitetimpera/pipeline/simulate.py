"""``simulate(scenario) -> Result``: the one entry point that runs a scenario.

It loads the profiles and the accuracy table, selects the candidate splits (the I-SPLIT
table is read from disk; only a scenario whose table was never computed reaches torch),
plans every configuration (mode x split x compression), runs each in the SimPy kernel
(:mod:`splitetimpera.sim.run`) from plain parameters, turns the frame records into a
tidy table once, and lets the QoS matcher decide. It returns data and writes nothing:
:mod:`splitetimpera.results` writes a results folder.
"""

from __future__ import annotations

import math
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import simpy

from .. import __version__
from ..accuracy import load_accuracy
from ..errors import SeiError
from ..profiles import Profile, load_profile
from ..qos import QosResult, match
from ..selectors import Selection, needs_isplit, select_splits
from ..sim.channel import BurstyLoss, LinkParams
from ..sim.frames import FRAME_COLUMNS, FrameRecord
from ..sim.params import JobParams, NetworkParams, RunSpec, WorkloadParams
from ..sim.run import RunOutput, run_configuration
from ..sim.transport import TransportParams
from ..sim.workload import read_trace
from ..tables import find_isplit_table
from .plan import Configuration, plan

__all__ = ["SUMMARY_COLUMNS", "Result", "simulate", "summarise", "network_params", "isplit_for"]

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


def isplit_for(scenario, progress=None) -> pd.DataFrame:
    """The scenario's I-SPLIT table: from disk, or (torch) computed and cached now."""
    found = find_isplit_table(scenario)
    if found is not None:
        return found
    from ..interpret.tables import isplit_table

    return isplit_table(scenario, progress=progress)


def _splits(scenario, profile: Profile) -> list[str]:
    if "SC" not in scenario.modes:
        return []
    method = scenario.splits.method
    selection = Selection(
        profile=profile,
        classes=scenario.dataset.classes,
        top_k=scenario.splits.top_k,
        isplit=isplit_for(scenario) if needs_isplit(method) else None,
        layers=scenario.splits.layers,
        candidates=scenario.splits.candidates,
        source=scenario.source,
    )
    return select_splits(method, selection)


def network_params(network) -> NetworkParams:
    """The kernel's plain parameters of a scenario's ``network`` section."""
    loss = network.loss
    if not isinstance(loss, float):
        loss = BurstyLoss(loss.p_good_to_bad, loss.p_bad_to_good, loss.loss_good, loss.loss_bad)
    common = dict(
        delay=network.delay,
        jitter=network.jitter,
        queue_limit=network.queue,
        mtu=network.mtu,
        overhead=network.link_overhead,
        loss=loss,
    )
    return NetworkParams(
        uplink=LinkParams(rate=network.uplink_rate, **common),
        downlink=LinkParams(rate=network.downlink_rate, **common),
        protocol=network.protocol,
        transport=TransportParams(connection=network.connection, congestion=network.congestion),
        fidelity=network.fidelity,
    )


def _run_spec(
    scenario, config: Configuration, device: Profile, server: Profile, workload: WorkloadParams
) -> RunSpec:
    head = device.latency_samples(config.split, "head") if config.mode != "RC" else [0.0]
    tail = server.latency_samples(config.split, "tail") if config.mode != "LC" else [0.0]
    job = JobParams(
        mode=config.mode,
        payload_bytes=config.payload_bytes,
        head_samples=np.asarray(head, dtype=float),
        tail_samples=np.asarray(tail, dtype=float),
        encode_s=config.encode_s,
        decode_s=config.decode_s,
        exit_rate=config.exit_rate,
        branch_s=config.branch_s,
    )
    return RunSpec(
        seed=scenario.seed,
        devices=scenario.device.count,
        workers=scenario.server.workers,
        workload=workload,
        network=network_params(scenario.network),
        job=job,
        device_slowdown=scenario.device.slowdown,
        server_slowdown=scenario.server.slowdown,
    )


def summarise(config: Configuration, output: RunOutput, percentile: float) -> dict:
    """One summary row (the columns of :data:`SUMMARY_COLUMNS`)."""
    records, stats = output.records, output.stats
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


def _frame_table(config: Configuration, records: list[FrameRecord]) -> pd.DataFrame:
    table = pd.DataFrame([r.row() for r in records])
    if table.empty:
        table = pd.DataFrame(columns=list(FRAME_COLUMNS))
    table.insert(0, "config", config.id)
    table.insert(1, "mode", config.mode)
    table.insert(2, "split", config.split)
    table.insert(3, "compression", config.compression)
    return table[list(FRAME_COLUMNS)]


def _workload(scenario, frames: int | None) -> WorkloadParams:
    wl = scenario.workload
    return WorkloadParams(
        arrival=wl.arrival,
        frames=frames or wl.frames,
        rate=wl.rate,
        trace=read_trace(wl.trace) if wl.arrival == "trace" else None,
        deadline=wl.deadline,
        result_size=wl.result_size,
    )


def _profile_meta(profile: Profile, spec, prefer: str) -> dict:
    other = "gpu" if prefer == "cpu" else "cpu"
    return {
        "hardware": profile.hardware,
        "slowdown": spec.slowdown,
        "scaled": spec.slowdown != 1.0,
        "measured_on": profile.meta.get(prefer) or profile.meta.get(other),
    }


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
        A :class:`Result`; nothing is written (``splitetimpera.results.write_result`` does).
    """
    started = time.perf_counter()
    device_profile, server_profile = _profiles(scenario)
    accuracy = load_accuracy(scenario)
    splits = _splits(scenario, device_profile)
    configs = plan(scenario, device_profile, accuracy, splits)
    if only is not None:
        known = {c.id for c in configs}
        unknown = [o for o in only if o not in known]
        if unknown:
            raise SeiError(
                f"no configuration {unknown[0]!r}; this scenario has {', '.join(sorted(known))}"
            )
        configs = [c for c in configs if c.id in only]
    workload = _workload(scenario, frames)
    rows, tables = [], []
    packets = 0
    for i, config in enumerate(configs):
        output = run_configuration(
            _run_spec(scenario, config, device_profile, server_profile, workload)
        )
        packets += output.stats["packets"]
        rows.append(summarise(config, output, scenario.qos.percentile))
        tables.append(_frame_table(config, output.records))
        if progress is not None:
            progress(i + 1, len(configs), config.id)
    summary = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    frames_table = (
        pd.concat(tables, ignore_index=True)
        if tables
        else pd.DataFrame(columns=list(FRAME_COLUMNS))
    )
    qos = match(summary, scenario.qos)
    meta = {
        "sei_version": __version__,
        "python": platform.python_version(),
        "simpy": simpy.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "seed": scenario.seed,
        "fidelity": scenario.network.fidelity,
        "frames_per_device": workload.frames,
        "wall_time_s": time.perf_counter() - started,
        "packets_simulated": packets,
        "splits": splits,
        "split_method": scenario.splits.method,
        "accuracy_source": accuracy.source,
        "device_profile": _profile_meta(device_profile, scenario.device, "cpu"),
        "server_profile": _profile_meta(server_profile, scenario.server, "gpu"),
    }
    return Result(scenario, configs, frames_table, qos.table, qos, meta)
