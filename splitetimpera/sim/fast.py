"""Fast fidelity: per-frame transfers drawn from distributions the packet model computes.

With ``network.fidelity: fast`` a frame's uplink and downlink transfers are not simulated
packet by packet. For each (link, transport, payload, workload period) the packet model of
:mod:`.transfer` runs :data:`FAST_REPS` transfers once; the outcomes (duration, bytes,
packets, retransmissions, lost or not) are cached in memory and on disk, and each frame
draws one of them. Devices still share the link: a transfer cannot finish before the link
has serialised its bytes behind everything queued ahead of it, so several devices queue.

A device's persistent connection (or UDP socket) carries one frame after another, so a
frame's transfer starts when the device's previous one has ended: a connection that
cannot keep up builds a queue, as it does at packet level. What is lost against
``packet``: the correlation between successive frames of one connection (a draw ignores
the previous frame's congestion window) and packet-level interleaving between devices
(contention is per frame).
``benchmarks/sim_speed.py`` measures the speed-up and the agreement.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import pandas as pd
import simpy

from ..store import BoundedCache, cache_dir, cache_key, write_parquet
from .frames import FrameRecord
from .transfer import TransferSetup, measure_transfers
from .transport import Transport

__all__ = ["FastTransport", "FAST_REPS", "transfer_table"]

log = logging.getLogger(__name__)

#: Transfers simulated per (link, payload) to build a distribution.
FAST_REPS = 200

#: Tables kept in memory (a study's worker reuses them across points); bounded.
_MEMORY: BoundedCache[pd.DataFrame] = BoundedCache(64)


def _key(setup: TransferSetup, reps: int, seed: int) -> str:
    return cache_key(
        {
            "v": 1,
            "protocol": setup.protocol,
            "payload": setup.payload,
            "link": repr(setup.link),
            "reverse": repr(setup.reverse),
            "transport": repr(setup.transport),
            "gap": setup.gap,
            "reps": reps,
            "seed": seed,
        },
        24,
    )


def transfer_table(setup: TransferSetup, reps: int = FAST_REPS, seed: int = 0) -> pd.DataFrame:
    """Outcomes of ``reps`` transfers, from memory, the disk cache, or the packet model."""
    key = _key(setup, reps, seed)
    return _MEMORY.get(key, lambda: _from_disk(key, setup, reps, seed))


def _from_disk(key: str, setup: TransferSetup, reps: int, seed: int) -> pd.DataFrame:
    path = cache_dir("transfers") / f"{key}.parquet"
    if path.is_file():
        try:
            return pd.read_parquet(path)
        except Exception:  # a damaged cache entry is recomputed
            log.warning("ignoring unreadable cache entry %s", path)
    table = measure_transfers(setup, reps, seed)
    write_parquet(table, path)
    return table


class _Draws:
    """A table of transfer outcomes as arrays, drawn by index."""

    def __init__(self, table: pd.DataFrame):
        self.duration = table["duration"].fillna(0.0).to_numpy(float)
        self.ok = table["ok"].to_numpy(bool)
        self.data_wire = table["data_wire_bytes"].to_numpy(np.int64)
        self.wire = table["wire_bytes"].to_numpy(np.int64)
        self.packets = table["packets"].to_numpy(np.int64)
        self.retx = table["retransmissions"].to_numpy(np.int64)
        self.n = len(table)


class FastTransport(Transport):
    """A transport whose transfers are drawn from packet-model distributions.

    Args:
        env: the simulation environment.
        channel: the shared channel (its links keep the per-frame contention state).
        params: transport settings.
        device: the device served.
        rng: the transport's random stream (which measured transfer a frame gets).
        network: the links and the protocol whose transfers are measured.
        payload: application bytes per frame uplink.
        result_size: application bytes per frame downlink.
        gap: seconds between a device's frames (the measured connection sees this gap).
        seed: seeds the packet-model measurement.
    """

    name = "fast"

    def __init__(
        self, env, channel, params, device, rng, *, network, payload, result_size, gap, seed
    ):
        super().__init__(env, channel, params, device, rng)
        self.sequential = network.protocol != "tcp" or params.connection == "persistent"
        self.free = {"up": 0.0, "down": 0.0}
        up, down = network.uplink, network.downlink
        self.draws = {
            "up": _Draws(
                transfer_table(
                    TransferSetup(network.protocol, max(payload, 1), up, down, params, gap),
                    seed=seed,
                )
            ),
            "down": _Draws(
                transfer_table(
                    TransferSetup(
                        network.protocol,
                        result_size,
                        down,
                        up,
                        replace(params, connection="persistent"),
                        gap,
                    ),
                    seed=seed,
                )
            ),
        }
        for link in (channel.up, channel.down):
            if not hasattr(link, "fast_free"):
                link.fast_free = 0.0

    def send(self, direction: str, nbytes: int, record: FrameRecord) -> simpy.Event:
        draws = self.draws[direction]
        i = int(self.rng.integers(draws.n))
        link = self.channel.link(direction)
        now = self.env.now
        # one connection (or socket) sends one message after another: a frame waits for
        # the device's previous one; per-frame connections run side by side
        begin = max(now, self.free[direction]) if self.sequential else now
        start = link.fast_free if link.fast_free > begin else begin
        serialised = start + draws.data_wire[i] / link.rate
        link.fast_free = serialised
        link.packets += int(draws.packets[i])
        link.bytes += int(draws.data_wire[i])
        done_at = max(begin + draws.duration[i], serialised + link.delay)
        # the sender is free once the last byte has left, a propagation delay before it lands
        self.free[direction] = done_at - link.delay
        record.wire_bytes += int(draws.wire[i])
        record.packets += int(draws.packets[i])
        record.retransmissions += int(draws.retx[i])
        return self.env.timeout(done_at - now, bool(draws.ok[i]))
