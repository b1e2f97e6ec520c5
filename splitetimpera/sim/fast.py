"""Fast fidelity: per-frame transfers drawn from distributions the packet model computes.

With ``network.fidelity: fast`` a frame's uplink and downlink transfers are not simulated
packet by packet. For each (link, transport, payload, arrival pattern) the packet model
runs :data:`FAST_REPS` messages once, sent as the application sends them: one connection
(or socket) carrying a message every ``gap`` seconds (periodic or Poisson) without waiting
for the previous one, so that a message delayed by a loss holds up the next ones and a
lost tail is recovered by the data behind it, exactly as on the real connection. The
per-message outcomes (latency, bytes, packets, retransmissions, lost or not) are cached in
memory and on disk (keyed by the simulator's source too, so a changed model is not
reused), and each frame draws one of them. Devices still share the link: a frame's data
cannot leave before the link has serialised what other devices queued ahead of it.

What is lost against ``packet``: the correlation between successive frames of one
connection (a draw is independent of the previous frame's) and packet-level interleaving
between devices. Both matter only when the link is loaded, so fast fidelity is used only
where the offered load of the frames stays below :data:`FAST_MAX_LOAD` of the link rate
(:func:`fast_refusal`); above it a configuration is simulated packet by packet and says
so. ``tests/test_fidelity.py`` checks every shipped scenario in both fidelities.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import simpy

from ..store import BoundedCache, cache_dir, cache_key, source_version, write_parquet
from .channel import IP_TCP_HEADER, IP_UDP_HEADER, Channel, LinkParams
from .frames import FrameRecord
from .tcp import SYN_BYTES
from .transfer import TransferSetup, testbed
from .transport import Transport, TransportParams

__all__ = [
    "FastTransport",
    "FAST_REPS",
    "FAST_MAX_LOAD",
    "STREAM_COLUMNS",
    "StreamSetup",
    "measure_stream",
    "stream_table",
    "overload",
    "data_wire",
    "cliff",
    "stream_setups",
]

log = logging.getLogger(__name__)

#: Messages simulated per (link, payload, arrival pattern) to build a distribution.
FAST_REPS = 400

#: Offered load (share of a link's rate the frames need) above which a configuration is
#: simulated packet by packet: past it, queueing between devices and between a
#: connection's own frames dominates, and independent draws no longer reproduce it.
FAST_MAX_LOAD = 0.3

# A percentile is on a cliff when moving its probability by _CLIFF_Z sampling standard
# errors moves its value by more than _CLIFF_SPREAD (the agreement fast must keep).
_CLIFF_Z = 1.5
_CLIFF_SPREAD = 0.05

#: Tables kept in memory (a study's worker reuses them across points); bounded.
_MEMORY: BoundedCache[pd.DataFrame] = BoundedCache(64)

STREAM_COLUMNS: dict[str, str] = {
    "message": "message index",
    "payload_bytes": "application bytes of the message",
    "latency": "from handing the message over to its last byte at the receiver (s); NaN when lost",
    "ok": "False when the message was lost",
    "data_wire_bytes": "bytes the message's data segments put on the link, headers and "
    "retransmissions included",
    "wire_bytes": "bytes charged to the message in both directions (ACKs, handshake)",
    "packets": "packets charged to the message, both directions",
    "retransmissions": "retransmitted data packets of the message",
}


@dataclass(frozen=True)
class StreamSetup:
    """A stream of messages over one connection.

    Attributes:
        protocol: a transport name.
        payload: application bytes per message.
        link: the data direction's parameters.
        reverse: the ACK direction's parameters.
        transport: transport settings (``persistent`` or ``per-frame`` connections).
        gap: mean seconds between one connection's messages (0: all at once).
        poisson: exponential gaps of mean ``gap`` instead of exactly ``gap``.
        devices: connections sharing the link, each with its own stream, started at a
            uniformly random phase as the simulation's devices are.
        sizes: measured frame sizes (bytes); given, each message draws its size from them
            (``payload`` is then their mean), and the table keeps each message's size.
    """

    protocol: str
    payload: int
    link: LinkParams
    reverse: LinkParams
    transport: TransportParams
    gap: float
    poisson: bool = False
    devices: int = 1
    sizes: tuple[int, ...] = ()


def data_wire(setup: StreamSetup, retransmissions: int = 0, payload: int | None = None) -> int:
    """Bytes of a message's data segments on the link (its ACKs excluded)."""
    payload = setup.payload if payload is None else payload
    header = IP_TCP_HEADER if setup.protocol == "tcp" else IP_UDP_HEADER
    per_packet = setup.link.mtu - header
    segments = math.ceil(payload / per_packet)
    overhead = header + setup.link.overhead
    return payload + segments * overhead + retransmissions * (per_packet + overhead)


