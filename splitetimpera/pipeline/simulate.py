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
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import simpy

from .. import __version__, power
from ..accuracy import AccuracyTable, load_accuracy
from ..errors import SeiError
from ..profiles import Profile, load_profile
from ..qos import QosResult, match
from ..scenario import LinkTraceSpec
from ..selectors import Selection, needs_isplit, select_splits
from ..sim.channel import BurstyLoss, LinkParams
from ..sim.frames import FRAME_COLUMNS, FrameRecord
from ..sim.params import EnergyParams, JobParams, NetworkParams, RunSpec, WorkloadParams
from ..sim.radio import RadioParams
from ..sim.run import RunOutput, run_configuration
from ..sim.streams import Streams
from ..sim.trace import Capacity, TraceParams
from ..sim.transport import TransportParams
from ..sim.workload import read_trace
from ..stats import bootstrap_intervals, bootstrap_mean
from ..tables import find_isplit_table, find_payload
from .plan import Configuration, measured_pairs, not_applicable, plan
from .policy import bounds, candidates, make_policy, policy_configuration, policy_names

__all__ = [
    "SUMMARY_COLUMNS",
    "LINK_COLUMNS",
    "Result",
    "Inputs",
    "inputs",
    "simulate",
    "summarise",
    "network_params",
    "trace_params",
    "energy_params",
    "isplit_for",
]

#: Latency columns that get a confidence interval, and their percentile (None: the QoS one).
_INTERVALS = {"latency_p50": 50.0, "latency_p95": 95.0, "latency_p99": 99.0, "latency_qos": None}

#: Columns of summary.csv (one row per configuration).
SUMMARY_COLUMNS: dict[str, str] = {
    "config": "configuration id (LC, RC, RC+int8, SC@features.9, SC@features.9+int8, EE@...)",
    "mode": "LC, RC, SC or EE",
    "split": "split point ('output' for LC, 'input' for RC)",
    "compression": "the codec of what is sent (`sei codecs`)",
    "payload_bytes": "application bytes sent uplink per frame (the mean, when each frame "
    "draws a measured size)",
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
    "fidelity": "network model of this configuration: packet, or fast (where fast would "
    "not reproduce packet, packet instead: run.json says why)",
    "energy_per_frame": "device energy per frame generated (J): energy_compute + "
    "energy_radio + energy_tail + energy_idle; NaN without the power models it needs",
    "energy_compute": "the board's active power x its compute time, per frame (J)",
    "energy_radio": "radio transfer energy per frame (J): transfer power while the device's "
    "packets are on the air (and gaps within one frame's transfer), plus per-bit energy; "
    "0 for LC (its radio stays off)",
    "energy_tail": "radio tail and promotion energy per frame (J), the handshake at time 0 "
    "included",
    "energy_idle": "idle energy per frame (J): the board's idle power while not computing "
    "and the radio's idle power, over each device's window (from 0 to one mean "
    "inter-arrival gap after its last frame)",
    "battery_life": "how long device.battery lasts at this workload (s): battery / "
    "(energy of the run / window); NaN without a battery",
    **{
        f"{column}_{end}": f"{'lower' if end == 'lo' else 'upper'} end of the 95 % confidence "
        f"interval of {column} (moving-block bootstrap over the frames)"
        for column in (*_INTERVALS, "deadline_miss", "energy_per_frame")
        for end in ("lo", "hi")
    },
}


#: Columns of links.parquet: each configuration's links over time.
LINK_COLUMNS: dict[str, str] = {
    "config": "configuration id",
    "direction": "up (devices to server) or down",
    "t": "start of the time bin (s)",
    "utilisation": "share of the bin the link spent sending",
    "queue_max": "most packets waiting in the bottleneck queue during the bin (NaN at fast "
    "fidelity, which does not model the queue)",
}

#: Time bins per configuration and direction, at most, in links.parquet.
_LINK_BINS = 400


