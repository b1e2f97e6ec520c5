"""A device's radio: its power state machine, driven by the device's own packets.

States (Huang et al., MobiSys 2012, the model AT&T's ARO tool implements): **idle** (paging
cycles only), **promotion** (idle to connected: LTE's RRC connection set-up), **transfer**
(data flowing: ``base + up_per_bit * uplink bits + down_per_bit * downlink bits``, which is
Huang et al.'s ``beta + alpha_u * uplink Mbit/s + alpha_d * downlink Mbit/s`` integrated over
time), **tail** (connected without data until the inactivity timers expire), then idle again.

Every packet the device sends or receives is on the air for an interval (an uplink packet
while the link serialises it, a downlink packet the time it takes to arrive); the links
report those intervals here (:meth:`Radio.up`, :meth:`Radio.down`), fast fidelity reports
a whole transfer (:meth:`Radio.transfer_done`). The radio sweeps them in time order:

* time covered by at least one packet is transfer time, at ``base`` power, charged to the
  packet's frame, plus each packet's bits at ``up_per_bit`` or ``down_per_bit``;
* a gap between two packets of the same frame shorter than the tail (waiting for an ACK)
  is transfer time too, at ``base`` power: the radio stays in continuous reception;
* any other gap is tail, up to the tail's length, at tail power, charged to the frame whose
  packet came last (two frames closer than the tail share one tail: the first pays the gap,
  the second the tail after it); past the tail the radio is idle;
* a packet that finds the radio idle pays a promotion first (charged to its frame, with the
  tail, as "tail and promotion" energy).

**Promotion delays the frame** whose uplink finds the radio idle: :meth:`Radio.wake`, called
before the frame's payload goes to its transport, returns the promotion time to wait (real
LTE cannot send before its RRC connection is set up). Packets a transport sends on its own
(the persistent connection's handshake at time 0, a retransmission after a long timeout, a
result that arrives after the tail) pay the promotion's energy but are not delayed by it.

Intervals are reported before they happen (a queued packet knows when it will be sent) but
never start before the simulation's current time, so every interval that starts before
"now" is already known: the radio keeps the few not yet swept in a small sorted buffer and
sweeps those that started before now, so a long run never holds its packets in memory.
Packets of one frame that follow each other without a gap in one direction (a window of
TCP segments queued on the link) are kept as one burst before they reach the buffer: the
same energy, one interval to sweep.

Energies are joules; times seconds; sizes bytes (bits where named).
"""

from __future__ import annotations

import math
from bisect import insort
from dataclasses import dataclass

import simpy

from .frames import FrameRecord

__all__ = ["RadioParams", "Radio"]

#: Intervals kept before a sweep is tried (a sweep only takes those that started already).
_BUFFER = 64
# Interval kinds.
_DATA, _PROMOTION = 0, 1


@dataclass(frozen=True)
class RadioParams:
    """A radio's power model in SI units.

    Attributes:
        base: power while data flows (W).
        up_per_bit: energy per uplink bit on the air (J), headers included.
        down_per_bit: energy per downlink bit (J).
        promotion_s: idle-to-connected time (s); 0 for none.
        promotion_w: power during promotion (W).
        tail_s: time connected without data after the last packet (s).
        tail_w: power during the tail (W).
        idle_w: power when idle (W).
    """

    base: float
    up_per_bit: float = 0.0
    down_per_bit: float = 0.0
    promotion_s: float = 0.0
    promotion_w: float = 0.0
    tail_s: float = 0.0
    tail_w: float = 0.0
    idle_w: float = 0.0

    def __post_init__(self):
        values = (self.base, self.up_per_bit, self.down_per_bit, self.promotion_s)
        more = (self.promotion_w, self.tail_s, self.tail_w, self.idle_w)
        if any(not (v >= 0 and math.isfinite(v)) for v in (*values, *more)):
            raise ValueError("radio powers, energies and times must be finite and >= 0.")


