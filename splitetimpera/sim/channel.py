"""Channel: packets over a bottleneck link (serialisation, queue, propagation, jitter, loss).

A :class:`Link` is one direction of the bottleneck. A packet handed to it waits in a FIFO
drop-tail queue (``queue_limit`` packets, the one being sent included), is serialised at
the link rate (its wire size: payload, IP and transport headers, link-layer overhead),
may be lost (independently, or in bursts with a Gilbert-Elliott chain), and arrives after
the one-way propagation delay plus jitter. Jitter never reorders packets: like a FIFO
link, a packet never arrives before the one sent ahead of it.

A :class:`Channel` is the uplink and downlink shared by every device of a scenario, so
their packets interleave and queue. Transports (:mod:`.udp`, :mod:`.tcp`) put packets on
it; the link knows nothing of them.

The queue and the serialiser are computed, not simulated packet by packet: a link keeps
the time its transmitter frees up, so each packet costs one SimPy event (its arrival),
a bare one (:mod:`.callback`) scheduled on the environment like a timeout.

A link with a trace (:mod:`.trace`) serialises on the trace's capacity instead of a
constant rate: its wire bytes (link overhead included) take up capacity bytes from where
the link's last packet ended, or from now if the link was idle, and the packet leaves
when its last byte's capacity comes (Mahimahi's delivery-opportunity semantics). The
queue, drops, delay, jitter and loss are those of a constant-rate link.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy
from simpy.events import NORMAL

from .callback import CallEvent
from .trace import Capacity, TraceParams

if TYPE_CHECKING:  # annotation only
    from .radio import Radio

__all__ = [
    "LossModel",
    "NoLoss",
    "BernoulliLoss",
    "GilbertElliottLoss",
    "BurstyLoss",
    "make_loss",
    "LinkParams",
    "Link",
    "LinkMonitor",
    "Channel",
    "IP_TCP_HEADER",
    "IP_UDP_HEADER",
]

#: IPv4 (20 B) plus TCP (20 B) headers; SYN and SYN-ACK carry 20 B of options more.
IP_TCP_HEADER = 40
#: IPv4 (20 B) plus UDP (8 B) headers.
IP_UDP_HEADER = 28

_BLOCK = 4096


class _Uniforms:
    """Uniform draws in blocks: the per-packet cost of a scalar numpy draw adds up."""

    __slots__ = ("rng", "buf", "i")

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.buf = rng.random(_BLOCK).tolist()  # Python floats: faster to index, same values
        self.i = 0

    def next(self) -> float:
        i = self.i
        if i == _BLOCK:
            self.buf = self.rng.random(_BLOCK).tolist()
            i = 0
        self.i = i + 1
        return self.buf[i]


class LossModel(ABC):
    """Decides, packet by packet in link order, whether a packet is lost."""

    name = "abstract"

    @abstractmethod
    def lost(self) -> bool:
        """True if the next packet on the link is lost."""

    @property
    @abstractmethod
    def mean(self) -> float:
        """Long-run packet-loss rate."""


class NoLoss(LossModel):
    name = "none"

    def lost(self) -> bool:
        return False

    @property
    def mean(self) -> float:
        return 0.0


class BernoulliLoss(LossModel):
    """Each packet is lost independently with probability ``rate``."""

    name = "bernoulli"

    def __init__(self, rate: float, rng: np.random.Generator):
        if not 0 <= rate < 1:
            raise ValueError(f'"rate" must be in [0, 1), got {rate}.')
        self.rate = rate
        self._u = _Uniforms(rng)

    def lost(self) -> bool:
        return self._u.next() < self.rate

    @property
    def mean(self) -> float:
        return self.rate


class GilbertElliottLoss(LossModel):
    """Bursty loss: a good and a bad state, switching per packet.

    Args:
        p_good_to_bad: per-packet probability of entering the bad state.
        p_bad_to_good: per-packet probability of leaving it (mean burst = 1 / this).
        loss_good: loss probability in the good state.
        loss_bad: loss probability in the bad state.
        rng: the link's random stream. The chain starts in its stationary distribution.
    """

    name = "gilbert_elliott"

    def __init__(
        self,
        p_good_to_bad: float,
        p_bad_to_good: float,
        loss_good: float,
        loss_bad: float,
        rng: np.random.Generator,
    ):
        if not 0 < p_bad_to_good <= 1:
            raise ValueError(f'"p_bad_to_good" must be in (0, 1], got {p_bad_to_good}.')
        self.p_gb, self.p_bg = p_good_to_bad, p_bad_to_good
        self.loss_good, self.loss_bad = loss_good, loss_bad
        self._u = _Uniforms(rng)
        self.bad = self._u.next() < self._pi_bad

    @property
    def _pi_bad(self) -> float:
        total = self.p_gb + self.p_bg
        return self.p_gb / total if total > 0 else 0.0

    def lost(self) -> bool:
        switch = self._u.next()
        if self.bad:
            if switch < self.p_bg:
                self.bad = False
        elif switch < self.p_gb:
            self.bad = True
        return self._u.next() < (self.loss_bad if self.bad else self.loss_good)

    @property
    def mean(self) -> float:
        pi = self._pi_bad
        return (1 - pi) * self.loss_good + pi * self.loss_bad


@dataclass(frozen=True)
class BurstyLoss:
    """Parameters of Gilbert-Elliott loss (see :class:`GilbertElliottLoss`)."""

    p_good_to_bad: float
    p_bad_to_good: float
    loss_good: float = 0.0
    loss_bad: float = 1.0


def make_loss(spec: float | BurstyLoss | None, rng: np.random.Generator) -> LossModel:
    """A loss model from a rate (independent loss) or a :class:`BurstyLoss`."""
    if spec is None:
        return NoLoss()
    if isinstance(spec, (int, float)):
        return NoLoss() if spec == 0 else BernoulliLoss(float(spec), rng)
    return GilbertElliottLoss(
        spec.p_good_to_bad, spec.p_bad_to_good, spec.loss_good, spec.loss_bad, rng
    )


@dataclass(frozen=True)
class LinkParams:
    """One direction of the bottleneck.

    Attributes:
        rate: bytes per second (> 0).
        delay: one-way propagation delay, seconds (>= 0).
        loss: a rate, a :class:`BurstyLoss`, or None.
        jitter: each packet's delay is drawn uniformly in [delay - jitter, delay + jitter]
            (clipped at 0), seconds.
        queue_limit: packets the bottleneck holds, the one in transmission included.
        mtu: largest IP packet, bytes.
        overhead: link-layer bytes per packet beyond IP, bytes.
        trace: the capacity over time (:mod:`.trace`); ``rate`` is then its mean, for
            estimates and display only. None: the link sends at ``rate`` throughout.
    """

    rate: float
    delay: float
    loss: float | BurstyLoss | None = 0.0
    jitter: float = 0.0
    queue_limit: int = 1000
    mtu: int = 1500
    overhead: int = 38
    trace: TraceParams | None = None

    def __post_init__(self):
        if not self.rate > 0:
            raise ValueError(f'"rate" must be > 0, got {self.rate}.')
        if self.delay < 0 or self.jitter < 0:
            raise ValueError('"delay" and "jitter" must be >= 0.')
        if self.queue_limit <= 0:
            raise ValueError(f'"queue_limit" must be > 0, got {self.queue_limit}.')


class LinkMonitor:
    """What a link did over time, in bins: the share of each bin spent serialising, and the
    longest queue seen in it.

    Args:
        width: bin width, seconds.
    """

    def __init__(self, width: float = 0.05):
        if not width > 0:
            raise ValueError(f'"width" must be > 0, got {width}.')
        self.width = width
        self.busy: dict[int, float] = {}
        self.queue: dict[int, int] = {}

    def sent(self, start: float, end: float, queued: int | None, arrived: float) -> None:
        """A packet (or a fast-fidelity message) arrived at ``arrived`` and occupied the link
        from ``start`` to ``end`` (s); ``queued`` packets were ahead of it (None: the queue
        is not modelled)."""
        width = self.width
        first, last = int(start // width), int(end // width)
        if first == last:
            self.busy[first] = self.busy.get(first, 0.0) + (end - start)
        else:
            for b in range(first, last + 1):
                overlap = min(end, (b + 1) * width) - max(start, b * width)
                if overlap > 0:
                    self.busy[b] = self.busy.get(b, 0.0) + overlap
        at = int(arrived // width)
        if queued is not None and queued > self.queue.get(at, -1):
            self.queue[at] = queued

    def bins(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Bin start times (s), busy shares and longest queues (NaN where not modelled)."""
        if not self.busy:
            return np.zeros(0), np.zeros(0), np.zeros(0)
        index = np.arange(0, max(self.busy) + 1)
        busy = np.array([self.busy.get(int(i), 0.0) for i in index]) / self.width
        queue = np.array([self.queue.get(int(i), np.nan) for i in index], dtype=float)
        return index * self.width, np.minimum(busy, 1.0), queue