def _link_table(config: Configuration, links: dict) -> pd.DataFrame:
    parts = []
    for direction, (t, busy, queue) in links.items():
        if t.size == 0:
            continue
        k = max(1, -(-t.size // _LINK_BINS))  # merge bins k at a time
        groups = np.arange(t.size) // k
        frame = pd.DataFrame({"t": t, "utilisation": busy, "queue_max": queue, "g": groups})
        merged = frame.groupby("g").agg(
            t=("t", "first"), utilisation=("utilisation", "mean"), queue_max=("queue_max", "max")
        )
        merged.insert(0, "direction", direction)
        merged.insert(0, "config", config.id)
        parts.append(merged)
    if not parts:
        return pd.DataFrame(columns=list(LINK_COLUMNS))
    return pd.concat(parts, ignore_index=True)[list(LINK_COLUMNS)]


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
        links: each configuration's links over time (:data:`LINK_COLUMNS`).
    """

    scenario: object
    configurations: list[Configuration]
    frames: pd.DataFrame
    summary: pd.DataFrame
    qos: QosResult
    meta: dict
    links: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(LINK_COLUMNS)))


@dataclass(frozen=True)
class Inputs:
    """What a scenario's run rests on, loaded once: its profiles, accuracy table, the
    candidate splits and every configuration to simulate."""

    device: Profile
    server: Profile
    accuracy: AccuracyTable
    splits: list[str]
    configurations: list[Configuration]


def inputs(scenario) -> Inputs:
    """Load what ``scenario``'s run needs (the I-SPLIT table and the payload measurements
    from disk, or computed now)."""
    device, server = _profiles(scenario)
    accuracy = load_accuracy(scenario)
    splits = _splits(scenario, device)
    payloads = payloads_for(scenario, measured_pairs(scenario, splits))
    configurations = plan(scenario, device, accuracy, splits, payloads)
    return Inputs(device, server, accuracy, splits, configurations)


def payloads_for(scenario, pairs: list[tuple[str, str]], progress=None) -> dict:
    """Payload measurements of ``pairs`` (split, codec): from disk, or (torch) measured on
    real images and cached now."""
    found = {pair: find_payload(scenario, *pair) for pair in pairs}
    missing = [pair for pair, record in found.items() if record is None]
    if missing:
        from ..interpret.payloads import payload_records

        found.update(payload_records(scenario, missing, progress=progress))
    return found


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


def trace_params(link) -> TraceParams | None:
    """The kernel's plain parameters of a traced link (None for a constant rate)."""
    if not isinstance(link, LinkTraceSpec):
        return None
    parsed = link.parsed
    return TraceParams(
        kind=parsed.kind,
        times=parsed.times,
        period=parsed.period,
        rates=parsed.rates,
        start=link.start,
        scale=link.scale,
    )


def capacity_over_time(network, span: float, width: float = 1.0) -> dict | None:
    """What a traced network could carry in each ``width``-second bin from 0 to ``span``
    (bit/s per direction), for the report's timeline; None for constant links."""
    if not network.traced:
        return None
    edges = np.arange(0.0, span + width, width)
    out: dict = {"t": edges[:-1].tolist(), "width_s": width}
    for key, link in (("up_bps", network.bandwidth), ("down_bps", network.downlink_link)):
        trace = trace_params(link)
        if trace is None:
            out[key] = [float(link) * 8.0] * (len(edges) - 1)
            continue
        capacity = Capacity(trace)
        positions = np.array([capacity.position(t) for t in edges])
        out[key] = (np.diff(positions) * 8.0 / width).tolist()
    return out


def network_params(network, percentiles: tuple[float, ...] = (50.0, 95.0)) -> NetworkParams:
    """The kernel's plain parameters of a scenario's ``network`` section (``percentiles``:
    those fast fidelity must reproduce)."""
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
        uplink=LinkParams(
            rate=network.uplink_rate, trace=trace_params(network.bandwidth), **common
        ),
        downlink=LinkParams(
            rate=network.downlink_rate, trace=trace_params(network.downlink_link), **common
        ),
        protocol=network.protocol,
        transport=TransportParams(connection=network.connection, congestion=network.congestion),
        fidelity=network.fidelity,
        percentiles=percentiles,
    )


def energy_params(scenario) -> EnergyParams:
    """The kernel's plain power parameters of a scenario's ``device.power``,
    ``network.radio`` and ``device.battery`` (what is not given stays None)."""
    board = power.device_power(scenario.device.power) if scenario.device.power else None
    model = power.radio(scenario.network.radio) if scenario.network.radio else None
    radio = None
    if model is not None:
        promotion, tail = model.promotion, model.tail
        radio = RadioParams(
            base=model.transfer.base,
            # watts per Mbit/s of throughput are joules per Mbit on the air
            up_per_bit=model.transfer.up_per_mbps / 1e6,
            down_per_bit=model.transfer.down_per_mbps / 1e6,
            promotion_s=promotion.duration if promotion else 0.0,
            promotion_w=promotion.power if promotion else 0.0,
            tail_s=tail.duration if tail else 0.0,
            tail_w=tail.power if tail else 0.0,
            idle_w=model.idle,
        )
    return EnergyParams(
        idle_w=board.idle if board else None,
        active_w=board.active if board else None,
        radio=radio,
        battery_j=scenario.device.battery,
    )


def _run_spec(
    scenario, config: Configuration, device: Profile, server: Profile, workload: WorkloadParams
) -> RunSpec:
    head = device.latency_samples(config.split, "head") if config.mode != "RC" else [0.0]
    tail = server.latency_samples(config.split, "tail") if config.mode != "LC" else [0.0]
    job = JobParams(
        mode=config.mode,
        payload_bytes=config.payload_bytes,
        payload_samples=np.asarray(config.payload_samples, dtype=np.int64),
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
        network=network_params(
            scenario.network, tuple(sorted({50.0, 95.0, scenario.qos.percentile}))
        ),
        job=job,
        device_slowdown=scenario.device.slowdown,
        server_slowdown=scenario.server.slowdown,
        energy=energy_params(scenario),
    )