def measure_stream(setup: StreamSetup, reps: int, seed: int) -> pd.DataFrame:
    """Send about ``reps`` messages, spread over the devices, as the application does; one
    row each (:data:`STREAM_COLUMNS`)."""
    if reps <= 0:
        raise ValueError(f'"reps" must be > 0, got {reps}.')
    transfer = TransferSetup(
        setup.protocol, setup.payload, setup.link, setup.reverse, setup.transport
    )
    env, _, transports = testbed(transfer, seed, setup.devices)
    per_device = math.ceil(reps / setup.devices)
    rng = np.random.default_rng(seed)
    rows: list[dict] = []

    def message(transport, index: int):
        record = FrameRecord(device=transport.device, frame=index, t_gen=env.now)
        size = int(rng.choice(setup.sizes)) if setup.sizes else setup.payload
        ok = yield transport.send("up", size, record)
        transport.close(record)
        rows.append(
            {
                "message": len(rows),
                "payload_bytes": size,
                "latency": env.now - record.t_gen if ok else math.nan,
                "ok": bool(ok),
                "data_wire_bytes": data_wire(setup, record.retransmissions, size),
                "wire_bytes": record.wire_bytes,
                "packets": record.packets,
                "retransmissions": record.retransmissions,
            }
        )

    def source(transport, gaps: np.ndarray):
        if setup.protocol == "tcp" and setup.transport.connection == "persistent":
            yield transport.persistent.established
        for index, wait in enumerate(gaps):
            if wait > 0:
                yield env.timeout(wait)
            env.process(message(transport, index))

    for transport in transports:
        gaps = (
            rng.exponential(setup.gap, per_device)
            if setup.poisson
            else np.full(per_device, setup.gap)
        )
        gaps[0] = rng.uniform(0.0, setup.gap) if setup.devices > 1 else 0.0
        env.process(source(transport, gaps))
    env.run()
    return pd.DataFrame(rows, columns=list(STREAM_COLUMNS))


def _key(setup: StreamSetup, reps: int, seed: int) -> str:
    return cache_key(
        {"v": 3, "setup": repr(setup), "reps": reps, "seed": seed, "sim": source_version("sim")},
        24,
    )


def stream_table(setup: StreamSetup, reps: int = FAST_REPS, seed: int = 0) -> pd.DataFrame:
    """Outcomes of ``reps`` messages, from memory, the disk cache, or the packet model."""
    key = _key(setup, reps, seed)
    return _MEMORY.get(key, lambda: _from_disk(key, setup, reps, seed))


def _from_disk(key: str, setup: StreamSetup, reps: int, seed: int) -> pd.DataFrame:
    path = cache_dir("streams") / f"{key}.parquet"
    if path.is_file():
        try:
            return pd.read_parquet(path)
        except Exception:  # a damaged cache entry is recomputed
            log.warning("ignoring unreadable cache entry %s", path)
    table = measure_stream(setup, reps, seed)
    write_parquet(table, path)
    return table


def overload(setups: dict[str, StreamSetup], frames_per_second: float) -> str | None:
    """Why the frames load a link too much for independent draws, or None.

    Args:
        setups: the ``up`` and ``down`` streams (:func:`stream_setups`).
        frames_per_second: frames each device sends.
    """
    for direction, setup in setups.items():
        load = setup.devices * frames_per_second * data_wire(setup) / setup.link.rate
        if load > FAST_MAX_LOAD:
            return f"{direction}link load {load:.0%} > {FAST_MAX_LOAD:.0%}"
    return None


def cliff(latency: np.ndarray, percentiles, frames: int, table_size: int) -> str | None:
    """Which percentile sits on a cliff of the latency distribution, or None.

    A percentile p estimated from ``frames`` frames (and a table of ``table_size`` draws)
    is only known to within about ``z * sqrt(p (1 - p) (1/frames + 1/table_size))`` in
    probability. Where the distribution is bimodal (a lost tail segment costs a timer
    while most frames cost a few milliseconds) and p falls between the modes, that small
    uncertainty moves the percentile a lot, in both fidelities; fast fidelity then cannot
    reproduce the packet model's estimate, and is not used.

    Args:
        latency: per-frame latencies (s) as fast fidelity would draw them.
        percentiles: the percentiles (0-100) that must be reproduced.
        frames: frames in the run.
        table_size: draws the table holds.
    """
    for p in percentiles:
        q = p / 100.0
        spread = _CLIFF_Z * math.sqrt(q * (1 - q) * (1 / frames + 1 / table_size))
        lo, mid, hi = np.quantile(latency, [max(q - spread, 0.0), q, min(q + spread, 1.0)])
        if mid > 0 and (hi - lo) / mid > _CLIFF_SPREAD:
            return f"p{p:g} on a cliff ({lo * 1e3:.3g}-{hi * 1e3:.3g} ms within sampling error)"
    return None


