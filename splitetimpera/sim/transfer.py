"""One payload over one link, repeated: the transfer-time distribution.

This is what ``sei channel`` reports, and what the fast fidelity level
(:mod:`splitetimpera.sim.fast`) samples from. It drives the same channel and transports as
the full simulation, with one device and nothing else on the link.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import simpy

from .channel import Channel, LinkParams
from .frames import FrameRecord
from .protocols import make_transport
from .streams import Streams
from .transport import TransportParams

__all__ = ["TransferSetup", "measure_transfers", "testbed", "describe", "TRANSFER_COLUMNS"]

TRANSFER_COLUMNS: dict[str, str] = {
    "rep": "repetition index",
    "start": "when the application handed the payload over (s)",
    "duration": "until the last byte reached the receiver, handshake included for fresh "
    "connections (s); NaN when lost",
    "ok": "False when the payload was lost (UDP) or never arrived",
    "handshake": "of the duration, until the fresh connection was established (s); 0 for "
    "persistent connections and UDP",
    "data_wire_bytes": "bytes on the air in the data direction (headers, retransmissions)",
    "wire_bytes": "bytes on the air in both directions (ACKs and handshake included)",
    "packets": "packets sent, both directions",
    "retransmissions": "retransmitted data packets",
}


@dataclass(frozen=True)
class TransferSetup:
    """What to measure.

    Attributes:
        protocol: a transport name (``tcp``, ``udp``).
        payload: application bytes per transfer.
        link: the data direction's parameters.
        reverse: the ACK direction's parameters.
        transport: transport settings; ``connection`` is ``per-frame`` for a fresh
            connection per transfer (handshake and slow start every time) or
            ``persistent`` for one connection reused by every transfer.
        gap: seconds between the starts of successive transfers on a persistent
            connection (a transfer still waits for the previous one to finish).
    """

    protocol: str
    payload: int
    link: LinkParams
    reverse: LinkParams
    transport: TransportParams
    gap: float = 0.0


def testbed(
    setup: TransferSetup, seed: int, devices: int = 1
) -> tuple[simpy.Environment, Channel, list]:
    """A fresh environment, a channel of ``setup``'s links, and one started transport per
    device (streams named as in a simulation, so the same seed gives the same draws)."""
    streams = Streams(seed)
    env = simpy.Environment()
    channel = Channel(
        env, setup.link, setup.reverse, streams.get("link/up"), streams.get("link/down")
    )
    transports = [
        make_transport(
            setup.protocol, env, channel, setup.transport, d, streams.get(f"transport/{d}")
        )
        for d in range(devices)
    ]
    for transport in transports:
        transport.start()
    return env, channel, transports


def measure_transfers(
    setup: TransferSetup,
    reps: int,
    seed: int,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Simulate ``reps`` transfers and return one row per transfer (:data:`TRANSFER_COLUMNS`).

    Fresh connections are spaced so that no two overlap; persistent ones follow ``gap``.
    """
    if reps <= 0:
        raise ValueError(f'"reps" must be > 0, got {reps}.')
    if setup.payload <= 0:
        raise ValueError(f'"payload" must be > 0 bytes, got {setup.payload}.')
    env, channel, (transport,) = testbed(setup, seed)
    rows: list[dict] = []

    def run():
        persistent = setup.transport.connection == "persistent" and setup.protocol == "tcp"
        if persistent:
            yield transport.persistent.established
        next_start = env.now
        for rep in range(reps):
            if next_start > env.now:
                yield env.timeout(next_start - env.now)
            record = FrameRecord(device=0, frame=rep, t_gen=env.now)
            up_before = channel.up.bytes
            start = env.now
            ok = yield transport.send("up", setup.payload, record)
            duration = env.now - start if ok else math.nan
            opened = getattr(transport, "last_opened", None)
            handshake = 0.0
            if not persistent and opened is not None and opened.established_at is not None:
                handshake = opened.established_at - start
            rows.append(
                {
                    "rep": rep,
                    "start": start,
                    "duration": duration,
                    "ok": bool(ok),
                    "handshake": handshake,
                    "data_wire_bytes": channel.up.bytes - up_before,
                    "wire_bytes": record.wire_bytes,
                    "packets": record.packets,
                    "retransmissions": record.retransmissions,
                }
            )
            if not persistent:
                transport.close(record)
                # let stray ACKs and timers of this connection die out
                next_start = env.now + 2 * (setup.link.delay + setup.reverse.delay) + 1.0
            else:
                next_start = max(start + setup.gap, env.now)
            if progress is not None:
                progress(rep + 1, reps)

    env.process(run())
    env.run()
    return pd.DataFrame(rows, columns=list(TRANSFER_COLUMNS))


def describe(table: pd.DataFrame) -> dict:
    """Median, p95, mean transfer time, loss share and retransmissions of a measurement."""
    ok = table[table["ok"]]
    durations = ok["duration"].to_numpy(float)

    def q(p):
        return float(np.percentile(durations, p)) if durations.size else math.nan

    return {
        "reps": int(len(table)),
        "delivered": int(len(ok)),
        "loss": float(1 - len(ok) / len(table)) if len(table) else math.nan,
        "median_s": q(50),
        "p5_s": q(5),
        "p95_s": q(95),
        "p99_s": q(99),
        "mean_s": float(durations.mean()) if durations.size else math.nan,
        "min_s": float(durations.min()) if durations.size else math.nan,
        "max_s": float(durations.max()) if durations.size else math.nan,
        "retransmissions_mean": float(table["retransmissions"].mean()),
        "wire_bytes_mean": float(table["wire_bytes"].mean()),
    }
