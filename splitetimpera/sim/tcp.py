"""TCP as Linux behaves: slow start, HyStart, congestion avoidance, SACK recovery, RTO, handshake.

The model follows Linux 6.x (``net/ipv4/tcp_input.c``, ``tcp_output.c``, ``tcp_timer.c``,
``tcp_recovery.c``, ``tcp_cubic.c``) per connection and per direction (each direction is a
:class:`_Flow`: the sender's state and the peer's receiver), in segments:

* Wire format: segments of MSS = MTU - 40 - 12 bytes (IP and TCP headers plus the 12 B
  timestamp option Linux puts on every segment), ACKs of 52 B plus 4 + 8 B per SACK block
  (at most 3 beside timestamps); SYN and SYN-ACK of 60 B. Each message starts on a segment
  boundary.
* Receiver: the first 16 segments (and those after an idle period longer than an RTO) are
  ACKed one by one (quick-ACK mode), and so is every segment that opens the advertised
  window while receive-buffer autotuning lets it grow (in slow start, most of them); else
  an ACK goes for every second full segment, for the short last segment of a message
  (the application reads it), at once for out-of-order, duplicate and hole-filling
  segments, and otherwise after the 40 ms delayed-ACK timer. After three duplicate ACKs for the same point further SACKs are
  compressed (one per min(1 ms, RTT/20)). ACKs carry up to 3 SACK blocks (the most
  recently changed ranges first) and D-SACK for duplicates.
* Sender: initial window 10, slow start and congestion avoidance by the named congestion
  control (:mod:`.congestion`: CUBIC with HyStart, or Reno); cwnd grows only while the
  sender is cwnd-limited (``tcp_is_cwnd_limited``, RFC 7661), decays after an RTO of
  application-limited sending, and restarts from the initial window after an idle period
  longer than an RTO.
* Loss detection: RACK (a transmission is lost once one sent after it is delivered and
  RTT + a reordering window of min_RTT/4 has passed, no window in recovery or with 3
  segments SACKed), the state machine Open / Disorder / CWR / Recovery / Loss, PRR
  (RFC 6937) during recovery, tail loss probes (one per episode, 2 SRTT + 2 ms, +200 ms
  with one segment out), RTO = SRTT + max(RTTVAR terms, 200 ms) with exponential back-off
  that marks only the head and the segments RACK has given up on, F-RTO and the undo of
  reductions that D-SACK or timestamps prove spurious.
* Timers run on the kernel's tick (``timer_tick``, 4 ms for HZ=250) and its timer wheel: a
  timer never fires early, and one of more than 63 ticks is rounded up to 8 ticks.
* Connection set-up: SYN and SYN-ACK; a lost SYN or SYN-ACK is retried after 1 s, 2 s,
  4 s, ... (6 retries); the handshake gives the first RTT sample (by the timestamp echo
  even after a retry), and more than one retry starts the connection at cwnd 1. A
  connection is ``persistent`` (one per device, opened at time 0) or ``per-frame`` (a new
  one for every frame; the result returns on it).

Not modelled: Nagle and TSO (messages are written whole; segments leave one by one),
pacing, ECN, the receive-window autotuning (the window is ``receive_window``), pingpong
delayed ACKs and ACKs piggybacked on reverse data, reordering adaptation, and FIN
tear-down. ``benchmarks/channel_vs_linux.py`` measures what remains against the real stack.
"""

from __future__ import annotations

import heapq
import math
from collections import deque

import simpy

from .callback import call_later
from .channel import IP_TCP_HEADER, Channel, Link
from .congestion import CONGESTION_CONTROLS, INFINITE_SSTHRESH
from .frames import FrameRecord
from .transport import TRANSPORTS, Transport, TransportParams

__all__ = [
    "TcpTransport",
    "Connection",
    "SYN_BYTES",
    "TIMESTAMP_OPTION",
    "timer_fire_time",
]

#: IP + TCP headers of a SYN or SYN-ACK with the usual options (MSS, SACK-permitted,
#: timestamps, window scale).
SYN_BYTES = 60
#: The timestamp option with its two NOPs, on every segment once negotiated.
TIMESTAMP_OPTION = 12
#: A SACK option: two NOPs, kind and length, then 8 bytes per block.
_SACK_BASE, _SACK_BLOCK = 4, 8
_REORDERING = 3  # net.ipv4.tcp_reordering
#: Linux's tcp_syn_retries: SYNs at 0, 1, 3, 7, 15, 31, 63 s, failure at 127 s.
_SYN_RETRIES = 6
_QUICKACKS = 16  # TCP_MAX_QUICKACKS
_DELACK = 0.040  # TCP_ATO_MIN / TCP_DELACK_MIN
_COMP_SACK_DELAY = 0.001  # net.ipv4.tcp_comp_sack_delay_ns
_COMP_SACK_NR = 44  # net.ipv4.tcp_comp_sack_nr
_TIMEOUT_MIN = 0.002  # TCP_TIMEOUT_MIN_US
_RTO_FALLBACK = 3.0  # TCP_TIMEOUT_FALLBACK
_RMEM_MAX_WINDOW = 16 << 20  # half of tcp_rmem[2] (32 MB)
_EPS = 1e-12

# Segment flags, as Linux's TCP_SKB_CB(skb)->sacked.
_SACKED, _LOST, _RETRANS, _EVER = 1, 2, 4, 8
# Congestion states (icsk_ca_state).
_OPEN, _DISORDER, _CWR, _RECOVERY, _LOSS = 0, 1, 2, 3, 4
# The one transmit timer's kinds (icsk_pending).
_NONE, _RTO, _TLP, _REO = 0, 1, 2, 3
# What an ACK did (FLAG_* of tcp_input.c).
_F_DATA_ACKED, _F_SACKED, _F_UNA, _F_ORIG = 1, 2, 4, 8
_F_RETRANS_ACKED, _F_DSACK, _F_SET_TIMER, _F_LOST_RETRANS, _F_DSACK_TLP = 16, 32, 64, 128, 256
# What to (re)transmit after an ACK.
_REXMIT_NONE, _REXMIT_LOST, _REXMIT_NEW = 0, 1, 2