def _run_policy(
    name: str, scenario, choosable: list[Configuration], device: Profile, server: Profile, workload
) -> tuple[Configuration, RunOutput]:
    """One run in which policy ``name`` chooses each frame's configuration among
    ``choosable``; its summary row's description and the run's output."""
    specs = [_run_spec(scenario, c, device, server, workload) for c in choosable]
    spec = replace(
        specs[0],
        alternatives=tuple(s.job for s in specs),
        chooser=make_policy(name, scenario, choosable, specs),
    )
    output = run_configuration(spec)
    return policy_configuration(name, choosable, output.records), output


def _intervals(config: Configuration, records, percentile: float, seed: int) -> dict:
    """The summary's confidence-interval columns for one configuration."""
    latency = np.array(
        [r.t_done - r.t_gen if r.status != "lost" else math.nan for r in records], dtype=float
    )
    missed = np.array([r.status != "delivered" for r in records])
    wanted = {column: (p if p is not None else percentile) for column, p in _INTERVALS.items()}
    found = bootstrap_intervals(
        latency, missed, sorted(set(wanted.values())), Streams(seed).get(f"stats/{config.id}")
    )
    out = {}
    for column, p in wanted.items():
        out[f"{column}_lo"], out[f"{column}_hi"] = found[f"p{p:g}"]
    out["deadline_miss_lo"], out["deadline_miss_hi"] = found["miss"]
    return out


def _energy_columns(config: Configuration, output: RunOutput, battery: float | None, seed: int):
    """The summary's energy columns (per frame generated) and the interval of their sum."""
    records, account = output.records, output.stats["energy"]
    n = len(records)
    if not n:
        return {column: math.nan for column in _ENERGY_COLUMNS}
    parts = {
        "energy_compute": account["compute"] / n,
        "energy_radio": account["transfer"] / n,
        "energy_tail": account["tail"] / n,
        "energy_idle": account["idle"] / n,
    }
    total = sum(parts.values())
    life = (
        battery * account["window"] / (total * n)
        if battery is not None and total > 0 and account["window"] > 0
        else math.nan
    )
    # per frame: what its own compute and packets cost; the rest (idle, the handshake)
    # is the same for every frame of the run
    per_frame = np.array(
        [r.energy_compute + r.energy_radio + r.energy_tail for r in records], dtype=float
    )
    shared = (account["idle"] + account["unowned"]) / n
    lo, hi = bootstrap_mean(per_frame, Streams(seed).get(f"stats/{config.id}/energy"))
    return {
        "energy_per_frame": total,
        **parts,
        "battery_life": life,
        "energy_per_frame_lo": lo + shared,
        "energy_per_frame_hi": hi + shared,
    }


_ENERGY_COLUMNS = (
    "energy_per_frame",
    "energy_compute",
    "energy_radio",
    "energy_tail",
    "energy_idle",
    "battery_life",
    "energy_per_frame_lo",
    "energy_per_frame_hi",
)


def summarise(
    config: Configuration,
    output: RunOutput,
    percentile: float,
    seed: int = 0,
    battery: float | None = None,
) -> dict:
    """One summary row (the columns of :data:`SUMMARY_COLUMNS`); ``battery`` (J) gives
    the battery life."""
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
        "fidelity": stats["fidelity"],
        **_intervals(config, records, percentile, seed),
        **_energy_columns(config, output, battery, seed),
    }


def _frame_table(
    config: Configuration, records: list[FrameRecord], choices: list[str] | None = None
) -> pd.DataFrame:
    """One row per frame; ``choices``: a policy's alternatives, by the index each frame
    records (None: a static configuration, which every frame used)."""
    table = pd.DataFrame([r.row() for r in records])
    if table.empty:
        table = pd.DataFrame(columns=[*FRAME_COLUMNS, "choice"])
    if choices is None:
        table["used_config"] = config.id
    else:
        table["used_config"] = [choices[i] for i in table["choice"]]
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
        "path": str(profile.path),
        "shipped": profile.shipped,
        "described": profile.describe(),
        "slowdown": spec.slowdown,
        "scaled": spec.slowdown != 1.0,
        "measured_on": profile.meta.get(prefer) or profile.meta.get(other),
    }


