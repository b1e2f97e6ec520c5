"""TCP as Linux behaves: slow start, congestion avoidance, SACK recovery, RTO, handshake.

What is modelled, per connection and per direction (each direction is a :class:`_Flow`:
the sender's state and the peer's receiver):

* Segments of at most MSS = MTU - 40 bytes; each message starts on a segment boundary.
* Initial window of 10 segments, slow start (cwnd += 1 per acknowledged segment) up to
  ssthresh (initially unbounded), then congestion avoidance by the named congestion
  control (:mod:`.congestion`: ``reno``, ``cubic``).
* The receiver acknowledges every segment (Linux's quick-ACK mode) on the reverse link;
  ACKs carry the cumulative point, a SACK of the segment that triggered them, and the
  echo of its send time (TCP timestamps), so every ACK gives an RTT sample.
* Loss detection as Linux's RACK: a transmission sent before one that has since been
  delivered is lost (the link is FIFO), once three segments are SACKed (three duplicate
  ACKs) or a reordering window of min_RTT/4 has passed; lost retransmissions are caught
  the same way. Recovery starts once per window: ssthresh and cwnd drop as the congestion
  control says, and lost segments are resent first while the pipe is below cwnd.
* Tail loss probe: with nothing new to send, a probe goes out after 2 SRTT (+200 ms when a
  single segment is in flight, Linux's delayed-ACK allowance), so losses at the end of a
  message are found without waiting for the RTO.
* Retransmission timeout: RTO = SRTT + max(4 RTTVAR, 200 ms) as Linux computes it
  (RFC 6298 estimator), 1 s before the first sample, doubled on each expiry up to 120 s;
  on expiry cwnd falls to 1 segment and every unSACKed segment in flight is resent.
* Connection set-up: SYN and SYN-ACK (60 B with options); a lost SYN or SYN-ACK is
  retried after 1 s, then 2 s, 4 s, ... A connection is ``persistent`` (one per device,
  opened at time 0) or ``per-frame`` (a new one for every frame; the result returns on
  it). A persistent connection idle for longer than its RTO restarts slow start: cwnd is
  halved for each RTO of idleness, down to the initial window, and ssthresh is kept (at
  least 3/4 of the old cwnd), as Linux's ``tcp_cwnd_restart`` does.

Not modelled: delayed ACKs and Nagle (an application that writes one message and waits is
not delayed by them in quick-ACK mode), HyStart (it only ends slow start earlier on a
queue that builds), PRR's gradual cwnd reduction (cwnd drops at once), the 12 bytes of
the timestamp option, and FIN tear-down (it does not delay the data). The README's
"Network model" section compares the result with ns-3.
"""

from __future__ import annotations

import math
from collections import deque

import simpy

from .channel import IP_TCP_HEADER, Channel, Link
from .congestion import CONGESTION_CONTROLS
from .frames import FrameRecord
from .transport import TRANSPORTS, Transport, TransportParams

__all__ = [
    "TcpTransport",
    "Connection",
    "SYN_BYTES",
]

#: IP + TCP headers of a SYN or SYN-ACK with the usual options (MSS, SACK-permitted,
#: timestamps, window scale).
SYN_BYTES = 60
#: A SACK block option adds 12 bytes to an ACK (kind, length, two 32-bit edges, 2 NOPs).
_SACK_OPTION = 12
_DUPTHRESH = 3
#: Linux's tcp_syn_retries: SYNs at 0, 1, 3, 7, 15, 31, 63 s, failure at 127 s.
_SYN_RETRIES = 6

# Segment states.
_IN_FLIGHT, _SACKED, _LOST, _RETX, _ACKED = 1, 2, 3, 4, 5


