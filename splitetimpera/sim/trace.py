"""Links whose capacity changes over time: a recorded trace, as plain parameters.

Two shapes of trace, both periodic (they loop at their end, as Mahimahi's ``mm-link`` does):

- ``opportunities`` (Mahimahi): the times at which the bottleneck may deliver
  ``packet_bytes`` (1500) bytes. A repeated time is several opportunities; a gap is an
  outage. Capacity not used at its time is lost (an idle link does not bank it), and a
  packet larger than what is left of one opportunity continues on the next, as in
  Mahimahi's ``LinkQueue`` (K. Winstein et al., NSDI 2013; R. Netravali et al., "Mahimahi:
  Accurate Record-and-Replay for HTTP", USENIX ATC 2015).
- ``rates``: a rate held from each time to the next (piecewise constant), for traces given
  as ``time,bandwidth``.

A link reads its trace through :class:`Capacity`, in *capacity bytes*: ``position(t)``
is how many bytes the link could have delivered by time ``t`` (counting unused capacity
as spent), and ``time_at(b)`` is when the ``b``-th byte leaves. A packet of ``w`` bytes
that starts at byte ``b`` leaves at ``time_at(b + w)``; the link adds propagation delay,
jitter and loss exactly as on a constant-rate link.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

import numpy as np

from ..traces import MAHIMAHI_PACKET

__all__ = ["TraceParams", "Capacity"]

_EPS = 1e-9


@dataclass(frozen=True, eq=False)
class TraceParams:
    """A link's capacity over time.

    Attributes:
        kind: ``opportunities`` or ``rates`` (see the module docstring).
        times: seconds into one period, sorted. ``opportunities``: one entry per
            opportunity (repeats allowed); ``rates``: the start of each segment, the
            first 0.
        period: seconds after which the trace repeats (> 0).
        rates: ``rates`` only: bytes per second of each segment (>= 0, not all 0).
        start: trace time at simulation time 0 (s), ``0 <= start < period``.
        scale: multiplies the capacity (0.5: half the bytes at the same times).
        packet_bytes: bytes one opportunity carries.
    """

    kind: str
    times: np.ndarray
    period: float
    rates: np.ndarray | None = None
    start: float = 0.0
    scale: float = 1.0
    packet_bytes: int = MAHIMAHI_PACKET

    def __post_init__(self):
        if self.kind not in ("opportunities", "rates"):
            raise ValueError(f'"kind" must be opportunities or rates, got {self.kind!r}.')
        if not self.period > 0 or not self.scale > 0:
            raise ValueError('"period" and "scale" must be > 0.')
        if len(self.times) == 0:
            raise ValueError("a trace needs at least one time.")
        if self.kind == "rates" and (self.rates is None or len(self.rates) != len(self.times)):
            raise ValueError('"rates" needs one rate per time.')


class Capacity:
    """Capacity bytes against simulation time for one :class:`TraceParams`."""

    def __init__(self, trace: TraceParams):
        self.trace = trace
        self.period = float(trace.period)
        self.start = float(trace.start)
        self.opportunities = trace.kind == "opportunities"
        self.times = [float(t) for t in trace.times]
        self.n = len(self.times)
        if self.opportunities:
            self.unit = trace.packet_bytes * trace.scale
            self.period_bytes = self.n * self.unit
        else:
            self.rates = [float(r) * trace.scale for r in trace.rates]
            ends = [*self.times[1:], self.period]
            self.cumulative = [0.0]
            for t, end, r in zip(self.times, ends, self.rates):
                self.cumulative.append(self.cumulative[-1] + r * (end - t))
            self.period_bytes = self.cumulative[-1]

    def position(self, t: float) -> float:
        """Capacity bytes spent (used or lost) before simulation time ``t``; an
        opportunity at exactly ``t`` is still to come."""
        x = t + self.start
        loops = math.floor(x / self.period)
        r = x - loops * self.period
        if self.opportunities:
            i = bisect_left(self.times, r - _EPS)
            return (loops * self.n + i) * self.unit
        i = max(bisect_right(self.times, r) - 1, 0)
        return loops * self.period_bytes + self.cumulative[i] + self.rates[i] * (r - self.times[i])

    def time_at(self, position: float) -> float:
        """Simulation time at which capacity byte ``position`` (> 0) has left."""
        if self.opportunities:
            g = max(math.ceil(position / self.unit - _EPS) - 1, 0)
            loops, i = divmod(g, self.n)
            return self.times[i] + loops * self.period - self.start
        loops = max(math.ceil(position / self.period_bytes - _EPS) - 1, 0)
        rem = position - loops * self.period_bytes
        cumulative = self.cumulative
        i = min(max(bisect_left(cumulative, rem - _EPS) - 1, 0), self.n - 1)
        while self.rates[i] <= 0 and i + 1 < self.n:  # an outage holds nothing
            i += 1
        t = self.times[i] + max(rem - cumulative[i], 0.0) / self.rates[i]
        return t + loops * self.period - self.start

    def transfer_time(self, t: float, nbytes: float) -> float:
        """Seconds to push ``nbytes`` from time ``t`` on an otherwise idle link."""
        return self.time_at(self.position(t) + nbytes) - t

    def bytes_between(self, t0: float, t1: float) -> float:
        """Capacity bytes from ``t0`` to ``t1`` (opportunities at ``t0`` included)."""
        return self.position(t1) - self.position(t0)