class Radio:
    """One device's radio: an energy account kept from the device's packets.

    Args:
        env: the simulation environment.
        params: the power model.

    Attributes:
        transfer: joules spent moving data (base power over transfer time, per-bit energy).
        tail: joules spent in tails and promotions.
        idle: joules spent idle.
        unowned: the part of ``transfer`` and ``tail`` no frame paid (the handshake at 0).
        promotions: how many promotions happened.
    """

    def __init__(self, env: simpy.Environment, params: RadioParams):
        self.env = env
        self.p = params
        self._pending: list[tuple[float, float, float, float, int, int, FrameRecord | None]] = []
        self._last_start = -math.inf
        self._order = 0  # ties on start keep the order reported
        self._busy_until = 0.0  # end of the activity swept so far (idle from time 0)
        self._active = False  # has anything been swept
        self._owner: FrameRecord | None = None  # whose activity ended last
        self._last_end = -math.inf  # latest end reported, swept or not
        self._promoted_until = -math.inf
        # the packets reported back to back, per direction: [start, end, up bits, down bits,
        # record]
        self._up: list | None = None
        self._down: list | None = None
        self.transfer = 0.0
        self.tail = 0.0
        self.idle = 0.0
        self.unowned = 0.0
        self.promotions = 0
        self.closed_at: float | None = None

    # ------------------------------------------------------------------ reports

    def up(self, start: float, end: float, wire_bytes: int, record: FrameRecord | None) -> None:
        """The device sends a packet of ``wire_bytes``, on the air from ``start`` to ``end``
        (s), for ``record`` (None: no frame's)."""
        self._up = self._extend(self._up, start, end, 8.0 * wire_bytes, 0.0, record)

    def down(self, start: float, end: float, wire_bytes: int, record: FrameRecord | None) -> None:
        """The device receives a packet of ``wire_bytes`` from ``start`` to ``end`` (s)."""
        self._down = self._extend(self._down, start, end, 0.0, 8.0 * wire_bytes, record)

    def _extend(self, burst, start, end, up_bits, down_bits, record) -> list:
        """``burst`` grown by a packet back to back with it (the same frame's, no gap), or a
        new burst of the packet, the old one reported."""
        if burst is not None and burst[4] is record and burst[0] <= start <= burst[1]:
            if end > burst[1]:
                burst[1] = end
            burst[2] += up_bits
            burst[3] += down_bits
            return burst
        if burst is not None:
            self._add(burst[0], burst[1], burst[2], burst[3], _DATA, burst[4])
        return [start, end, up_bits, down_bits, record]

    def transfer_done(
        self, start: float, end: float, up_bytes: int, down_bytes: int, record: FrameRecord
    ) -> None:
        """A whole transfer drawn by fast fidelity: the radio is taken to be transferring
        from ``start`` to ``end`` (s), with ``up_bytes`` sent and ``down_bytes`` received."""
        self._report_bursts()  # what was reported before comes first on equal starts
        self._add(start, end, 8.0 * up_bytes, 8.0 * down_bytes, _DATA, record)

    def _report_bursts(self) -> None:
        for burst in (self._up, self._down):
            if burst is not None:
                self._add(burst[0], burst[1], burst[2], burst[3], _DATA, burst[4])
        self._up = self._down = None

    def wake(self, record: FrameRecord) -> float:
        """Seconds a frame's uplink must wait for the radio now: the promotion's time when
        the radio is idle (or what is left of a promotion under way), else 0."""
        p = self.p
        now = self.env.now
        if now < self._promoted_until:
            return self._promoted_until - now
        last = self._last_end
        for burst in (self._up, self._down):
            if burst is not None and burst[1] > last:
                last = burst[1]
        if p.promotion_s <= 0 or now <= last + p.tail_s:
            return 0.0
        self._promoted_until = now + p.promotion_s
        self._add(now, now + p.promotion_s, 0.0, 0.0, _PROMOTION, record)
        return p.promotion_s

    def _add(self, start, end, up_bits, down_bits, kind, record) -> None:
        self._order += 1
        item = (start, self._order, end, up_bits, down_bits, kind, record)
        if start >= self._last_start:
            self._pending.append(item)
            self._last_start = start
        else:  # reported late for its start (jitter, a queued uplink, a long burst)
            insort(self._pending, item)
        if end > self._last_end:
            self._last_end = end
        if len(self._pending) >= _BUFFER:
            # an open burst will be reported with its start: nothing after it is swept yet
            before = self.env.now
            for burst in (self._up, self._down):
                if burst is not None and burst[0] < before:
                    before = burst[0]
            self._sweep(before)

    # ------------------------------------------------------------------ accounting

    def _sweep(self, before: float) -> None:
        """Account, in time order, every reported interval that started before ``before``
        (later reports cannot start earlier than now)."""
        pending = self._pending
        taken = 0
        for item in pending:
            if item[0] >= before:
                break
            self._account(item)
            taken += 1
        if taken:
            del pending[:taken]
            if not pending:
                self._last_start = -math.inf

    def _charge(self, record: FrameRecord | None, joules: float, tail: bool) -> None:
        if record is None:
            self.unowned += joules
        elif tail:
            record.energy_tail += joules
        else:
            record.energy_radio += joules
        if tail:
            self.tail += joules
        else:
            self.transfer += joules

    def _account(self, item) -> None:
        start, _, end, up_bits, down_bits, kind, record = item
        p = self.p
        busy = self._busy_until
        if start > busy or not self._active:  # the radio starts idle, even at time 0
            self._gap(max(start - busy, 0.0), record, kind)
            busy = max(start, busy)
        if kind == _PROMOTION:
            self._charge(record, p.promotion_w * (end - start), True)
            self.promotions += 1
        else:
            covered = end - busy if end > busy else 0.0
            self._charge(
                record,
                p.base * covered + p.up_per_bit * up_bits + p.down_per_bit * down_bits,
                False,
            )
        if end >= busy:
            self._owner = record
            self._busy_until = end
        self._active = True

    def _gap(self, gap: float, record: FrameRecord | None, kind: int) -> None:
        """No activity for ``gap`` seconds before an interval of ``record``."""
        p = self.p
        owner = self._owner
        if self._active and owner is not None and owner is record and gap <= p.tail_s:
            # the same frame still transferring (an ACK on its way): continuous reception
            self._charge(record, p.base * gap, False)
            return
        tail = gap if gap < p.tail_s else p.tail_s
        if not self._active:
            tail = 0.0  # the radio starts idle
        self._charge(owner, p.tail_w * tail, True)
        if gap <= tail and self._active:
            return
        idle = gap - tail
        if kind != _PROMOTION and p.promotion_s > 0:
            # a transport's own packet found the radio idle: it pays a promotion (not delayed)
            self._charge(record, p.promotion_w * p.promotion_s, True)
            self.promotions += 1
            idle = max(idle - p.promotion_s, 0.0)
        self.idle += p.idle_w * idle

    def close(self, at: float) -> None:
        """Account everything up to ``at`` (s): the intervals left, then the last tail and
        idle time until ``at`` (cut there: activity past ``at`` is charged in full, its
        tail is not)."""
        self._report_bursts()
        pending, self._pending = self._pending, []
        for item in sorted(pending):
            self._account(item)
        busy = self._busy_until
        if at > busy:
            gap = at - busy
            tail = min(gap, self.p.tail_s) if self._active else 0.0
            self._charge(self._owner, self.p.tail_w * tail, True)
            self.idle += self.p.idle_w * (gap - tail)
            self._busy_until = at
        self.closed_at = at

    @property
    def total(self) -> float:
        """Joules spent so far: transfer, tail and promotion, idle."""
        return self.transfer + self.tail + self.idle
