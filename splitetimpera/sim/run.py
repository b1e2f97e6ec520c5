"""Build, connect, run and collect one configuration, from plain parameters.

:func:`run_configuration` builds a fresh SimPy environment with the devices, the shared
channel, one transport per device and the server, runs every frame to its end, and
returns the frame records and the entities' statistics. Everything it needs arrives in a
:class:`RunSpec` of plain numbers, arrays and link parameters: the kernel knows nothing
of scenarios, profiles or models (:mod:`splitetimpera.pipeline` translates them).

Every run with the same seed uses the same named random streams, so configurations see
the same arrivals and the same loss pattern (common random numbers).

Energy (when the spec carries power models): each frame's compute energy is the board's
active power times its device time; each device's radio (:mod:`.radio`) follows that
device's packets; LC keeps its radio off (it sends nothing). A device's accounting window
runs from 0 to one mean inter-arrival gap after its last frame, the steady state of the
workload: the board idles over the window when not computing, and the last frame's tail
is cut where the next frame would have come.

A run-time policy (``spec.chooser``, :class:`~.params.Chooser`) picks each frame's
configuration among ``spec.alternatives`` when the frame is generated; the frame then runs
that configuration's head, payload and tail, and the policy hears of its uplink transfer.

A frame's life (METHODS section 5): generated -> waits for its device -> head (+ encoding)
-> uplink transfer -> waits for a server worker -> (decoding +) tail -> result over the
downlink. LC runs the whole model on the device; RC sends the input; SC splits; EE runs
the head to an exit branch and finishes there with probability ``exit_rate``, otherwise
continues as SC at that split.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import simpy

from .channel import Channel, LinkMonitor
from .compute import LatencySampler
from .device import Device
from .fast import FAST_REPS, FastTransport, cliff, overload, stream_setups, stream_table
from .frames import FrameRecord
from .params import RunSpec
from .protocols import make_transport
from .radio import Radio
from .server import Server
from .streams import Streams
from .workload import arrival_times, source

__all__ = ["RunOutput", "run_configuration", "SETTLE_TIME"]

#: Simulated seconds the run continues after the last frame is generated; a frame not
#: back by then is lost with reason "timeout".
SETTLE_TIME = 300.0


@dataclass
class RunOutput:
    """Frame records (sorted by generation time) and the entities' statistics."""

    records: list[FrameRecord]
    stats: dict


def _fast_tables(spec: RunSpec) -> tuple[dict | None, str]:
    """The stream tables fast fidelity draws from, or None and why packets are needed."""
    net, wl = spec.network, spec.workload
    if wl.arrival == "trace":
        times = np.asarray(wl.trace[: wl.frames], dtype=float)
        gap = float(np.mean(np.diff(times))) if times.size > 1 else 0.0
    else:
        gap = 1.0 / wl.rate
    setups = stream_setups(
        net.protocol, net.uplink, net.downlink, net.transport, spec.job.payload_bytes,
        wl.result_size, gap, wl.arrival == "poisson", spec.devices,
        tuple(int(b) for b in spec.job.payload_samples),
    )  # fmt: skip
    refusal = overload(setups, 1.0 / gap if gap > 0 else math.inf)
    if refusal:  # decided before measuring anything
        return None, refusal
    tables = {direction: stream_table(setup, seed=spec.seed) for direction, setup in setups.items()}
    refusal = cliff(
        _frame_latencies(spec, tables), net.percentiles, spec.devices * wl.frames, FAST_REPS
    )
    return (None, refusal) if refusal else (tables, "")


def _frame_latencies(spec: RunSpec, tables: dict, draws: int = 20_000) -> np.ndarray:
    """End-to-end latencies as fast fidelity makes them: independent draws of head, uplink,
    tail and downlink (queueing aside), for judging how well its percentiles are known."""
    job = spec.job
    rng = np.random.default_rng(spec.seed)
    up = tables["up"]["latency"].dropna().to_numpy(float)
    down = tables["down"]["latency"].dropna().to_numpy(float)
    if up.size == 0 or down.size == 0:
        return np.zeros(1)
    return (
        (rng.choice(job.head_samples, draws) + job.encode_s) * spec.device_slowdown
        + (rng.choice(job.tail_samples, draws) + job.decode_s) * spec.server_slowdown
        + rng.choice(up, draws)
        + rng.choice(down, draws)
    )


