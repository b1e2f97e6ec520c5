"""TCP congestion controls: how cwnd grows outside recovery and what ssthresh becomes on loss.

A congestion control acts on one direction of a connection (a *flow*, see
:mod:`.tcp`): it reads and writes the flow's ``cwnd`` and ``ssthresh`` (in segments) and
reads its ``srtt`` (seconds). To add one, subclass :class:`CongestionControl`, give it a
``name`` and decorate it with ``@CONGESTION_CONTROLS.register``; the scenario's
``network.congestion`` then accepts that name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Protocol

from ..store import Registry

__all__ = ["Flow", "CongestionControl", "Reno", "Cubic", "CONGESTION_CONTROLS"]


class Flow(Protocol):
    """What a congestion control sees of a flow."""

    cwnd: float  # congestion window, segments
    ssthresh: float  # slow-start threshold, segments
    srtt: float | None  # smoothed round-trip time, seconds


class CongestionControl(ABC):
    """How cwnd grows on ACKs outside recovery, and what ssthresh becomes on loss.

    Subclasses register by name with ``@CONGESTION_CONTROLS.register``.
    """

    name = "abstract"

    def __init__(self, flow: Flow):
        self.flow = flow

    @abstractmethod
    def on_ack(self, delivered: int, now: float) -> None:
        """``delivered`` segments newly acknowledged or SACKed, outside recovery."""

    @abstractmethod
    def ssthresh_on_loss(self, now: float) -> float:
        """The new ssthresh when a loss is detected (fast retransmit or timeout)."""

    def slow_start(self, delivered: int) -> int:
        """Grow cwnd by one per delivered segment up to ssthresh; returns the rest."""
        flow = self.flow
        if flow.cwnd >= flow.ssthresh:
            return delivered
        room = flow.ssthresh - flow.cwnd
        used = min(float(delivered), room)
        flow.cwnd += used
        return int(delivered - used)


#: Congestion controls by name; ``@CONGESTION_CONTROLS.register`` adds one.
CONGESTION_CONTROLS: Registry[type[CongestionControl]] = Registry("congestion control")


@CONGESTION_CONTROLS.register
class Reno(CongestionControl):
    """Reno (RFC 5681): +1 segment per RTT in congestion avoidance, halve on loss."""

    name = "reno"

    def on_ack(self, delivered: int, now: float) -> None:
        rest = self.slow_start(delivered)
        if rest:
            self.flow.cwnd += rest / self.flow.cwnd

    def ssthresh_on_loss(self, now: float) -> float:
        return max(self.flow.cwnd / 2.0, 2.0)


@CONGESTION_CONTROLS.register
class Cubic(CongestionControl):
    """CUBIC (RFC 9438), Linux's default: cubic window growth since the last loss.

    W(t) = C (t - K)^3 + W_max with C = 0.4 and K = cbrt(W_max (1 - beta) / C),
    beta = 0.7, fast convergence, and the Reno-friendly region.
    """

    name = "cubic"
    C = 0.4
    BETA = 0.7

    def __init__(self, flow: Flow):
        super().__init__(flow)
        self.w_max = 0.0
        self.epoch: float | None = None
        self.k = 0.0
        self.origin = 0.0
        self.w_est = 0.0

    def on_ack(self, delivered: int, now: float) -> None:
        flow = self.flow
        rest = self.slow_start(delivered)
        if not rest:
            return
        if self.epoch is None:
            self.epoch = now
            if flow.cwnd < self.w_max:
                self.k = ((self.w_max - flow.cwnd) / self.C) ** (1.0 / 3.0)
                self.origin = self.w_max
            else:
                self.k = 0.0
                self.origin = flow.cwnd
            self.w_est = flow.cwnd
        rtt = flow.srtt if flow.srtt is not None else 0.0
        t = now - self.epoch + rtt
        target = self.origin + self.C * (t - self.k) ** 3
        if target > flow.cwnd:
            increase = (target - flow.cwnd) / flow.cwnd * rest
        else:
            increase = 0.01 * rest / flow.cwnd
        self.w_est += 3.0 * (1 - self.BETA) / (1 + self.BETA) * rest / flow.cwnd
        flow.cwnd += increase
        if self.w_est > flow.cwnd:
            flow.cwnd = self.w_est

    def ssthresh_on_loss(self, now: float) -> float:
        cwnd = self.flow.cwnd
        if cwnd < self.w_max:
            self.w_max = cwnd * (1 + self.BETA) / 2.0
        else:
            self.w_max = cwnd
        self.epoch = None
        return max(cwnd * self.BETA, 2.0)
