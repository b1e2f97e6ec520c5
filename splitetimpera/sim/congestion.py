"""TCP congestion controls: how cwnd grows outside recovery and what ssthresh becomes on loss.

A congestion control acts on one direction of a connection (a *flow*, see :mod:`.tcp`),
as Linux's ``tcp_congestion_ops`` do: it reads and writes the flow's ``cwnd`` (an integer
number of segments, with ``cwnd_cnt`` the credit towards the next one) and ``ssthresh``,
and reads its RTT estimates (seconds). The flow calls :meth:`~CongestionControl.on_ack`
only on ACKs that advance ``snd_una``, outside cwnd reduction, and only while the flow is
cwnd-limited (Linux's ``tcp_is_cwnd_limited``: an application that does not fill the
window does not grow it).

To add one, subclass :class:`CongestionControl`, give it a ``name`` and decorate it with
``@CONGESTION_CONTROLS.register``; the scenario's ``network.congestion`` then accepts it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Protocol

from ..store import Registry

__all__ = [
    "Flow",
    "CongestionControl",
    "Reno",
    "Cubic",
    "CONGESTION_CONTROLS",
    "INFINITE_SSTHRESH",
]

#: ssthresh before the first loss (Linux's TCP_INFINITE_SSTHRESH).
INFINITE_SSTHRESH = 0x7FFFFFFF


class Flow(Protocol):
    """What a congestion control sees of a flow."""

    cwnd: int  # congestion window, segments
    cwnd_cnt: int  # ACKed segments counted towards the next increase (congestion avoidance)
    ssthresh: int  # slow-start threshold, segments
    prior_cwnd: int  # cwnd when the current reduction began
    srtt: float | None  # smoothed round-trip time, seconds
    min_rtt: float  # smallest RTT sample, seconds
    snd_una: int  # first unacknowledged segment
    snd_nxt: int  # next new segment
    mss: int  # payload bytes per full segment
    tick: float  # the kernel's timer tick (1/HZ), seconds

    def in_slow_start(self) -> bool: ...


class CongestionControl(ABC):
    """How cwnd grows on ACKs, and what ssthresh becomes on loss.

    Subclasses register by name with ``@CONGESTION_CONTROLS.register``.
    """

    name = "abstract"

    def __init__(self, flow: Flow):
        self.flow = flow

    @abstractmethod
    def on_ack(self, ack: int, acked: int, now: float) -> None:
        """``acked`` segments newly delivered by an ACK that moved ``snd_una`` to ``ack``."""

    @abstractmethod
    def ssthresh_on_loss(self, now: float) -> int:
        """The new ssthresh when a loss is detected (fast recovery or timeout)."""

    def on_rtt(self, rtt: float, now: float) -> None:
        """An RTT sample (s) of the most recently delivered segment (Linux's pkts_acked)."""

    def on_timeout(self, now: float) -> None:
        """The flow entered the Loss state (a retransmission timeout)."""

    def on_restart(self, idle: float, now: float) -> None:
        """The flow sends again after ``idle`` seconds with nothing in flight."""

    def undo_cwnd(self) -> int:
        """cwnd after a reduction found spurious (Linux's tcp_reno_undo_cwnd)."""
        return max(self.flow.cwnd, self.flow.prior_cwnd)

    def slow_start(self, acked: int) -> int:
        """cwnd += acked up to ssthresh (Linux's tcp_slow_start); returns what is left."""
        flow = self.flow
        cwnd = min(flow.cwnd + acked, flow.ssthresh)
        acked -= cwnd - flow.cwnd
        flow.cwnd = cwnd
        return acked

    def additive_increase(self, w: int, acked: int) -> None:
        """cwnd += 1 per ``w`` ACKed segments (Linux's tcp_cong_avoid_ai)."""
        flow = self.flow
        if flow.cwnd_cnt >= w:
            flow.cwnd_cnt = 0
            flow.cwnd += 1
        flow.cwnd_cnt += acked
        if flow.cwnd_cnt >= w:
            delta = flow.cwnd_cnt // w
            flow.cwnd_cnt -= delta * w
            flow.cwnd += delta


#: Congestion controls by name; ``@CONGESTION_CONTROLS.register`` adds one.
CONGESTION_CONTROLS: Registry[type[CongestionControl]] = Registry("congestion control")


@CONGESTION_CONTROLS.register
class Reno(CongestionControl):
    """Reno (RFC 5681): +1 segment per RTT in congestion avoidance, halve on loss."""

    name = "reno"

    def on_ack(self, ack: int, acked: int, now: float) -> None:
        if self.flow.in_slow_start():
            acked = self.slow_start(acked)
            if not acked:
                return
        self.additive_increase(self.flow.cwnd, acked)

    def ssthresh_on_loss(self, now: float) -> int:
        return max(self.flow.cwnd >> 1, 2)


@CONGESTION_CONTROLS.register
class Cubic(CongestionControl):
    """CUBIC (RFC 9438) as Linux's tcp_cubic.c, HyStart included.

    W(t) = C (t - K)^3 + W_max with C = 0.4, beta = 717/1024, fast convergence, the
    Reno-friendly estimate, at most +1 segment per 2 ACKed, and 5 % growth per RTT
    before the first loss. t counts from the start of the epoch plus the minimum RTT.

    HyStart ends slow start before the first loss once cwnd >= 16: when the ACKs of one
    round arrive back to back (each within 2 ms of the last) for longer than half the
    minimum RTT (the ACK train), or when the smallest RTT of a round's first 8 samples
    exceeds the minimum by min_RTT/8, clamped to 4..16 ms (the delay increase).
    """

    name = "cubic"
    C = 41 * 10 / 1024  # bic_scale 41: c = 0.4 in Linux's fixed point
    BETA = 717
    HYSTART_LOW_WINDOW = 16
    HYSTART_ACK_DELTA = 0.002
    HYSTART_MIN_SAMPLES = 8

    def __init__(self, flow: Flow):
        super().__init__(flow)
        self.hystart = getattr(flow, "hystart", True)
        self._reset()
        self._hystart_reset(0.0)

    def _reset(self) -> None:
        self.cnt = 0
        self.last_max_cwnd = 0
        self.last_cwnd = 0
        self.last_time = -1
        self.origin = 0
        self.k = 0.0
        self.delay_min = 0.0
        self.epoch_start: float | None = None
        self.ack_cnt = 0
        self.tcp_cwnd = 0
        self.found = False

    def _hystart_reset(self, now: float) -> None:
        self.round_start = self.last_ack = now
        self.end_seq = self.flow.snd_nxt
        self.curr_rtt = float("inf")
        self.sample_cnt = 0

    def _jiffies(self, now: float) -> int:
        return int(now / self.flow.tick) if self.flow.tick > 0 else int(now * 1000)

    def on_ack(self, ack: int, acked: int, now: float) -> None:
        flow = self.flow
        if flow.in_slow_start():
            if self.hystart and ack > self.end_seq:
                self._hystart_reset(now)
            acked = self.slow_start(acked)
            if not acked:
                return
        self._update(flow.cwnd, acked, now)
        self.additive_increase(self.cnt, acked)

    def _update(self, cwnd: int, acked: int, now: float) -> None:
        self.ack_cnt += acked
        jiffies = self._jiffies(now)
        hz = 1.0 / self.flow.tick if self.flow.tick > 0 else 1000.0
        if self.last_cwnd == cwnd and jiffies - self.last_time <= hz / 32:
            return
        # the cubic function updates cnt at most once per jiffy
        if not (self.epoch_start is not None and jiffies == self.last_time):
            self.last_cwnd = cwnd
            self.last_time = jiffies
            if self.epoch_start is None:
                self.epoch_start = now
                self.ack_cnt = acked
                self.tcp_cwnd = cwnd
                if self.last_max_cwnd <= cwnd:
                    self.k = 0.0
                    self.origin = cwnd
                else:
                    self.k = ((self.last_max_cwnd - cwnd) / self.C) ** (1.0 / 3.0)
                    self.origin = self.last_max_cwnd
            t = now - self.epoch_start + self.delay_min
            target = self.origin + self.C * (t - self.k) ** 3
            target = int(target) if target > 0 else 0
            self.cnt = cwnd // (target - cwnd) if target > cwnd else 100 * cwnd
            if self.last_max_cwnd == 0 and self.cnt > 20:
                self.cnt = 20  # 5 % per RTT while the bandwidth is unknown
        # Reno-friendly region: what Reno's +1 per RTT would have reached
        delta = (cwnd * 15) >> 3  # beta_scale = 8 (1024 + 717) / 3 / (1024 - 717) = 15
        if delta and self.ack_cnt > delta:
            n = self.ack_cnt // delta
            self.ack_cnt -= n * delta
            self.tcp_cwnd += n
        if self.tcp_cwnd > cwnd:
            max_cnt = cwnd // (self.tcp_cwnd - cwnd)
            if self.cnt > max_cnt:
                self.cnt = max_cnt
        self.cnt = max(self.cnt, 2)

    def ssthresh_on_loss(self, now: float) -> int:
        cwnd = self.flow.cwnd
        self.epoch_start = None
        if cwnd < self.last_max_cwnd:  # fast convergence
            self.last_max_cwnd = (cwnd * (1024 + self.BETA)) // 2048
        else:
            self.last_max_cwnd = cwnd
        return max((cwnd * self.BETA) >> 10, 2)

    def on_timeout(self, now: float) -> None:
        self._reset()
        self._hystart_reset(now)

    def on_restart(self, idle: float, now: float) -> None:
        # keep cwnd on the cubic curve across an application pause
        if self.epoch_start is not None and idle > 0:
            self.epoch_start = min(self.epoch_start + idle, now)

    def on_rtt(self, rtt: float, now: float) -> None:
        # delay samples right after a reduction are discarded for a second
        if self.epoch_start is not None and now - self.epoch_start < 1.0:
            return
        rtt = max(rtt, 1e-6)
        if self.delay_min == 0.0 or rtt < self.delay_min:
            self.delay_min = rtt
        flow = self.flow
        if (
            self.hystart
            and not self.found
            and flow.in_slow_start()
            and flow.cwnd >= self.HYSTART_LOW_WINDOW
        ):
            self._hystart_update(rtt, now)

    def _hystart_update(self, delay: float, now: float) -> None:
        flow = self.flow
        if now - self.last_ack <= self.HYSTART_ACK_DELTA:
            self.last_ack = now
            # Linux adds a cushion for TSO/GRO bursts: 4 x 64 kB at the pacing rate
            # (2 cwnd / srtt in slow start), at most 1 ms; unpaced, the threshold is
            # half of it and of the minimum delay.
            threshold = self.delay_min
            if flow.srtt:
                rate = 2.0 * flow.cwnd * flow.mss / flow.srtt
                threshold += min(0.001, 4 * 65536 / rate)
            if now - self.round_start > threshold / 2:
                self.found = True
                flow.ssthresh = flow.cwnd
        if delay < self.curr_rtt:
            self.curr_rtt = delay
        if self.sample_cnt < self.HYSTART_MIN_SAMPLES:
            self.sample_cnt += 1
        elif self.curr_rtt > self.delay_min + min(max(self.delay_min / 8, 0.004), 0.016):
            self.found = True
            flow.ssthresh = flow.cwnd