def _transports(spec: RunSpec, env, channel, streams: Streams) -> tuple[list, str]:
    """One transport per device, and why packet fidelity replaced fast (or "")."""
    net = spec.network
    if net.fidelity == "fast" and (net.uplink.trace is not None or net.downlink.trace is not None):
        raise ValueError(
            "fast fidelity draws transfers from a constant-rate link and cannot follow a "
            "trace; use fidelity: packet"
        )
    if net.fidelity == "fast" and spec.chooser is not None:
        refusal = "a policy chooses per frame: its frames are simulated packet by packet"
        return _packet_transports(spec, env, channel, streams), refusal
    tables, refusal = _fast_tables(spec) if net.fidelity == "fast" else (None, "")
    if tables is not None:
        # a persistent TCP connection opens at 0: its handshake wakes the radio there
        handshake = net.protocol == "tcp" and net.transport.connection == "persistent"
        built = [
            FastTransport(
                env,
                channel,
                net.transport,
                d,
                streams.get(f"transport/{d}"),
                tables=tables,
                handshake=handshake,
            )
            for d in range(spec.devices)
        ]
        return built, ""
    return _packet_transports(spec, env, channel, streams), refusal


def _packet_transports(spec: RunSpec, env, channel, streams: Streams) -> list:
    net = spec.network
    return [
        make_transport(net.protocol, env, channel, net.transport, d, streams.get(f"transport/{d}"))
        for d in range(spec.devices)
    ]


def run_configuration(spec: RunSpec) -> RunOutput:
    """Simulate one configuration; see the module docstring."""
    streams = Streams(spec.seed)
    env = simpy.Environment()
    wl = spec.workload
    jobs, chooser = spec.jobs, spec.chooser
    local_only = all(j.mode == "LC" for j in jobs)
    count = spec.devices
    channel = None
    transports: list = []
    packets_instead = ""
    if not local_only:
        channel = Channel(
            env, spec.network.uplink, spec.network.downlink,
            streams.get("link/up"), streams.get("link/down"),
        )  # fmt: skip
        transports, packets_instead = _transports(spec, env, channel, streams)
        channel.up.monitor, channel.down.monitor = LinkMonitor(), LinkMonitor()
    energy = spec.energy
    radios: list[Radio] = []
    if energy.radio is not None and not local_only:
        radios = [Radio(env, energy.radio) for _ in range(count)]
        for transport, radio in zip(transports, radios):
            transport.radio = radio
    active_w = energy.active_w
    # LC's radio stays off: nothing of its frames is on the air
    radio_start = 0.0 if (radios or local_only) else math.nan
    devices = [Device(env, d) for d in range(count)]
    server = Server(env, spec.workers)
    records: list[FrameRecord] = []
    head_draws: list[float] = []
    tail_draws: list[float] = []
    # one sampler per (configuration, device); a device's configurations share its
    # streams, so a static run draws exactly as before
    head_rngs = [streams.get(f"device/{d}/head") for d in range(count)]
    tail_rng = streams.get("server/tail")
    head = [
        [LatencySampler(j.head_samples, spec.device_slowdown, head_rngs[d]) for d in range(count)]
        for j in jobs
    ]
    tail = [LatencySampler(j.tail_samples, spec.server_slowdown, tail_rng) for j in jobs]
    exits = [streams.get(f"device/{d}/exit") for d in range(count)]
    encode = [j.encode_s * spec.device_slowdown for j in jobs]
    decode = [j.decode_s * spec.server_slowdown for j in jobs]
    branch = [j.branch_s * spec.device_slowdown for j in jobs]
    measured = any(j.payload_samples.size for j in jobs)
    payload_rngs = [streams.get(f"payload/{d}") for d in range(count)] if measured else []

    def payload(d: int, k: int) -> int:
        """This frame's bytes: a measured real frame's, or the configuration's constant."""
        sizes = jobs[k].payload_samples
        if not sizes.size:
            return jobs[k].payload_bytes
        return int(sizes[payload_rngs[d].integers(sizes.size)])

    def life(record: FrameRecord):
        d = record.device
        k = 0
        if chooser is not None:
            k, record.estimate_bps = chooser.choose(record, env.now)
            record.choice = k
        job = jobs[k]
        seconds = head[k][d]() + encode[k] + branch[k]
        head_draws.append(seconds)
        if active_w is not None:
            record.energy_compute = active_w * seconds
        yield from devices[d].run(record, seconds)
        if job.mode == "LC":
            record.finish(env.now)
            return
        if job.mode == "EE" and exits[d].random() < job.exit_rate:
            record.exited = True
            record.finish(env.now)
            return
        record.payload_bytes = payload(d, k)
        if radios:
            wait = radios[d].wake(record)  # an idle radio promotes before it can send
            if wait > 0:
                yield env.timeout(wait)
        sent_at = env.now
        if chooser is not None:
            chooser.sent(record, "up", record.payload_bytes, sent_at)
        ok = yield transports[d].send("up", record.payload_bytes, record)
        if chooser is not None:
            done = record.payload_bytes if ok else 0
            chooser.observe(record, "up", done, env.now - sent_at, env.now)
            if ok:
                chooser.sent(record, "down", wl.result_size, env.now)
        if not ok:
            transports[d].close(record)
            record.lose("uplink loss")
            return
        record.t_up_end = env.now
        seconds = tail[k]() + decode[k]
        tail_draws.append(seconds)
        yield from server.run(record, seconds)
        ok = yield transports[d].send("down", wl.result_size, record)
        if chooser is not None:
            done = wl.result_size if ok else 0
            chooser.observe(record, "down", done, env.now - record.t_up_end, env.now)
        if not ok:
            record.lose("downlink loss")
            return
        record.finish(env.now)

    def start(record: FrameRecord) -> None:
        record.energy_radio = record.energy_tail = radio_start
        records.append(record)
        env.process(life(record))

    last_gen = 0.0
    windows: list[float] = []
    for d in range(count):
        times = arrival_times(
            wl.arrival, wl.frames, streams.get(f"workload/{d}"),
            rate=wl.rate, trace=wl.trace, random_phase=count > 1,
        )  # fmt: skip
        last_gen = max(last_gen, float(times[-1]))
        windows.append(float(times[-1]) + _mean_gap(wl, times))
        env.process(source(env, d, times, wl.deadline, start))
    for t in transports:
        t.start()
    if chooser is not None:
        chooser.bind(env, channel)
    env.run(until=last_gen + SETTLE_TIME)
    for radio, window in zip(radios, windows):
        radio.close(window)
    for record in records:
        if not record.status:
            record.lose("timeout")
    records.sort(key=lambda r: (r.t_gen, r.device, r.frame))
    stats = {
        "span": _span(records),
        "device_busy": sum(d.busy for d in devices),
        "server_busy": server.busy,
        "workers": server.workers,
        "devices": count,
        "packets": (channel.up.packets + channel.down.packets) if channel else 0,
        "link_lost": (channel.up.lost + channel.down.lost) if channel else 0,
        "link_dropped": (channel.up.dropped + channel.down.dropped) if channel else 0,
        "head_mean": float(np.mean(head_draws)) if head_draws else 0.0,
        "tail_mean": float(np.mean(tail_draws)) if tail_draws else 0.0,
        "fidelity": "packet" if packets_instead or spec.network.fidelity == "packet" else "fast",
        "fidelity_note": packets_instead,
        "links": {"up": channel.up.monitor.bins(), "down": channel.down.monitor.bins()}
        if channel
        else {},
        "energy": _energy(spec, devices, radios, windows),
    }
    return RunOutput(records, stats)