def timer_fire_time(now: float, delay: float, tick: float) -> float:
    """When a kernel timer armed at ``now`` for ``delay`` seconds fires, ticks of ``tick``.

    The delay is rounded up to whole ticks and the timer wheel never fires early: the
    expiry is rounded up past the current tick, by 1 tick for timers under 63 ticks, by 8
    under 504, by 64 beyond. ``tick`` 0 gives exact timers.
    """
    if tick <= 0:
        return now + delay
    jiffies = int(now / tick + 1e-9)  # floor: now >= 0
    ticks = delay / tick - 1e-9
    n = int(ticks)
    if n < ticks:  # ceil
        n += 1
    if n < 1:
        n = 1
    if n < 63:
        return (jiffies + n + 1) * tick
    shift = 3 if n < 504 else 6
    return (((jiffies + n + (1 << shift)) >> shift) << shift) * tick


class _Flow:
    """One direction of a connection: the sender's state and the peer's receiver."""

    def __init__(self, conn: Connection, direction: str):
        self.conn = conn
        self.env = conn.env
        p = conn.params
        self.data_link: Link = conn.channel.link(direction)
        self.ack_link: Link = conn.channel.reverse(direction)
        self.radio = conn.radio
        self.timestamps = p.timestamps
        self.header = IP_TCP_HEADER + (TIMESTAMP_OPTION if p.timestamps else 0)
        self.mss = self.data_link.mtu - self.header
        self.max_blocks = 3 if p.timestamps else 4
        self.tick = p.timer_tick
        self.hystart = p.hystart
        self.frto_enabled = p.frto
        self.delayed_ack = p.delayed_ack
        self.iw = p.initial_window
        self.cwnd = p.initial_window
        self.cwnd_cnt = 0
        self.ssthresh = INFINITE_SSTHRESH
        self.prior_cwnd = 0
        self.prior_ssthresh = 0
        self.rwnd = max(1, p.receive_window // self.mss)
        self.rto_min = p.rto_min
        self.rto_max = p.rto_max
        self.peer: _Flow | None = None  # the other direction (its RTO is the receiver's)
        # Sequence space, in segments; lists are indexed by segment - base.
        self.base = 0
        self.flags: list[int] = []
        self.size: list[int] = []
        self.owner: list[FrameRecord] = []
        self.sent_at: list[float] = []
        self.total = 0
        self.snd_una = 0
        self.snd_nxt = 0
        self.sacked_out = 0
        self.lost_out = 0
        self.retrans_out = 0
        self.lost_total = 0
        self.lost_heap: list[int] = []
        self.sack_ranges: list[list[int]] = []  # SACKed [start, end) above snd_una, sorted
        # RACK: transmissions in the order sent, and the most recent delivered one
        self.order: list[tuple[float, int]] = []
        self.order_head = 0
        self.rack_ts = -1.0
        self.rack_seg = -1
        self.rack_rtt = 0.0
        self.rack_advanced = False
        # congestion state
        self.ca_state = _OPEN
        self.high_seq = 0
        self.prr_delivered = 0
        self.prr_out = 0
        self.undo_marker = False
        self.undo_retrans = -1
        self.retrans_stamp: float | None = None
        self.frto = False
        self.retransmits = 0
        self.tlp_high_seq = -1
        self.tlp_retrans = False
        self.tlp_seg = -1
        # cwnd validation (tcp_cwnd_validate)
        self.is_cwnd_limited = False
        self.max_packets_out = 0
        self.cwnd_usage_seq = 0
        self.cwnd_used = 0
        self.cwnd_stamp = 0.0
        self.last_send: float | None = None
        # RTT estimation (tcp_rtt_estimator)
        self.srtt: float | None = None
        self.mdev = 0.0
        self.mdev_max = 0.0
        self.rttvar = 0.0
        self.rtt_seq = 0
        self.min_rtt = math.inf
        self.rto = 1.0
        # the transmit timer
        self.timer_kind = _NONE
        self.timer_at = math.inf
        self.timer_fire = math.inf
        # what the ACK being processed carries
        self._flag = 0
        self._echo = 0.0
        # receiver
        self.rcv_nxt = 0
        self.rcv_wup = 0
        self.unacked_bytes = 0
        self.ooo: list[list[int]] = []  # received [start, end) above rcv_nxt, newest first
        self.quick = 0
        self.last_rcv: float | None = None
        # receive-buffer autotuning (tcp_grow_window, tcp_rcv_space_adjust), bytes: while
        # the advertised window grows towards its clamp, every segment is ACKed at once
        # as measured on Linux 6.18 with tcp_rmem's 128 kB default (ss -tmi)
        self.rcv_ssthresh = 45 * self.mss
        self.window_clamp = 80480
        self.rcvq_space = 10 * self.mss
        self.rcvq_seq = 0
        self.rcvq_time: float | None = None
        self.rcv_rtt = 0.0  # the receiver's RTT estimate (tcp_rcv_rtt_update)
        self.ts_echo = 0.0  # the send time of the peer's latest ACK: data echoes it
        self.ts_recent = 0.0
        self.ack_due = math.inf  # a delayed or compressed ACK is due then
        self.dup_acks = 0
        self.comp_point = -1
        self.compressed = 0
        self.messages: deque[tuple[int, simpy.Event]] = deque()
        self.cc = CONGESTION_CONTROLS.get(p.congestion)(self)

    # ---------------------------------------------------------------- counters

    def in_slow_start(self) -> bool:
        return self.cwnd < self.ssthresh

    def _in_flight(self) -> int:
        return self.snd_nxt - self.snd_una - self.sacked_out - self.lost_out + self.retrans_out

    def _current_ssthresh(self) -> int:
        if self.ca_state == _CWR or self.ca_state == _RECOVERY:
            return self.ssthresh
        return max(self.ssthresh, (self.cwnd >> 1) + (self.cwnd >> 2))

    def _cwnd_limited(self) -> bool:
        if self.is_cwnd_limited:
            return True
        if self.cwnd < self.ssthresh:
            return self.cwnd < 2 * self.max_packets_out
        return False

    # ---------------------------------------------------------------- sender

    def write(self, nbytes: int, record: FrameRecord) -> simpy.Event:
        """Queue a message; the event succeeds with True when the receiver has it all."""
        now = self.env.now
        if self.snd_una == self.snd_nxt and self.last_send is not None:
            idle = now - self.last_send
            if idle > self.rto:
                self._restart_after_idle(idle, now)
        count = max(1, math.ceil(nbytes / self.mss))
        last_size = nbytes - self.mss * (count - 1)
        self.flags.extend([0] * count)
        self.size.extend([self.mss] * (count - 1) + [max(last_size, 0)])
        self.owner.extend([record] * count)
        self.sent_at.extend([0.0] * count)
        self.total += count
        event = self.env.event()
        self.messages.append((self.total - 1, event))
        self._push(now)
        return event

    def _restart_after_idle(self, idle: float, now: float) -> None:
        """tcp_cwnd_restart: halve cwnd per RTO of idleness, down to the initial window."""
        restart = min(self.iw, self.cwnd)
        self.ssthresh = self._current_ssthresh()
        cwnd = self.cwnd
        idle -= self.rto
        while idle > 0 and cwnd > restart:
            cwnd >>= 1
            idle -= self.rto
        self.cwnd = max(cwnd, restart)
        self.cwnd_stamp = now
        self.cwnd_used = 0

    def _push(self, now: float, force_one: bool = False) -> int:
        """tcp_write_xmit: send new segments while cwnd and the receive window allow."""
        sent = 0
        limited = False
        total, rwnd, cwnd, una = self.total, self.rwnd, self.cwnd, self.snd_una
        in_flight = self._in_flight()
        while self.snd_nxt < total and self.snd_nxt - una < rwnd:
            if in_flight >= cwnd and not (force_one and sent == 0):
                limited = True
                break
            seg = self.snd_nxt
            self._transmit(seg, now, retransmission=False)  # before it counts in flight
            self.snd_nxt = seg + 1
            in_flight += 1
            sent += 1
            if seg == una or self.timer_kind == _TLP:
                self._rearm_rto(now)
            if force_one:
                break
        limited = limited or in_flight >= cwnd
        if sent or limited:
            self._cwnd_validate(limited, now)
        if sent:
            if self.ca_state == _CWR or self.ca_state == _RECOVERY:
                self.prr_out += sent
            if not force_one:
                self._schedule_probe(now, advancing=False)
        return sent

    def _cwnd_validate(self, limited: bool, now: float) -> None:
        packets_out = self.snd_nxt - self.snd_una
        if (
            self.snd_una >= self.cwnd_usage_seq
            or limited
            or (not self.is_cwnd_limited and packets_out > self.max_packets_out)
        ):
            self.is_cwnd_limited = limited
            self.max_packets_out = packets_out
            self.cwnd_usage_seq = self.snd_nxt
        if self._cwnd_limited():
            self.cwnd_used = 0
            self.cwnd_stamp = now
            return
        if packets_out > self.cwnd_used:
            self.cwnd_used = packets_out
        if now - self.cwnd_stamp >= self.rto:
            # tcp_cwnd_application_limited (RFC 2861): an application that has not used
            # the window for an RTO gets half the unused part taken away
            if self.ca_state == _OPEN and self.snd_nxt == self.total:
                used = max(self.cwnd_used, self.iw)
                if used < self.cwnd:
                    self.ssthresh = self._current_ssthresh()
                    self.cwnd = (self.cwnd + used) >> 1
                self.cwnd_used = 0
            self.cwnd_stamp = now

    def _transmit(self, seg: int, now: float, retransmission: bool) -> None:
        index = seg - self.base
        last_send = self.last_send
        if last_send is not None and self.snd_nxt == self.snd_una + self.sacked_out + (
            self.lost_out - self.retrans_out
        ):
            # CA_EVENT_TX_START: the first transmission with nothing in flight
            self.cc.on_restart(now - last_send, now)
        record = self.owner[index]
        self.sent_at[index] = now
        self.order.append((now, seg))
        self.last_send = now
        if retransmission:
            flags = self.flags[index]
            if not flags & _RETRANS:
                self.retrans_out += 1
            self.flags[index] = flags | _RETRANS | _EVER
            if self.retrans_stamp is None:
                self.retrans_stamp = now
            if self.undo_retrans < 0:
                self.undo_retrans = 0
            self.undo_retrans += 1
            record.retransmissions += 1
        record.wire_bytes += self.data_link.send(
            self.size[index] + self.header,
            (seg, now, self.ts_echo),
            self._on_data,
            None,
            self.radio,
            record,
        )
        record.packets += 1

    def _retransmit_lost(self, now: float) -> None:
        """tcp_xmit_retransmit_queue: resend segments marked lost, lowest first."""
        heap = self.lost_heap
        flags = self.flags
        base = self.base
        rearm = False
        while heap:
            if self._in_flight() >= self.cwnd or self.retrans_out >= self.lost_out:
                break
            seg = heap[0]
            if seg < self.snd_una or flags[seg - base] & (_SACKED | _RETRANS | _LOST) != _LOST:
                heapq.heappop(heap)
                continue
            heapq.heappop(heap)
            self._transmit(seg, now, retransmission=True)
            if self.ca_state == _CWR or self.ca_state == _RECOVERY:
                self.prr_out += 1
            if seg == self.snd_una and self.timer_kind != _REO:
                rearm = True
        if rearm:
            self._arm(_RTO, self.rto)

    def _mark_lost(self, seg: int) -> None:
        index = seg - self.base
        flags = self.flags[index]
        if flags & _SACKED:
            return
        if flags & _LOST:
            if flags & _RETRANS:  # a retransmission lost again
                self.flags[index] = flags & ~_RETRANS
                self.retrans_out -= 1
                self.lost_total += 1
                heapq.heappush(self.lost_heap, seg)
        else:
            self.flags[index] = flags | _LOST
            self.lost_out += 1
            self.lost_total += 1
            heapq.heappush(self.lost_heap, seg)

    # ---------------------------------------------------------------- ACKs

    def _on_ack(self, ack: tuple) -> None:
        cum, blocks, dsack, echo, tsval = ack
        now = self.env.now
        self.ts_echo = tsval
        prior_una = self.snd_una
        if cum < prior_una:
            cum = prior_una  # an old ACK: only its SACK blocks can tell something
        flag = 0
        self._echo = echo
        delivered = 0
        lost_before = self.lost_total
        if cum > prior_una:
            flag |= _F_UNA
            self.retransmits = 0
        first_sackt = last_sackt = None
        base = self.base
        flags = self.flags
        sent_at = self.sent_at
        for start, end in blocks:
            for seg in self._newly_sacked(max(start, cum), min(end, self.snd_nxt)):
                index = seg - base
                f = flags[index]
                if f & _RETRANS:
                    self.retrans_out -= 1
                if f & _LOST:
                    self.lost_out -= 1
                t = sent_at[index]
                if not f & _EVER:
                    if seg < self.high_seq:
                        flag |= _F_ORIG
                    if first_sackt is None:
                        first_sackt = t
                    last_sackt = t
                self._rack_advance(t, seg, f & _EVER, now)
                flags[index] = (f & ~(_RETRANS | _LOST)) | _SACKED
                self.sacked_out += 1
                delivered += 1
                flag |= _F_SACKED
        if dsack >= 0:
            flag |= _F_DSACK
            if dsack >= base and flags[dsack - base] & _EVER and self.undo_retrans > 0:
                self.undo_retrans -= 1
            if self.tlp_retrans and dsack == self.tlp_seg:
                flag |= _F_DSACK_TLP
        first_ackt = last_ackt = None
        if cum > prior_una:
            high_seq, min_rtt = self.high_seq, self.min_rtt
            rack_ts, rack_seg, rack_rtt = self.rack_ts, self.rack_seg, self.rack_rtt
            advanced = False
            for seg in range(prior_una, cum):
                index = seg - base
                f = flags[index]
                if f:
                    if f & _EVER:
                        flag |= _F_RETRANS_ACKED
                    elif not f & _SACKED:
                        last_ackt = sent_at[index]
                        if first_ackt is None:
                            first_ackt = last_ackt
                        if seg < high_seq:
                            flag |= _F_ORIG
                    if f & _SACKED:
                        self.sacked_out -= 1
                    else:
                        delivered += 1
                        t = sent_at[index]
                        rtt = now - t
                        if not (f & _EVER and rtt < min_rtt):  # _rack_advance, inlined
                            advanced = True
                            rack_rtt = rtt
                            if t > rack_ts or (t == rack_ts and seg > rack_seg):
                                rack_ts, rack_seg = t, seg
                    if f & _LOST:
                        self.lost_out -= 1
                    if f & _RETRANS:
                        self.retrans_out -= 1
                else:  # the common case: a segment sent once, ACKed in order
                    t = sent_at[index]
                    last_ackt = t
                    if first_ackt is None:
                        first_ackt = t
                    if seg < high_seq:
                        flag |= _F_ORIG
                    delivered += 1
                    advanced = True
                    rack_rtt = now - t
                    if t > rack_ts or (t == rack_ts and seg > rack_seg):
                        rack_ts, rack_seg = t, seg
                flags[index] = f | _SACKED
            if advanced:
                self.rack_advanced = True
                self.rack_rtt = rack_rtt
                self.rack_ts, self.rack_seg = rack_ts, rack_seg
            self.snd_una = cum
            flag |= _F_DATA_ACKED | _F_SET_TIMER
            ranges = self.sack_ranges
            while ranges and ranges[0][1] <= cum:
                ranges.pop(0)
        # RTT: from the oldest newly ACKed original transmission (Karn), else SACKed,
        # else the timestamp echo; the newest delivered one feeds RACK and HyStart
        seq_rtt = ca_rtt = None
        if first_ackt is not None and not flag & _F_RETRANS_ACKED:
            seq_rtt = now - first_ackt
            ca_rtt = now - last_ackt
        if first_sackt is not None:
            ca_rtt = now - last_sackt
            if seq_rtt is None:
                seq_rtt = now - first_sackt
        if seq_rtt is None and flag & _F_UNA and self.timestamps:
            seq_rtt = ca_rtt = now - echo
        if seq_rtt is not None:
            if ca_rtt < self.min_rtt:
                self.min_rtt = ca_rtt
            self._rtt_sample(seq_rtt)
            self.cc.on_rtt(ca_rtt, now)
        if self.tlp_high_seq >= 0:
            self._process_tlp_ack(cum, flag, now)
        self._flag = flag
        rexmit = _REXMIT_NONE
        if not flag & _F_UNA or flag & (_F_SACKED | _F_DSACK) or self.ca_state != _OPEN:
            dupack = 0 if flag & (_F_UNA | _F_DSACK) else 1
            rexmit = self._fastretrans_alert(dupack, now)
        flag = self._flag
        if flag & _F_SET_TIMER:
            if not self._schedule_probe(now, advancing=True):
                self._rearm_rto(now)
        # tcp_cong_control: PRR in a reduction, else growth on ACKs that advance
        if self.ca_state == _CWR or self.ca_state == _RECOVERY:
            self._prr(delivered, self.lost_total - lost_before, flag)
        elif flag & _F_DATA_ACKED:
            if self._cwnd_limited():
                self.cc.on_ack(cum, delivered, now)
            self.cwnd_stamp = now
        if rexmit == _REXMIT_NEW:
            self._push(now)
            if self.snd_nxt <= self.high_seq:
                self.frto = False
                self._retransmit_lost(now)
        elif rexmit == _REXMIT_LOST:
            self._retransmit_lost(now)
        self._push(now)
        if self.snd_una - self.base > 4096:
            self._trim()

    def _newly_sacked(self, start: int, end: int) -> list[int]:
        """Segments of [start, end) not yet SACKed; records the range as SACKed."""
        if start >= end:
            return []
        ranges = self.sack_ranges
        new: list[int] = []
        cursor = start
        i = 0
        while i < len(ranges) and ranges[i][1] < start:
            i += 1
        j = i
        while j < len(ranges) and ranges[j][0] <= end:
            lo, hi = ranges[j]
            if lo > cursor:
                new.extend(range(cursor, lo))
            cursor = max(cursor, hi)
            j += 1
        if cursor < end:
            new.extend(range(cursor, end))
        if i < j:
            merged = [min(start, ranges[i][0]), max(end, ranges[j - 1][1])]
            ranges[i:j] = [merged]
        else:
            ranges.insert(i, [start, end])
        return new

    def _rack_advance(self, sent: float, seg: int, retransmitted: int, now: float) -> None:
        rtt = now - sent
        if retransmitted and rtt < self.min_rtt:
            return  # may be the ACK of the original: ambiguous
        self.rack_advanced = True
        self.rack_rtt = rtt
        if sent > self.rack_ts or (sent == self.rack_ts and seg > self.rack_seg):
            self.rack_ts = sent
            self.rack_seg = seg

    def _fastretrans_alert(self, dupack: int, now: float) -> int:
        """tcp_fastretrans_alert for SACK and RACK: state exits, loss marking, recovery."""
        state = self.ca_state
        if state == _OPEN:
            self.retrans_stamp = None
        elif self.snd_una >= self.high_seq:
            if state == _CWR:
                if self.snd_una != self.high_seq:
                    self._end_cwnd_reduction(now)
                    self.ca_state = _OPEN
            elif state == _RECOVERY:
                self._try_undo_recovery(now)
                self._end_cwnd_reduction(now)
        rexmit = _REXMIT_LOST
        if self.ca_state == _RECOVERY:
            if self._try_undo_dsack(now):
                self._try_keep_open()
            self._identify_loss(now)
            if self.ca_state != _RECOVERY:
                if not self.lost_out:
                    return _REXMIT_NONE
                self._enter_recovery(now)
            return _REXMIT_LOST
        if self.ca_state == _LOSS:
            rexmit = self._process_loss(dupack, now)
            self._identify_loss(now)
            if not (self.ca_state == _OPEN or self._flag & _F_LOST_RETRANS):
                return rexmit
        if self.ca_state <= _DISORDER:
            self._try_undo_dsack(now)
        self._identify_loss(now)
        if not self.lost_out:
            if not self._any_retrans_done():
                self.retrans_stamp = None
            if self.ca_state != _CWR:
                self._try_keep_open()
            return rexmit if self.ca_state == _LOSS else _REXMIT_NONE
        self._enter_recovery(now)
        return _REXMIT_LOST

    def _any_retrans_done(self) -> bool:
        if self.retrans_out:
            return True
        return self.snd_una < self.snd_nxt and bool(self.flags[self.snd_una - self.base] & _EVER)

    def _process_loss(self, dupack: int, now: float) -> int:
        """tcp_process_loss: undo a spurious timeout (F-RTO), or keep retransmitting."""
        flag = self._flag
        recovered = self.snd_una >= self.high_seq
        if flag & _F_UNA and self._try_undo_loss(False, now):
            return _REXMIT_NONE
        if self.frto:
            if flag & _F_ORIG and self._try_undo_loss(True, now):
                return _REXMIT_NONE
            if self.snd_nxt > self.high_seq:
                if flag & _F_SACKED or dupack:
                    self.frto = False
            elif flag & _F_UNA and not recovered:
                self.high_seq = self.snd_nxt
                if self.snd_nxt < self.total and self.snd_nxt - self.snd_una < self.rwnd:
                    return _REXMIT_NEW
                self.frto = False
        if recovered:
            self._try_undo_recovery(now)
            return _REXMIT_NONE
        return _REXMIT_LOST

    def _identify_loss(self, now: float) -> None:
        """tcp_rack_mark_lost: RACK after a delivery; arms the reordering timer if needed."""
        if not self.rack_advanced:
            return
        self.rack_advanced = False
        prior_retrans = self.retrans_out
        timeout = self._rack_detect(now)
        if timeout > 0:
            self._arm(_REO, timeout + _TIMEOUT_MIN)
            self._flag &= ~_F_SET_TIMER
        if prior_retrans > self.retrans_out:
            self._flag |= _F_LOST_RETRANS

    def _reo_window(self) -> float:
        if self.ca_state >= _RECOVERY or self.sacked_out >= _REORDERING:
            return 0.0
        min_rtt = self.min_rtt if self.min_rtt < math.inf else 0.0
        return min(min_rtt / 4.0, self.srtt or 0.0)

    def _rack_detect(self, now: float) -> float:
        """Mark lost what was sent before the most recent delivered transmission and is
        older than its RTT plus the reordering window; returns the longest wait left."""
        order = self.order
        flags = self.flags
        sent_at = self.sent_at
        base = self.base
        rack_ts, rack_seg = self.rack_ts, self.rack_seg
        window = self._reo_window()
        limit = self.rack_rtt + window
        timeout = 0.0
        i = self.order_head
        front = True
        while i < len(order):
            sent, seg = order[i]
            index = seg - base
            stale = (
                index < 0
                or sent_at[index] != sent
                or flags[index] & _SACKED
                or flags[index] & (_LOST | _RETRANS) == _LOST
            )
            if stale:
                if front:
                    self.order_head = i + 1
                i += 1
                continue
            if not (rack_ts > sent or (rack_ts == sent and rack_seg > seg)):
                break
            remaining = limit - (now - sent)
            if remaining <= _EPS:
                self._mark_lost(seg)
                if front:
                    self.order_head = i + 1
            else:
                front = False
                if remaining > timeout:
                    timeout = remaining
            i += 1
        if self.order_head > 4096:
            del order[: self.order_head]
            self.order_head = 0
        return timeout

    def _enter_recovery(self, now: float) -> None:
        self.prior_ssthresh = 0
        self._init_undo()
        if self.ca_state != _CWR and self.ca_state != _RECOVERY:
            self.prior_ssthresh = self._current_ssthresh()
            self._init_cwnd_reduction(now)
        self.ca_state = _RECOVERY

    def _init_cwnd_reduction(self, now: float) -> None:
        self.high_seq = self.snd_nxt
        self.tlp_high_seq = -1
        self.cwnd_cnt = 0
        self.prior_cwnd = self.cwnd
        self.prr_delivered = 0
        self.prr_out = 0
        self.ssthresh = self.cc.ssthresh_on_loss(now)

    def _end_cwnd_reduction(self, now: float) -> None:
        if self.ssthresh < INFINITE_SSTHRESH and (self.ca_state == _CWR or self.undo_marker):
            self.cwnd = self.ssthresh
            self.cwnd_stamp = now

    def _prr(self, delivered: int, newly_lost: int, flag: int) -> None:
        """tcp_cwnd_reduction: Proportional Rate Reduction (RFC 6937)."""
        if delivered <= 0 or not self.prior_cwnd:
            return
        in_flight = self._in_flight()
        delta = self.ssthresh - in_flight
        self.prr_delivered += delivered
        if delta < 0:
            sndcnt = (
                self.ssthresh * self.prr_delivered + self.prior_cwnd - 1
            ) // self.prior_cwnd - self.prr_out
        else:
            sndcnt = max(self.prr_delivered - self.prr_out, delivered)
            if flag & _F_UNA and not newly_lost:
                sndcnt += 1
            sndcnt = min(delta, sndcnt)
        sndcnt = max(sndcnt, 0 if self.prr_out else 1)
        self.cwnd = in_flight + sndcnt

    def _init_undo(self) -> None:
        self.undo_marker = True
        self.undo_retrans = self.retrans_out if self.retrans_out else -1

    def _may_undo(self) -> bool:
        delayed = (
            self.timestamps and self.retrans_stamp is not None and self._echo < self.retrans_stamp
        )
        return self.undo_marker and (not self.undo_retrans or delayed)

    def _undo_cwnd_reduction(self, unmark_loss: bool, now: float) -> None:
        if unmark_loss:
            flags = self.flags
            base = self.base
            for seg in range(self.snd_una, self.snd_nxt):
                flags[seg - base] &= ~_LOST
            self.lost_out = 0
            self.lost_heap.clear()
        if self.prior_ssthresh:
            self.cwnd = self.cc.undo_cwnd()
            if self.prior_ssthresh > self.ssthresh:
                self.ssthresh = self.prior_ssthresh
        self.cwnd_stamp = now
        self.undo_marker = False
        self.rack_advanced = True

    def _try_undo_recovery(self, now: float) -> None:
        if self._may_undo():
            self._undo_cwnd_reduction(False, now)
        self.ca_state = _OPEN

    def _try_undo_dsack(self, now: float) -> bool:
        if self.undo_marker and not self.undo_retrans:
            self._undo_cwnd_reduction(False, now)
            return True
        return False

    def _try_undo_loss(self, frto_undo: bool, now: float) -> bool:
        if frto_undo or self._may_undo():
            self._undo_cwnd_reduction(True, now)
            self.retransmits = 0
            self.ca_state = _OPEN
            return True
        return False

    def _try_keep_open(self) -> None:
        busy = self.sacked_out or self.lost_out or self._any_retrans_done()
        state = _DISORDER if busy else _OPEN
        if self.ca_state != state:
            self.ca_state = state
            self.high_seq = self.snd_nxt

    def _process_tlp_ack(self, ack: int, flag: int, now: float) -> None:
        """End a tail-loss-probe episode; a probe that repaired a loss reduces cwnd."""
        if ack < self.tlp_high_seq:
            return
        if not self.tlp_retrans or flag & _F_DSACK_TLP:
            self.tlp_high_seq = -1
        elif ack > self.tlp_high_seq:
            self._init_cwnd_reduction(now)
            self.ca_state = _CWR
            self._end_cwnd_reduction(now)
            self._try_keep_open()
        elif not flag & (_F_UNA | _F_SACKED):
            self.tlp_high_seq = -1

    def _rtt_sample(self, m: float) -> None:
        """tcp_rtt_estimator and __tcp_set_rto: RTO = SRTT + max(4 x deviation, RTO_min)."""
        if self.srtt is not None:
            err = m - self.srtt
            self.srtt += err / 8.0
            if err < 0:
                err = -err - self.mdev / 4.0
                if err > 0:
                    err /= 8.0
            else:
                err -= self.mdev / 4.0
            self.mdev += err
            if self.mdev > self.mdev_max:
                self.mdev_max = self.mdev
                if self.mdev_max > self.rttvar:
                    self.rttvar = self.mdev_max
            if self.snd_una > self.rtt_seq:
                if self.mdev_max < self.rttvar:
                    self.rttvar -= (self.rttvar - self.mdev_max) / 4.0
                self.rtt_seq = self.snd_nxt
                self.mdev_max = self.rto_min
        else:
            self.srtt = m
            self.mdev = 2.0 * m
            self.rttvar = max(self.mdev, self.rto_min)
            self.mdev_max = self.rttvar
            self.rtt_seq = self.snd_nxt
        self.rto = min(self.srtt + self.rttvar, self.rto_max)

    # ---------------------------------------------------------------- timers

    def _arm(self, kind: int, delay: float) -> None:
        """(Re)arm the one transmit timer: retransmission, loss probe or reordering."""
        now = self.env.now
        at = timer_fire_time(now, max(delay, 0.0), self.tick)
        self.timer_kind = kind
        self.timer_at = at
        if at < self.timer_fire - _EPS:
            self.timer_fire = at
            call_later(self.env, at - now, self._on_timer, at)

    def _clear_timer(self) -> None:
        self.timer_kind = _NONE
        self.timer_at = math.inf

    def _rearm_rto(self, now: float) -> None:
        """tcp_rearm_rto: an RTO from now, or from the head's send if a probe or the
        reordering timer was pending."""
        if self.snd_una == self.snd_nxt:
            self._clear_timer()
            return
        delay = self.rto
        if self.timer_kind == _REO or self.timer_kind == _TLP:
            head = self.sent_at[self.snd_una - self.base]
            delay = max(head + self.rto - now, 1e-6)
        self._arm(_RTO, delay)

    def _schedule_probe(self, now: float, advancing: bool) -> bool:
        """tcp_schedule_loss_probe: a probe 2 SRTT after the last send or ACK, in Open or
        CWR only, never later than the RTO."""
        packets_out = self.snd_nxt - self.snd_una
        if not packets_out or (self.ca_state != _OPEN and self.ca_state != _CWR):
            return False
        if self.srtt is not None:
            pto = 2.0 * self.srtt + (self.rto_min if packets_out == 1 else _TIMEOUT_MIN)
        else:
            pto = 1.0
        if advancing:
            rto_delta = self.rto
        else:
            rto_delta = self.sent_at[self.snd_una - self.base] + self.rto - now
        if rto_delta > 0:
            pto = min(pto, rto_delta)
        self._arm(_TLP, pto)
        return True

    def _on_timer(self, fire: float) -> None:
        if fire != self.timer_fire:
            return  # superseded by an earlier deadline
        self.timer_fire = math.inf
        kind = self.timer_kind
        if kind == _NONE:
            return
        now = self.env.now
        if now < self.timer_at - _EPS:
            self.timer_fire = self.timer_at
            call_later(self.env, self.timer_at - now, self._on_timer, self.timer_at)
            return
        if self.snd_una >= self.snd_nxt:
            self._clear_timer()
            return
        if kind == _RTO:
            self._timeout(now)
        elif kind == _TLP:
            self._probe(now)
        else:
            self._reo_timeout(now)

    def _reo_timeout(self, now: float) -> None:
        """tcp_rack_reo_timeout: the reordering window has passed."""
        prior_in_flight = self._in_flight()
        lost_before = self.lost_total
        self._rack_detect(now)
        if self._in_flight() != prior_in_flight:
            if self.ca_state != _RECOVERY:
                self._enter_recovery(now)
                self._prr(1, self.lost_total - lost_before, 0)
            self._retransmit_lost(now)
        if self.timer_kind != _RTO:
            self._rearm_rto(now)

    def _probe(self, now: float) -> None:
        """tcp_send_loss_probe: new data if there is any, else the last segment again."""
        if self.tlp_high_seq >= 0:
            self._rearm_rto(now)
            return
        self.tlp_retrans = False
        sent = 0
        if self.snd_nxt < self.total and self.snd_nxt - self.snd_una < self.rwnd:
            sent = self._push(now, force_one=True)
        if not sent:
            seg = self.snd_nxt - 1
            if self.flags[seg - self.base] & _SACKED:
                self._rearm_rto(now)
                return
            self._transmit(seg, now, retransmission=True)
            self.tlp_retrans = True
            self.tlp_seg = seg
        self.tlp_high_seq = self.snd_nxt
        self._clear_timer()
        self._rearm_rto(now)

    def _timeout(self, now: float) -> None:
        """tcp_retransmit_timer: enter Loss, resend the head, back off."""
        self.tlp_high_seq = -1
        new_recovery = self.ca_state < _RECOVERY
        base = self.base
        flags = self.flags
        sent_at = self.sent_at
        for seg in range(self.snd_una, self.snd_nxt):
            index = seg - base
            if flags[index] & _SACKED:
                continue
            if seg != self.snd_una and self.rack_rtt - (now - sent_at[index]) > 0:
                continue  # sent recently: not given up on yet
            self._mark_lost(seg)
        if (
            self.ca_state <= _DISORDER
            or self.snd_una >= self.high_seq
            or (self.ca_state == _LOSS and not self.retransmits)
        ):
            self.prior_ssthresh = self._current_ssthresh()
            self.prior_cwnd = self.cwnd
            self.ssthresh = self.cc.ssthresh_on_loss(now)
            self._init_undo()
        self.cwnd = self._in_flight() + 1
        self.cwnd_cnt = 0
        self.cwnd_stamp = now
        self.ca_state = _LOSS
        self.cc.on_timeout(now)
        self.high_seq = self.snd_nxt
        self.frto = self.frto_enabled and (new_recovery or self.retransmits > 0)
        head = self.snd_una
        if flags[head - base] & _RETRANS:
            flags[head - base] &= ~_RETRANS
            self.retrans_out -= 1
        self._transmit(head, now, retransmission=True)
        self.retransmits += 1
        self.rto = min(self.rto * 2.0, self.rto_max)
        self._arm(_RTO, self.rto)

    def _trim(self) -> None:
        """Forget acknowledged segments so that long connections stay small."""
        cut = self.snd_una - self.base
        for name in ("flags", "size", "owner", "sent_at"):
            del getattr(self, name)[:cut]
        self.base = self.snd_una

    # ---------------------------------------------------------------- receiver

    def _on_data(self, packet: tuple[int, float]) -> None:
        seg, sent, tsecr = packet
        now = self.env.now
        index = seg - self.base
        record = self.owner[index] if index >= 0 else None
        peer_rto = self.peer.rto if self.peer is not None else 1.0
        last_rcv = self.last_rcv
        if last_rcv is None or now - last_rcv > peer_rto:
            if self.quick < _QUICKACKS:
                self.quick = _QUICKACKS
        self.last_rcv = now
        rcv_nxt = self.rcv_nxt
        if seg < rcv_nxt or (self.ooo and self._received_out_of_order(seg)):
            if self.quick < _QUICKACKS:
                self.quick = _QUICKACKS  # a duplicate: ACK it, with D-SACK
            self._send_ack(record, seg, sent)
            return
        if seg == rcv_nxt:
            if self.rcv_nxt == self.rcv_wup:
                self.ts_recent = sent
            size = self.size[index] if index >= 0 else self.mss
            if size >= 128 and self.rcv_ssthresh < self.window_clamp:
                # tcp_grow_window: the window opens by two segments, with a quick ACK
                grow = max(2 * self.mss, 2 * size)
                self.rcv_ssthresh = min(self.rcv_ssthresh + grow, self.window_clamp)
                self.quick |= 1
            self.rcv_nxt += 1
            self.unacked_bytes += size
            filled = False
            ooo = self.ooo
            if ooo:
                for i, (start, end) in enumerate(ooo):
                    if start == self.rcv_nxt:
                        self.rcv_nxt = end
                        self.unacked_bytes += (end - start) * self.mss
                        del ooo[i]
                        break
                filled = True
            messages = self.messages
            while messages and messages[0][0] < self.rcv_nxt:
                messages.popleft()[1].succeed(True)
            if tsecr > 0 and size == self.mss:
                self._rcv_rtt_sample(now - tsecr)
            rcvq_time = self.rcvq_time
            if rcvq_time is None or (self.rcv_rtt and now - rcvq_time >= self.rcv_rtt):
                self._rcv_space_adjust(now)
            if (
                filled
                or not self.delayed_ack
                or self.quick > 0
                or self.unacked_bytes > self.mss
                or size < self.mss
            ):
                self._send_ack(record, -1, self.ts_recent)
            else:
                self._ack_later(record, timer_fire_time(now, _DELACK, self.tick))
            return
        self._add_out_of_order(seg)
        if self.comp_point != self.rcv_nxt:
            self.comp_point = self.rcv_nxt
            self.dup_acks = 0
        if not self.delayed_ack or self.dup_acks < _REORDERING:
            self.dup_acks += 1
            self._send_ack(record, -1, self.ts_recent)
            return
        self.compressed += 1
        if self.compressed >= _COMP_SACK_NR:
            self._send_ack(record, -1, self.ts_recent)
            return
        srtt = self.peer.srtt if self.peer is not None and self.peer.srtt else 0.0
        delay = min(_COMP_SACK_DELAY, srtt / 20.0) if srtt else _COMP_SACK_DELAY
        self._ack_later(record, now + delay)

    def _rcv_rtt_sample(self, sample: float) -> None:
        """tcp_rcv_rtt_update: the receiver's RTT, from the echo of its own timestamp;
        it follows decreases at once and increases by 1/8."""
        if not self.rcv_rtt or sample < self.rcv_rtt:
            self.rcv_rtt = sample
        else:
            self.rcv_rtt += (sample - self.rcv_rtt) / 8.0

    def _rcv_space_adjust(self, now: float) -> None:
        """tcp_rcv_space_adjust: once per RTT, the receive buffer grows to cover twice
        what the application read in the last RTT, more while the sender is speeding up."""
        if self.rcvq_time is None:
            self.rcvq_time = now
            return
        if not self.rcv_rtt or now - self.rcvq_time < self.rcv_rtt:
            return
        copied = (self.rcv_nxt - self.rcvq_seq) * self.mss
        if copied > self.rcvq_space:
            window = 2 * copied + 16 * self.mss
            window += 2 * (window * (copied - self.rcvq_space) // self.rcvq_space)
            self.window_clamp = max(self.window_clamp, min(window, _RMEM_MAX_WINDOW))
            self.rcvq_space = copied
        self.rcvq_seq = self.rcv_nxt
        self.rcvq_time = now

    def _received_out_of_order(self, seg: int) -> bool:
        for start, end in self.ooo:
            if start <= seg < end:
                return True
        return False

    def _add_out_of_order(self, seg: int) -> None:
        """Add seg to the received ranges; the range it joins moves to the front."""
        ooo = self.ooo
        joined = None
        for i, block in enumerate(ooo):
            if block[1] == seg:
                block[1] = seg + 1
                joined = i
                break
            if block[0] == seg + 1:
                block[0] = seg
                joined = i
                break
        if joined is None:
            ooo.insert(0, [seg, seg + 1])
            return
        block = ooo.pop(joined)
        for i, other in enumerate(ooo):  # the new segment may close a gap between two
            if other[0] == block[1] or other[1] == block[0]:
                block = [min(block[0], other[0]), max(block[1], other[1])]
                del ooo[i]
                break
        ooo.insert(0, block)

    def _ack_later(self, record: FrameRecord | None, at: float) -> None:
        """Delayed or compressed ACK: send at ``at`` unless one goes out before."""
        if at < self.ack_due - _EPS:
            self.ack_due = at
            call_later(self.env, at - self.env.now, self._ack_timer, (record, at))

    def _ack_timer(self, due: tuple) -> None:
        record, at = due
        if at == self.ack_due:
            self._send_ack(record, -1, self.ts_recent)

    def _send_ack(self, record: FrameRecord | None, dsack: int, echo: float) -> None:
        if self.ooo or dsack >= 0:
            blocks = tuple((b[0], b[1]) for b in self.ooo[: self.max_blocks - (dsack >= 0)])
            count = len(blocks) + (dsack >= 0)
            ip_bytes = self.header + _SACK_BASE + _SACK_BLOCK * count
        else:
            blocks, ip_bytes = (), self.header
        packet = (self.rcv_nxt, blocks, dsack, echo, self.env.now)
        wire = self.ack_link.send(ip_bytes, packet, self._on_ack, None, self.radio, record)
        if self.rcv_nxt > self.rcv_wup and self.quick > 0:
            self.quick -= 1
        self.rcv_wup = self.rcv_nxt
        self.unacked_bytes = 0
        self.ack_due = math.inf
        self.compressed = 0
        if record is not None:
            record.wire_bytes += wire
            record.packets += 1


class Connection:
    """A TCP connection between one device and the server (two flows: up and down).

    Args:
        env: the simulation environment.
        channel: the shared channel.
        params: transport settings.
        radio: the device's radio, told about every packet (None: not tracked).
    """

    def __init__(
        self, env: simpy.Environment, channel: Channel, params: TransportParams, radio=None
    ):
        self.env = env
        self.channel = channel
        self.params = params
        self.radio = radio
        self.up = _Flow(self, "up")
        self.down = _Flow(self, "down")
        self.up.peer, self.down.peer = self.down, self.up
        self.established = env.event()
        self.established_at: float | None = None
        self._syn_tries = 0
        self._record: FrameRecord | None = None
        self.failed = False

    def flow(self, direction: str) -> _Flow:
        return self.up if direction == "up" else self.down

    def open(self, record: FrameRecord | None = None) -> simpy.Event:
        """Start the three-way handshake; the returned event succeeds when established."""
        self._record = record
        self._send_syn()
        return self.established

    def _charge(self, wire: int) -> None:
        if self._record is not None:
            self._record.wire_bytes += wire
            self._record.packets += 1

    def _send_syn(self) -> None:
        if self.established.triggered:
            return
        if self._syn_tries > _SYN_RETRIES:
            self.failed = True
            self.established.succeed(False)
            return
        timeout = self.params.syn_timeout * (2**self._syn_tries)
        self._syn_tries += 1
        self._charge(
            self.channel.up.send(
                SYN_BYTES, self.env.now, self._on_syn, None, self.radio, self._record
            )
        )
        self.env.timeout(timeout).callbacks.append(self._syn_timer)

    def _syn_timer(self, _event: simpy.Event) -> None:
        self._send_syn()

    def _on_syn(self, syn_sent: float) -> None:
        self._charge(
            self.channel.down.send(
                SYN_BYTES, syn_sent, self._on_syn_ack, None, self.radio, self._record
            )
        )

    def _on_syn_ack(self, syn_sent: float) -> None:
        if self.established.triggered:
            return
        if self._syn_tries == 1 or self.params.timestamps:
            # the SYN-ACK echoes the timestamp of the SYN it answers
            rtt = self.env.now - syn_sent
            for flow in (self.up, self.down):
                flow._rtt_sample(rtt)
        else:  # RFC 6298 (5.7): no RTT sample from a retried handshake, RTO = 3 s
            for flow in (self.up, self.down):
                flow.rto = _RTO_FALLBACK
        if self._syn_tries > 2:  # RFC 5681: cwnd 1 after more than one SYN retry
            self.up.cwnd = 1
        # The final ACK of the handshake travels with the first data segment.
        self.established_at = self.env.now
        self.established.succeed(True)


@TRANSPORTS.register
class TcpTransport(Transport):
    """TCP for one device: a persistent connection, or one connection per frame."""

    name = "tcp"

    def __init__(self, env, channel, params: TransportParams, device: int, rng):
        super().__init__(env, channel, params, device, rng)
        CONGESTION_CONTROLS.get(params.congestion)  # an unknown name fails here, not mid-run
        if params.connection not in ("persistent", "per-frame"):
            raise ValueError(
                f"unknown connection {params.connection!r}; known: persistent, per-frame"
            )
        self.persistent: Connection | None = None
        self.per_frame: dict[int, Connection] = {}
        self.last_opened: Connection | None = None  # the latest per-frame connection

    def start(self) -> None:
        if self.params.connection == "persistent":
            self.persistent = Connection(self.env, self.channel, self.params, self.radio)
            self.persistent.open()

    def close(self, record: FrameRecord) -> None:
        self.per_frame.pop(record.frame, None)

    def send(self, direction: str, nbytes: int, record: FrameRecord) -> simpy.Event:
        done = self.env.event()
        self.env.process(self._send(direction, nbytes, record, done))
        return done

    def _send(self, direction, nbytes, record, done):
        if self.persistent is not None:
            conn = self.persistent
        elif direction == "up":
            conn = Connection(self.env, self.channel, self.params, self.radio)
            self.per_frame[record.frame] = conn
            self.last_opened = conn
            conn.open(record)
        else:
            conn = self.per_frame.pop(record.frame)
        established = yield conn.established
        if not established:
            self.close(record)
            done.succeed(False)
            return
        delivered = yield conn.flow(direction).write(nbytes, record)
        done.succeed(delivered)
