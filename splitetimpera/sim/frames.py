"""The record of one frame's life, and the documented columns of ``frames.parquet``.

Every stage writes its start and end time (seconds since the simulation start) into the
frame's record; :func:`to_rows` turns records into flat rows once, at the end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

__all__ = ["FrameRecord", "FRAME_COLUMNS", "STATUSES", "STAGES"]

#: A frame ends in exactly one of these.
STATUSES = ("delivered", "late", "lost")

#: Stages of the latency breakdown, in order: (name, start column, end column).
STAGES = (
    ("device queue", "t_gen", "t_head_start"),
    ("head", "t_head_start", "t_head_end"),
    ("uplink", "t_head_end", "t_up_end"),
    ("server queue", "t_up_end", "t_tail_start"),
    ("tail", "t_tail_start", "t_tail_end"),
    ("downlink", "t_tail_end", "t_done"),
)

#: Columns of frames.parquet (one row per frame per configuration).
FRAME_COLUMNS: dict[str, str] = {
    "config": "configuration id: LC, RC, RC+int8, SC@features.9, SC@features.9+int8, EE@...",
    "mode": "LC (local), RC (remote), SC (split) or EE (early exit)",
    "split": "split point name ('output' for LC, 'input' for RC)",
    "compression": "none, fp16, int8 or bottleneck",
    "device": "index of the device that generated the frame",
    "frame": "frame index on its device",
    "t_gen": "generation time (s)",
    "deadline": "absolute deadline (s); NaN when the workload sets none",
    "t_head_start": "device starts the head (s)",
    "t_head_end": "device finishes head and encoding (s)",
    "t_up_end": "last byte of the payload reaches the server (s); NaN for LC and exits",
    "t_tail_start": "a server worker starts the tail (s)",
    "t_tail_end": "server finishes decoding and the tail (s)",
    "t_done": "result back on the device (s); NaN when lost",
    "latency": "t_done - t_gen (s); NaN when lost",
    "payload_bytes": "application bytes sent uplink",
    "wire_bytes": "bytes put on the air, both directions, headers and retransmissions included",
    "packets": "packets sent, both directions (data, ACKs, handshake)",
    "retransmissions": "retransmitted packets of this frame (TCP)",
    "exited": "True when an early exit answered the frame on the device",
    "status": "delivered (by the deadline), late (after it) or lost",
    "reason": "why a frame was lost (packet loss, queue overflow, timeout); empty otherwise",
    "used_config": "the configuration that ran this frame: the row's own for a static "
    "configuration; the one a policy (adaptive, oracle) chose before the frame",
    "estimate_bps": "the uplink estimate a policy acted on for this frame (bit/s): "
    "adaptive's EWMA of goodput, oracle's foreseen rate; NaN for static configurations",
    "energy_compute": "device energy computing this frame (J): the board's active power x "
    "its head, encoding and exit-branch time; NaN without a device power model",
    "energy_radio": "radio energy moving this frame's packets (J): transfer power over the "
    "time they are on the air (and gaps within the frame's transfer), plus per-bit energy; "
    "0 for LC and exits, NaN without a radio model",
    "energy_tail": "radio energy of the tail after this frame's last packet (up to the next "
    "frame's first) and of a promotion its packets needed (J); NaN without a radio model. "
    "Idle energy belongs to no frame: summary.csv has it",
}


@dataclass(slots=True)
class FrameRecord:
    """What happened to one frame; times in seconds, sizes in bytes."""

    device: int
    frame: int
    t_gen: float
    deadline: float = math.nan
    t_head_start: float = math.nan
    t_head_end: float = math.nan
    t_up_end: float = math.nan
    t_tail_start: float = math.nan
    t_tail_end: float = math.nan
    t_done: float = math.nan
    payload_bytes: int = 0
    wire_bytes: int = 0
    packets: int = 0
    retransmissions: int = 0
    exited: bool = False
    status: str = ""
    reason: str = ""
    energy_compute: float = math.nan
    energy_radio: float = math.nan
    energy_tail: float = math.nan
    #: A policy run: the index of the configuration chosen for this frame (-1: static).
    choice: int = -1
    estimate_bps: float = math.nan

    def finish(self, now: float) -> None:
        """Mark the result as back on the device at ``now``."""
        self.t_done = now
        late = not math.isnan(self.deadline) and now > self.deadline + 1e-12
        self.status = "late" if late else "delivered"

    def lose(self, reason: str) -> None:
        self.status = "lost"
        self.reason = reason

    def row(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["latency"] = self.t_done - self.t_gen if self.status != "lost" else math.nan
        return out