def _mean_gap(wl, times: np.ndarray) -> float:
    """Seconds between a device's frames on average: the period of its steady state."""
    if wl.arrival != "trace":
        return 1.0 / wl.rate
    return float(np.mean(np.diff(times))) if times.size > 1 else 0.0


def _energy(spec: RunSpec, devices: list[Device], radios: list[Radio], windows) -> dict:
    """The run's energy account, all devices together (J; NaN where a model is missing)."""
    energy = spec.energy
    nan = math.nan
    board = energy.active_w is not None
    compute = sum(d.busy for d in devices) * energy.active_w if board else nan
    board_idle = (
        sum(energy.idle_w * max(w - d.busy, 0.0) for d, w in zip(devices, windows))
        if board
        else nan
    )
    if radios:
        transfer = sum(r.transfer for r in radios)
        tail = sum(r.tail for r in radios)
        radio_idle = sum(r.idle for r in radios)
        unowned = sum(r.unowned for r in radios)
        promotions = sum(r.promotions for r in radios)
    elif all(j.mode == "LC" for j in spec.jobs):
        transfer = tail = radio_idle = unowned = 0.0
        promotions = 0
    else:
        transfer = tail = radio_idle = unowned = nan
        promotions = 0
    return {
        "compute": compute,
        "transfer": transfer,
        "tail": tail,
        "idle": board_idle + radio_idle,
        "board_idle": board_idle,
        "radio_idle": radio_idle,
        "unowned": unowned,
        "promotions": promotions,
        "window": float(sum(windows)),
    }


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