class Link:
    """One direction of the bottleneck link.

    Args:
        env: the simulation environment.
        params: rate, delay, jitter, queue, loss.
        rng: the link's random stream (loss and jitter).
        uplink: True for the devices-to-server direction (a device's radio sends on it),
            False for the other (a device's radio receives).
    """

    def __init__(
        self,
        env: simpy.Environment,
        params: LinkParams,
        rng: np.random.Generator,
        uplink: bool = True,
    ):
        self.env = env
        self.uplink = uplink
        self._schedule = env.schedule
        self.params = params
        self.rate = params.rate
        self.delay = params.delay
        self.jitter = params.jitter
        self.queue_limit = params.queue_limit
        self.overhead = params.overhead
        self.mtu = params.mtu
        self.loss = make_loss(params.loss, rng)
        self._jitter = _Uniforms(rng) if params.jitter > 0 else None
        self._free_at = 0.0  # when the transmitter finishes its backlog
        #: The capacity over time of a traced link (None: constant ``rate``).
        self.capacity = Capacity(params.trace) if params.trace is not None else None
        self._free_pos = 0.0  # traced links: the capacity byte where the backlog ends
        self._backlog: deque[float] = deque()  # departure times of queued packets
        self._last_arrival = 0.0
        self.packets = 0
        self.bytes = 0
        self.lost = 0
        self.dropped = 0
        self.busy = 0.0
        #: Set a :class:`LinkMonitor` to record the link over time.
        self.monitor: LinkMonitor | None = None

    def backlog(self) -> int:
        """Packets in the queue now, the one in transmission included."""
        now = self.env.now
        queue = self._backlog
        while queue and queue[0] <= now:
            queue.popleft()
        return len(queue)

    def finish_time(self, t: float, wire_bytes: float) -> float:
        """When ``wire_bytes`` handed over at ``t`` (>= now) would have left, behind the
        packets queued now and with no others arriving: what a policy that knows the
        link's capacity and state foresees."""
        if self.capacity is None:
            return max(self._free_at, t) + wire_bytes / self.rate
        first = (
            self._free_pos if self._free_at >= t else max(self._free_pos, self.capacity.position(t))
        )
        return self.capacity.time_at(first + wire_bytes)

    def space_free_at(self) -> float:
        """When the next place in a full queue frees up (now if not full)."""
        if self.backlog() < self.queue_limit:
            return self.env.now
        return self._backlog[0]

    def _traced(self, now: float, wire_bytes: int) -> tuple[float, float]:
        """When a packet of ``wire_bytes`` handed over at ``now`` starts and ends leaving
        a traced link."""
        capacity = self.capacity
        first = self._free_pos
        if self._free_at < now:  # idle: capacity before now is lost
            here = capacity.position(now)
            if here > first:
                first = here
        last = first + wire_bytes
        self._free_pos = last
        start = capacity.time_at(first + 1e-6)
        return (start if start > now else now), capacity.time_at(last)

    def send(
        self,
        ip_bytes: int,
        packet: Any,
        deliver: Callable[[Any], None],
        on_loss: Callable[[Any], None] | None = None,
        radio: Radio | None = None,
        record: Any = None,
    ) -> int:
        """Queue an IP packet; ``deliver(packet)`` runs at its arrival unless it is lost.

        Args:
            ip_bytes: the packet's size with IP and transport headers, bytes; the link adds
                its own per-packet overhead.
            packet: anything; handed back to ``deliver`` or ``on_loss``.
            deliver: called at the arrival time.
            on_loss: called at once if the packet is dropped at the queue or lost.
            radio: the radio of the device at this end (it sends on the uplink, receives
                on the downlink), told when the packet is on the air; None: not tracked.
            record: the frame the packet belongs to (its radio energy is charged there).

        Returns:
            The bytes put on the air (0 when the full queue dropped the packet).
        """
        now = self.env.now
        queue = self._backlog
        while queue and queue[0] <= now:
            queue.popleft()
        if len(queue) >= self.queue_limit:
            self.dropped += 1
            if on_loss is not None:
                on_loss(packet)
            return 0
        wire_bytes = ip_bytes + self.overhead
        if self.capacity is None:
            start = self._free_at if self._free_at > now else now
            serialise = wire_bytes / self.rate
            departure = start + serialise
        else:
            start, departure = self._traced(now, wire_bytes)
            serialise = departure - start
        self._free_at = departure
        queue.append(departure)
        self.packets += 1
        self.bytes += wire_bytes
        self.busy += serialise
        if self.monitor is not None:
            self.monitor.sent(start, departure, len(self._backlog) - 1, now)
        if radio is not None and self.uplink:  # sent, whether or not it arrives
            radio.up(start, departure, wire_bytes, record)
        if self.loss.lost():
            self.lost += 1
            if on_loss is not None:
                on_loss(packet)
            return wire_bytes
        delay = self.delay
        if self._jitter is not None:
            delay += (2.0 * self._jitter.next() - 1.0) * self.jitter
            if delay < 0:
                delay = 0.0
        arrival = departure + delay
        if arrival < self._last_arrival:
            arrival = self._last_arrival
        self._last_arrival = arrival
        if radio is not None and not self.uplink:  # received as it arrives
            radio.down(arrival - serialise, arrival, wire_bytes, record)
        self._schedule(CallEvent(deliver, packet), NORMAL, arrival - now)
        return wire_bytes


class Channel:
    """The uplink (devices to server) and downlink (server to devices), shared by all.

    Args:
        env: the simulation environment.
        uplink: parameters of the device-to-server direction.
        downlink: parameters of the server-to-device direction.
        rng_up: random stream of the uplink.
        rng_down: random stream of the downlink.
    """

    def __init__(
        self,
        env: simpy.Environment,
        uplink: LinkParams,
        downlink: LinkParams,
        rng_up: np.random.Generator,
        rng_down: np.random.Generator,
    ):
        self.env = env
        self.up = Link(env, uplink, rng_up, uplink=True)
        self.down = Link(env, downlink, rng_down, uplink=False)

    def link(self, direction: str) -> Link:
        return self.up if direction == "up" else self.down

    def reverse(self, direction: str) -> Link:
        return self.down if direction == "up" else self.up