class _Draws:
    """A table of message outcomes as arrays, drawn by index."""

    def __init__(self, table: pd.DataFrame):
        self.payload = table["payload_bytes"].to_numpy(np.int64)
        self.latency = table["latency"].fillna(0.0).to_numpy(float)
        self.ok = table["ok"].to_numpy(bool)
        self.data_wire = table["data_wire_bytes"].to_numpy(np.int64)
        self.wire = table["wire_bytes"].to_numpy(np.int64)
        self.packets = table["packets"].to_numpy(np.int64)
        self.retx = table["retransmissions"].to_numpy(np.int64)
        self.n = len(table)

    @property
    def mean_data_wire(self) -> float:
        return float(self.data_wire.mean())


def stream_setups(
    protocol: str,
    uplink: LinkParams,
    downlink: LinkParams,
    params: TransportParams,
    payload: int,
    result_size: int,
    gap: float,
    poisson: bool,
    devices: int,
    sizes: tuple[int, ...] = (),
) -> dict[str, StreamSetup]:
    """The uplink streams (frames) and the downlink streams (results) of the devices."""
    return {
        "up": StreamSetup(
            protocol, max(payload, 1), uplink, downlink, params, gap, poisson, devices, sizes
        ),
        # results go back on the frame's connection, already open
        "down": StreamSetup(
            protocol, result_size, downlink, uplink, replace(params, connection="persistent"),
            gap, poisson, devices,
        ),
    }  # fmt: skip


class FastTransport(Transport):
    """A transport whose messages are drawn from packet-model stream measurements.

    Args:
        env: the simulation environment.
        channel: the shared channel (its links keep the per-frame contention state).
        params: transport settings.
        device: the device served.
        rng: the transport's random stream (which measured message a frame gets).
        tables: ``{"up": table, "down": table}`` of :func:`stream_table`.
        handshake: the device opens a persistent TCP connection at time 0 (its SYN and
            SYN-ACK wake the radio then, as they do at packet level).
    """

    name = "fast"

    def __init__(
        self, env, channel: Channel, params, device, rng, *, tables: dict, handshake=False
    ):
        super().__init__(env, channel, params, device, rng)
        self.draws = {direction: _Draws(table) for direction, table in tables.items()}
        self.handshake = handshake
        for link in (channel.up, channel.down):
            if not hasattr(link, "fast_free"):
                link.fast_free = 0.0

    def start(self) -> None:
        """Tell the radio of the persistent connection's handshake at time 0: the streams
        were measured on open connections, but at packet level these two packets promote
        the radio (without delaying a frame), and fast fidelity must find it as awake."""
        if not self.handshake or self.radio is None:
            return
        up, down = self.channel.up, self.channel.down
        syn, syn_ack = SYN_BYTES + up.overhead, SYN_BYTES + down.overhead
        self.radio.up(0.0, syn / up.rate, syn, None)
        arrival = syn / up.rate + up.delay + syn_ack / down.rate + down.delay
        self.radio.down(arrival - syn_ack / down.rate, arrival, syn_ack, None)

    def send(self, direction: str, nbytes: int, record: FrameRecord) -> simpy.Event:
        draws = self.draws[direction]
        i = int(self.rng.integers(draws.n))
        if direction == "up":  # a measured frame: its size and its transfer go together
            record.payload_bytes = int(draws.payload[i])
        link = self.channel.link(direction)
        now = self.env.now
        # other devices' frames queued ahead on the shared link delay this one's data
        start = link.fast_free if link.fast_free > now else now
        serialised = start + draws.data_wire[i] / link.rate
        link.fast_free = serialised
        if link.monitor is not None:
            link.monitor.sent(start, serialised, None, now)
        link.packets += int(draws.packets[i])
        link.bytes += int(draws.data_wire[i])
        done_at = max(now + draws.latency[i], serialised + link.delay)
        if self.radio is not None:
            # the whole transfer counts as transfer time: its packets are not drawn
            data = int(draws.data_wire[i])
            rest = max(int(draws.wire[i]) - data, 0)  # ACKs and handshake
            up, down = (data, rest) if direction == "up" else (rest, data)
            self.radio.transfer_done(start, done_at, up, down, record)
        record.wire_bytes += int(draws.wire[i])
        record.packets += int(draws.packets[i])
        record.retransmissions += int(draws.retx[i])
        return self.env.timeout(done_at - now, bool(draws.ok[i]))