class _Flow:
    """One direction of a connection: the sender's state and the peer's receiver."""

    def __init__(self, conn: Connection, direction: str):
        self.conn = conn
        self.env = conn.env
        params = conn.params
        self.data_link: Link = conn.channel.link(direction)
        self.ack_link: Link = conn.channel.reverse(direction)
        self.radio = conn.radio
        self.mss = self.data_link.mtu - IP_TCP_HEADER
        self.iw = params.initial_window
        self.cwnd = float(params.initial_window)
        self.ssthresh = math.inf
        self.rwnd = max(1, params.receive_window // self.mss)
        self.cc = CONGESTION_CONTROLS.get(params.congestion)(self)
        self.rto_min = params.rto_min
        self.rto_max = params.rto_max
        # Sequence space, in segments. Lists are indexed by segment - base.
        self.base = 0
        self.state: list[int] = []
        self.size: list[int] = []
        self.owner: list[FrameRecord] = []
        self.sent_at: list[float] = []
        self.total = 0
        self.snd_una = 0
        self.snd_nxt = 0
        self.pipe = 0
        self.sacked_out = 0
        self.lost_queue: deque[int] = deque()
        # Transmissions in the order they were sent: (time, segment).
        self.sent_order: deque[tuple[float, int]] = deque()
        self.rack_ts = -1.0  # send time of the most recently sent delivered transmission
        self.in_recovery = False
        self.in_loss = False
        self.recover = -1
        self.srtt: float | None = None
        self.min_rtt = math.inf
        self.rttvar = 0.0
        self.rto = 1.0
        self.rto_start = 0.0
        self.reo_deadline: float | None = None
        self.probe_sent = False
        self.timer_at: float | None = None
        self.timer_pending = False
        self.last_send: float | None = None
        # Receiver side.
        self.rcv_nxt = 0
        self.out_of_order: set[int] = set()
        self.messages: deque[tuple[int, simpy.Event]] = deque()

    # ---------------------------------------------------------------- sender

    def write(self, nbytes: int, record: FrameRecord) -> simpy.Event:
        """Queue a message; the event succeeds with True when the receiver has it all."""
        now = self.env.now
        if self.snd_una == self.snd_nxt and self.last_send is not None:
            self._restart_after_idle(now - self.last_send)
        count = max(1, math.ceil(nbytes / self.mss))
        last_size = nbytes - self.mss * (count - 1)
        self.state.extend([0] * count)
        self.size.extend([self.mss] * (count - 1) + [max(last_size, 0)])
        self.owner.extend([record] * count)
        self.sent_at.extend([0.0] * count)
        self.total += count
        event = self.env.event()
        self.messages.append((self.total - 1, event))
        self._send_what_fits()
        return event

    def _restart_after_idle(self, idle: float) -> None:
        if idle <= self.rto:
            return
        restart = min(float(self.iw), self.cwnd)
        self.ssthresh = max(self.ssthresh, 0.75 * self.cwnd)
        cwnd = self.cwnd
        while idle > self.rto and cwnd > restart:
            cwnd /= 2.0
            idle -= self.rto
        self.cwnd = max(cwnd, restart)

    def _send_what_fits(self) -> None:
        base = self.base
        state = self.state
        idle = self.snd_una == self.snd_nxt
        while self.pipe < int(self.cwnd):
            seg = -1
            while self.lost_queue:
                candidate = self.lost_queue.popleft()
                if candidate >= self.snd_una and state[candidate - base] == _LOST:
                    seg = candidate
                    break
            if seg >= 0:
                state[seg - base] = _RETX
                self._transmit(seg, retransmission=True)
            elif self.snd_nxt < self.total and self.snd_nxt - self.snd_una < self.rwnd:
                seg = self.snd_nxt
                state[seg - base] = _IN_FLIGHT
                self.snd_nxt += 1
                self._transmit(seg, retransmission=False)
            else:
                break
            self.pipe += 1
        if idle and self.snd_una < self.snd_nxt:
            self.rto_start = self.env.now
        self._schedule()

    def _transmit(self, seg: int, retransmission: bool) -> None:
        index = seg - self.base
        record = self.owner[index]
        now = self.env.now
        self.sent_at[index] = now
        self.sent_order.append((now, seg))
        self.last_send = now
        record.wire_bytes += self.data_link.send(
            self.size[index] + IP_TCP_HEADER, (seg, now), self._on_data, None, self.radio, record
        )
        record.packets += 1
        if retransmission:
            record.retransmissions += 1

    def _on_ack(self, ack: tuple[int, int, float]) -> None:
        cum, sacked, echo = ack
        now = self.env.now
        base = self.base
        state = self.state
        delivered = 0
        advanced = cum > self.snd_una
        if advanced:
            for seg in range(self.snd_una, cum):
                st = state[seg - base]
                if st == _IN_FLIGHT or st == _RETX:
                    self.pipe -= 1
                if st == _SACKED:
                    self.sacked_out -= 1
                else:
                    delivered += 1
                state[seg - base] = _ACKED
            self.snd_una = cum
            self.rto_start = now
        if self.snd_una <= sacked < self.snd_nxt:
            st = state[sacked - base]
            if st != _SACKED and st != _ACKED:
                if st == _IN_FLIGHT or st == _RETX:
                    self.pipe -= 1
                state[sacked - base] = _SACKED
                self.sacked_out += 1
                delivered += 1
        if delivered:
            self._rtt_sample(now - echo)
            self.probe_sent = False
            if echo > self.rack_ts:
                self.rack_ts = echo
        newly_lost = self._detect_losses(now)
        if self.in_recovery and self.snd_una > self.recover:
            self.in_recovery = False
            self.cwnd = max(self.ssthresh, 1.0)
        if self.in_loss and self.snd_una > self.recover:
            self.in_loss = False
        if newly_lost and not self.in_recovery and not self.in_loss:
            self.in_recovery = True
            self.recover = self.snd_nxt - 1
            self.ssthresh = self.cc.ssthresh_on_loss(now)
            self.cwnd = self.ssthresh
        elif delivered and not self.in_recovery:
            self.cc.on_ack(delivered, now)
        self._send_what_fits()
        if self.snd_una - self.base > 4096:
            self._trim()

    def _detect_losses(self, now: float) -> bool:
        """RACK: a transmission sent before a delivered one is lost (the link is FIFO).

        Outside recovery, and with fewer than three segments SACKed (three duplicate
        ACKs), it is lost only after a reordering window of min_RTT / 4 has passed.
        """
        found = False
        order = self.sent_order
        base = self.base
        state = self.state
        self.reo_deadline = None
        reordering_window = 0.0
        if not (self.in_recovery or self.in_loss or self.sacked_out >= _DUPTHRESH):
            reordering_window = self.min_rtt / 4.0 if self.min_rtt < math.inf else 0.0
        while order and order[0][0] < self.rack_ts:
            sent, seg = order[0]
            index = seg - base
            if index < 0 or seg >= self.snd_nxt:
                order.popleft()
                continue
            st = state[index]
            if (st != _IN_FLIGHT and st != _RETX) or self.sent_at[index] != sent:
                order.popleft()
                continue
            srtt = self.srtt or 0.0
            if now < sent + srtt + reordering_window - 1e-12 and reordering_window > 0:
                self.reo_deadline = sent + srtt + reordering_window
                break
            order.popleft()
            state[index] = _LOST
            self.pipe -= 1
            self.lost_queue.append(seg)
            found = True
        return found

    def _rtt_sample(self, rtt: float) -> None:
        if rtt < self.min_rtt:
            self.min_rtt = rtt
        if self.srtt is None:
            self.srtt = rtt
            self.rttvar = rtt / 2.0
        else:
            self.rttvar = 0.75 * self.rttvar + 0.25 * abs(self.srtt - rtt)
            self.srtt = 0.875 * self.srtt + 0.125 * rtt
        self.rto = min(self.srtt + max(4.0 * self.rttvar, self.rto_min), self.rto_max)

    # ---------------------------------------------------------------- timers

    def _schedule(self) -> None:
        """Arm the one timer: reordering window, tail loss probe, or retransmission."""
        if self.snd_una == self.snd_nxt:
            self.timer_at = None
            return
        now = self.env.now
        rto_at = self.rto_start + self.rto
        at = rto_at
        if self.reo_deadline is not None:
            at = min(at, self.reo_deadline)
        elif (
            not self.in_recovery
            and not self.in_loss
            and not self.probe_sent
            and self.srtt is not None
        ):
            in_flight = self.snd_nxt - self.snd_una - self.sacked_out
            pto = 2.0 * self.srtt + (self.rto_min if in_flight == 1 else 0.002)
            at = min(at, now + pto)
        self.timer_at = at
        if not self.timer_pending:
            self.timer_pending = True
            self.env.timeout(max(at - now, 0.0)).callbacks.append(self._on_timer)

    def _on_timer(self, _event: simpy.Event) -> None:
        self.timer_pending = False
        if self.timer_at is None:
            return
        now = self.env.now
        if now < self.timer_at - 1e-12:
            self.timer_pending = True
            self.env.timeout(self.timer_at - now).callbacks.append(self._on_timer)
            return
        self.timer_at = None
        if self.snd_una >= self.snd_nxt:
            return
        if self.reo_deadline is not None and now >= self.reo_deadline - 1e-12:
            if self._detect_losses(now) and not self.in_recovery and not self.in_loss:
                self.in_recovery = True
                self.recover = self.snd_nxt - 1
                self.ssthresh = self.cc.ssthresh_on_loss(now)
                self.cwnd = self.ssthresh
            self._send_what_fits()
        elif now >= self.rto_start + self.rto - 1e-12:
            self._timeout()
        else:
            self._probe()

    def _probe(self) -> None:
        """Tail loss probe: send new data if any, else resend the last segment sent."""
        self.probe_sent = True
        if self.snd_nxt < self.total and self.snd_nxt - self.snd_una < self.rwnd:
            seg = self.snd_nxt
            self.state[seg - self.base] = _IN_FLIGHT
            self.snd_nxt += 1
            self.pipe += 1
            self._transmit(seg, retransmission=False)
        else:
            seg = self.snd_nxt - 1
            while seg >= self.snd_una and self.state[seg - self.base] == _SACKED:
                seg -= 1
            if seg >= self.snd_una:
                if self.state[seg - self.base] == _LOST:
                    self.pipe += 1
                self.state[seg - self.base] = _RETX
                self._transmit(seg, retransmission=True)
        self._schedule()

    def _timeout(self) -> None:
        now = self.env.now
        self.ssthresh = self.cc.ssthresh_on_loss(now)
        self.cwnd = 1.0
        self.in_recovery = False
        self.in_loss = True
        self.recover = self.snd_nxt - 1
        self.rto = min(self.rto * 2.0, self.rto_max)
        self.lost_queue.clear()
        self.pipe = 0
        base = self.base
        for seg in range(self.snd_una, self.snd_nxt):
            st = self.state[seg - base]
            if st == _IN_FLIGHT or st == _RETX or st == _LOST:
                self.state[seg - base] = _LOST
                self.lost_queue.append(seg)
        self.reo_deadline = None
        self.rto_start = now
        self._send_what_fits()

    def _trim(self) -> None:
        """Forget acknowledged segments so that long connections stay small."""
        cut = self.snd_una - self.base
        for name in ("state", "size", "owner", "sent_at"):
            del getattr(self, name)[:cut]
        self.base = self.snd_una

    # ---------------------------------------------------------------- receiver

    def _on_data(self, packet: tuple[int, float]) -> None:
        seg, sent = packet
        record = self.owner[seg - self.base] if seg >= self.base else None
        if seg == self.rcv_nxt:
            self.rcv_nxt += 1
            ooo = self.out_of_order
            while self.rcv_nxt in ooo:
                ooo.remove(self.rcv_nxt)
                self.rcv_nxt += 1
            messages = self.messages
            while messages and messages[0][0] < self.rcv_nxt:
                messages.popleft()[1].succeed(True)
            sack = -1
        elif seg > self.rcv_nxt:
            self.out_of_order.add(seg)
            sack = seg
        else:
            sack = -1
        ip_bytes = IP_TCP_HEADER + (_SACK_OPTION if sack >= 0 else 0)
        wire = self.ack_link.send(
            ip_bytes, (self.rcv_nxt, sack, sent), self._on_ack, None, self.radio, record
        )
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
        self.established = env.event()
        self._syn_tries = 0
        self._syn_sent_at = 0.0
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
        self._syn_sent_at = self.env.now
        self._charge(
            self.channel.up.send(SYN_BYTES, None, self._on_syn, None, self.radio, self._record)
        )
        self.env.timeout(timeout).callbacks.append(self._syn_timer)

    def _syn_timer(self, _event: simpy.Event) -> None:
        self._send_syn()

    def _on_syn(self, _packet) -> None:
        self._charge(
            self.channel.down.send(
                SYN_BYTES, None, self._on_syn_ack, None, self.radio, self._record
            )
        )

    def _on_syn_ack(self, _packet) -> None:
        if self.established.triggered:
            return
        if self._syn_tries == 1:
            rtt = self.env.now - self._syn_sent_at
            for flow in (self.up, self.down):
                flow._rtt_sample(rtt)
        else:  # RFC 6298 (5.7): after a retransmitted SYN, start from RTO = 3 s
            for flow in (self.up, self.down):
                flow.rto = 3.0
        # The final ACK of the handshake travels with the first data segment.
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