def _energy_meta(scenario, profile: Profile) -> dict:
    """Which power models the energy rests on, and what the profile's host drew."""
    board = power.device_power(scenario.device.power) if scenario.device.power else None
    model = power.radio(scenario.network.radio) if scenario.network.radio else None
    return {
        "device_power": board.model_dump(mode="json") if board else None,
        "radio": model.model_dump(mode="json") if model else None,
        "battery_j": scenario.device.battery,
        # the measured host's own power while profiling (RAPL), or why there is none
        "profile_power": profile.meta.get("power", "not measured"),
    }


def simulate(
    scenario,
    *,
    frames: int | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    only: list[str] | None = None,
    on_frames: Callable[[pd.DataFrame], None] | None = None,
) -> Result:
    """Run every configuration of ``scenario``.

    Args:
        scenario: a :class:`~splitetimpera.scenario.Scenario` (see ``load_scenario``).
        frames: frames per device, overriding ``workload.frames``.
        progress: called as ``progress(done, total, config_id)`` after each configuration.
        only: simulate only these configuration ids.
        on_frames: given, each configuration's frame table is handed to it as soon as the
            configuration ends (e.g. to stream it to disk) and not kept: ``Result.frames``
            is then empty.

    Returns:
        A :class:`Result`; nothing is written (``splitetimpera.results.write_result`` does).
    """
    started = time.perf_counter()
    loaded = inputs(scenario)
    device_profile, server_profile = loaded.device, loaded.server
    accuracy, splits, configs = loaded.accuracy, loaded.splits, loaded.configurations
    every = configs
    policies = policy_names(scenario)
    if only is not None:
        known = {c.id for c in configs} | set(policies)
        unknown = [o for o in only if o not in known]
        if unknown:
            raise SeiError(
                f"no configuration {unknown[0]!r}; this scenario has {', '.join(sorted(known))}"
            )
        configs = [c for c in configs if c.id in only]
        policies = [p for p in policies if p in only]
    workload = _workload(scenario, frames)
    rows, tables, links = [], [], []
    packets = 0
    packet_instead: dict[str, str] = {}
    runs = [(config, None) for config in configs] + [(None, name) for name in policies]
    simulated: list[Configuration] = []
    latest = 0.0  # the latest simulated time any run reached
    choosable = candidates(scenario, every) if policies else []
    if policies and not choosable:
        raise SeiError(
            f"policy {policies[0]}: no configuration meets qos.min_accuracy, so there is "
            "nothing to choose among"
        )
    for i, (config, name) in enumerate(runs):
        if name is None:
            output = run_configuration(
                _run_spec(scenario, config, device_profile, server_profile, workload)
            )
            choices = None
        else:
            config, output = _run_policy(
                name, scenario, choosable, device_profile, server_profile, workload
            )
            choices = [c.id for c in choosable]
        simulated.append(config)
        packets += output.stats["packets"]
        latest = max(latest, output.stats["span"])
        if output.stats["fidelity_note"]:
            packet_instead[config.id] = output.stats["fidelity_note"]
        rows.append(
            summarise(
                config, output, scenario.qos.percentile, scenario.seed, scenario.device.battery
            )
        )
        links.append(_link_table(config, output.stats["links"]))
        table = _frame_table(config, output.records, choices)
        if on_frames is not None:
            on_frames(table)
        else:
            tables.append(table)
        if progress is not None:
            progress(i + 1, len(runs), config.id)
    summary = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    frames_table = (
        pd.concat(tables, ignore_index=True)
        if tables
        else pd.DataFrame(columns=list(FRAME_COLUMNS))
    )
    qos = match(summary, scenario.qos, scenario.workload.deadline, bounds(summary))
    meta = {
        "sei_version": __version__,
        "python": platform.python_version(),
        "simpy": simpy.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "seed": scenario.seed,
        "fidelity": scenario.network.fidelity,
        # fast fidelity: the configurations simulated packet by packet instead, and why
        "packet_instead_of_fast": packet_instead,
        "frames_per_device": workload.frames,
        "frames_streamed": on_frames is not None,
        "wall_time_s": time.perf_counter() - started,
        "packets_simulated": packets,
        "splits": splits,
        "split_method": scenario.splits.method,
        "accuracy_source": accuracy.source,
        "codecs_not_applicable": not_applicable(scenario),
        "accuracy_notes": list(accuracy.notes),
        "device_profile": _profile_meta(device_profile, scenario.device, "cpu"),
        "server_profile": _profile_meta(server_profile, scenario.server, "gpu"),
        "energy": _energy_meta(scenario, device_profile),
        "policies": policies,
        "policy_choices": [c.id for c in choosable],
    }
    if scenario.network.traced:
        meta["capacity"] = capacity_over_time(scenario.network, max(latest, 1.0))
    links = [table for table in links if not table.empty]
    links_table = (
        pd.concat(links, ignore_index=True) if links else pd.DataFrame(columns=list(LINK_COLUMNS))
    )
    return Result(scenario, simulated, frames_table, qos.table, qos, meta, links_table)
