"""TCP against what can be computed: the slow-start latency model, goodput, recovery."""

from __future__ import annotations

import math

import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from splitetimpera.errors import UnknownNameError
from splitetimpera.sim import tcp
from splitetimpera.sim.channel import Channel, LinkParams, LossModel
from splitetimpera.sim.congestion import CONGESTION_CONTROLS, Reno
from splitetimpera.sim.frames import FrameRecord
from splitetimpera.sim.tcp import SYN_BYTES, TIMESTAMP_OPTION, Connection, timer_fire_time
from splitetimpera.sim.transfer import TransferSetup, measure_transfers
from splitetimpera.sim.transport import TransportParams, make_transport

OVERHEAD = 38
HEADER = 40 + TIMESTAMP_OPTION  # IP, TCP and the timestamp option Linux sends
MSS = 1500 - HEADER  # 1448


def slow_start_model(
    payload: int, rate: float, delay: float, mtu: int = 1500, iw: int = 10, fresh: bool = True
) -> float:
    """Latency of a loss-free TCP transfer (Kurose & Ross's model with stalls).

    T = handshake + O/R + d + sum over windows k before the last of
        max(0, S/R + RTT - W_k S/R),  W_k = iw 2^(k-1),
    with O the wire bytes of all segments, S a full segment's wire size, RTT the
    round trip of an ACK (two delays and its serialisation). Segments carry the 12 B
    timestamp option.
    """
    mss = mtu - HEADER
    n = math.ceil(payload / mss)
    sizes = [mss] * (n - 1) + [payload - mss * (n - 1)]
    wire = sum(s + HEADER + OVERHEAD for s in sizes)
    seg = (mss + HEADER + OVERHEAD) / rate
    ack = (HEADER + OVERHEAD) / rate
    rtt = 2 * delay + ack
    handshake = 2 * ((SYN_BYTES + OVERHEAD) / rate + delay) if fresh else 0.0
    stalls, sent, window = 0.0, 0, iw
    while sent + window < n:
        stalls += max(0.0, seg + rtt - window * seg)
        sent += window
        window *= 2
    return handshake + wire / rate + delay + stalls


def _setup(
    payload,
    rate,
    delay,
    loss=0.0,
    connection="per-frame",
    congestion="cubic",
    queue=100_000,
    gap=0.0,
):
    link = LinkParams(rate=rate, delay=delay, loss=loss, queue_limit=queue, overhead=OVERHEAD)
    return TransferSetup(
        "tcp",
        payload,
        link,
        link,
        TransportParams(connection=connection, congestion=congestion),
        gap,
    )


@pytest.mark.parametrize("payload", [10_000, 100_000, 1_000_000, 4_000_000])
@pytest.mark.parametrize("mbit", [10, 100])
@pytest.mark.parametrize("delay", [0.005, 0.025])
def test_loss_free_transfer_matches_slow_start_model(payload, mbit, delay):
    rate = mbit * 1e6 / 8
    table = measure_transfers(_setup(payload, rate, delay), reps=2, seed=1)
    expected = slow_start_model(payload, rate, delay)
    for measured in table["duration"]:
        assert measured == pytest.approx(expected, rel=0.02)


def test_methods_example_one_megabyte_at_100_mbit_25_ms():
    # METHODS: "1 MB at 100 Mbit/s and 25 ms one-way takes ~0.41 s, against 0.08 s of pure sending"
    table = measure_transfers(_setup(1_000_000, 100e6 / 8, 0.025), reps=1, seed=0)
    duration = float(table["duration"].iloc[0])
    assert 0.35 < duration < 0.45
    assert duration > 4 * (1_000_000 / (100e6 / 8))


@settings(max_examples=25, deadline=None)
@given(
    payload=st.integers(min_value=1, max_value=3_000_000),
    mbit=st.floats(min_value=1, max_value=1000),
    delay=st.floats(min_value=0, max_value=0.1),
    loss=st.sampled_from([0.0, 0.01, 0.05]),
)
def test_goodput_never_exceeds_link_rate_times_payload_share(payload, mbit, delay, loss):
    rate = mbit * 1e6 / 8
    table = measure_transfers(_setup(payload, rate, delay, loss=loss), reps=2, seed=3)
    efficiency = MSS / (MSS + HEADER + OVERHEAD)
    for _, row in table[table["ok"]].iterrows():
        assert payload / row["duration"] <= rate * efficiency * (1 + 1e-9)


@settings(max_examples=20, deadline=None)
@given(
    payload=st.integers(min_value=1, max_value=2_000_000),
    slow=st.floats(min_value=0.5, max_value=200),
    factor=st.floats(min_value=1.0, max_value=20),
    delay=st.floats(min_value=0, max_value=0.05),
    protocol=st.sampled_from(["tcp", "udp"]),
)
def test_more_bandwidth_never_makes_a_loss_free_transfer_slower(
    payload, slow, factor, delay, protocol
):
    durations = []
    for mbit in (slow, slow * factor):
        setup = _setup(payload, mbit * 1e6 / 8, delay)
        setup = TransferSetup(protocol, setup.payload, setup.link, setup.reverse, setup.transport)
        durations.append(float(measure_transfers(setup, reps=1, seed=0)["duration"].iloc[0]))
    assert durations[1] <= durations[0] * (1 + 1e-12)


class _DropPackets(LossModel):
    """Loses the packets with the given indices (0 = first packet on the link) and
    records when each packet was put on the link."""

    name = "drop-list"

    def __init__(self, indices, env=None):
        self.indices = set(indices)
        self.i = -1
        self.env = env
        self.times: list[float] = []

    def lost(self) -> bool:
        self.i += 1
        if self.env is not None:
            self.times.append(self.env.now)
        return self.i in self.indices

    @property
    def mean(self) -> float:
        return 0.0


def _one_transfer(
    payload,
    rate=10e6 / 8,
    delay=0.01,
    drop_up=(),
    drop_down=(),
    connection="per-frame",
    congestion="cubic",
    queue=100_000,
    channel_out=None,
    ack_spike=None,
    **transport,
):
    """One message over a fresh link; ``ack_spike=(at, extra)`` holds the ACKs sent in the
    millisecond after ``at`` seconds for ``extra`` seconds more (those behind them queue, as
    on a FIFO link): a delay spike."""
    env = simpy.Environment()
    link = LinkParams(rate=rate, delay=delay, queue_limit=queue, overhead=OVERHEAD)
    channel = Channel(env, link, link, np.random.default_rng(0), np.random.default_rng(1))
    channel.up.loss = _DropPackets(drop_up, env)
    channel.down.loss = _DropPackets(drop_down, env)
    if channel_out is not None:
        channel_out.append(channel)
    if ack_spike is not None:

        def spike(at, extra):
            yield env.timeout(at)
            channel.down.delay += extra
            yield env.timeout(0.001)
            channel.down.delay -= extra

        env.process(spike(*ack_spike))
    transport = make_transport(
        "tcp",
        env,
        channel,
        TransportParams(connection=connection, congestion=congestion, **transport),
        0,
        np.random.default_rng(2),
    )
    transport.start()
    record = FrameRecord(device=0, frame=0, t_gen=0.0)
    done = {}

    def go():
        ok = yield transport.send("up", payload, record)
        done["t"], done["ok"] = env.now, ok

    env.process(go())
    env.run()
    return done, record


def test_lost_syn_costs_the_one_second_syn_timeout():
    clean, _ = _one_transfer(10_000)
    lost, record = _one_transfer(10_000, drop_up=[0])
    assert lost["ok"]
    assert lost["t"] - clean["t"] == pytest.approx(1.0, abs=1e-9)
    assert record.packets > 0


def test_a_lost_segment_is_fast_retransmitted_without_waiting_for_the_rto():
    clean, _ = _one_transfer(200_000)
    # packet 0 is the SYN; drop the 3rd data segment
    lossy, record = _one_transfer(200_000, drop_up=[3])
    assert record.retransmissions == 1
    extra = lossy["t"] - clean["t"]
    assert 0 < extra < 0.2  # well under the 200 ms floor of the RTO


def test_lost_tail_segments_are_recovered_by_a_tail_loss_probe():
    payload = 10 * MSS  # 10 segments: all in the initial window
    clean, _ = _one_transfer(payload)
    # packet 0 is the SYN; lose the last two segments: no ACK comes to signal it
    lossy, record = _one_transfer(payload, drop_up=[9, 10])
    # the probe resends the last segment; its SACK shows the other one lost (RACK)
    assert lossy["ok"] and record.retransmissions == 2
    srtt = 2 * 0.01
    extra = lossy["t"] - clean["t"]
    assert 2 * srtt < extra < 0.2  # a probe after ~2 SRTT, not a 200 ms+ RTO


def test_a_lone_lost_last_segment_waits_about_an_rto_as_on_linux():
    # with one packet outstanding Linux adds 200 ms to the probe timeout (delayed-ACK
    # allowance), so the probe comes no earlier than the RTO would
    payload = 10 * MSS + 100  # the 11th segment leaves alone, once the first ACK opens cwnd
    clean, _ = _one_transfer(payload)
    lossy, record = _one_transfer(payload, drop_up=[11])
    assert lossy["ok"] and record.retransmissions == 1
    assert 0.2 < lossy["t"] - clean["t"] < 0.35


def test_retransmission_timeout_backs_off_when_everything_is_lost_for_a_while():
    # the first data segment and its retransmissions are lost three times
    lossy, record = _one_transfer(1000, drop_up=[1, 2, 3, 4])
    clean, _ = _one_transfer(1000)
    assert lossy["ok"]
    assert record.retransmissions >= 3
    # probe, then RTOs of >= 200 ms doubling: at least 0.2 + 0.4 s late
    assert lossy["t"] - clean["t"] > 0.6


@pytest.mark.parametrize("congestion", ["reno", "cubic"])
def test_lossy_transfers_complete(congestion):
    table = measure_transfers(
        _setup(1_000_000, 20e6 / 8, 0.02, loss=0.03, congestion=congestion), reps=5, seed=4
    )
    assert table["ok"].all()
    assert table["retransmissions"].sum() > 0
    assert (table["duration"] > slow_start_model(1_000_000, 20e6 / 8, 0.02)).all()


def test_persistent_connection_restarts_slow_start_after_idle():
    rate, delay, payload = 100e6 / 8, 0.02, 1_000_000
    busy = measure_transfers(
        _setup(payload, rate, delay, connection="persistent", gap=0.0), reps=3, seed=0
    )
    idle = measure_transfers(
        _setup(payload, rate, delay, connection="persistent", gap=5.0), reps=3, seed=0
    )
    # back to back, the window grown by the first transfer carries over
    assert busy["duration"].iloc[1] < 0.6 * busy["duration"].iloc[0]
    # after 5 s idle (many RTOs) each transfer slow-starts from the initial window again
    fresh_no_handshake = slow_start_model(payload, rate, delay, fresh=False)
    for d in idle["duration"].iloc[1:]:
        assert d == pytest.approx(fresh_no_handshake, rel=0.02)


def test_congestion_controls_are_found_by_name_and_extensible():
    assert {"reno", "cubic"} <= set(CONGESTION_CONTROLS)

    @CONGESTION_CONTROLS.register
    class Halving(Reno):
        name = "test-halving"

        def ssthresh_on_loss(self, now):
            return 2.0

    try:
        table = measure_transfers(
            _setup(300_000, 10e6 / 8, 0.01, loss=0.02, congestion="test-halving"), reps=2, seed=0
        )
        assert table["ok"].all()
    finally:
        CONGESTION_CONTROLS.unregister("test-halving")
    with pytest.raises(UnknownNameError, match="Known: reno, cubic"):
        measure_transfers(_setup(1000, 1e6, 0.01, congestion="bbr"), reps=1, seed=0)


def test_unknown_protocol_lists_the_known_ones():
    setup = _setup(1000, 1e6, 0.01)
    with pytest.raises(UnknownNameError, match="Known: .*tcp.*udp|Known: .*udp.*tcp"):
        measure_transfers(
            TransferSetup("sctp", 1000, setup.link, setup.reverse, setup.transport), reps=1, seed=0
        )


# ---------------------------------------------------------------- Linux's wire and ACKs


def test_segments_carry_1448_bytes_beside_the_timestamp_option():
    channels: list[Channel] = []
    done, record = _one_transfer(10 * MSS, channel_out=channels)
    up = channels[0].up
    # a SYN, then exactly 10 full segments of 1500 B on the wire (plus framing)
    assert done["ok"] and up.packets == 11
    assert up.bytes == SYN_BYTES + OVERHEAD + 10 * (1500 + OVERHEAD)
    # without timestamps the same bytes fit 1460 B segments: 9 full and a short one
    channels.clear()
    _one_transfer(10 * MSS, channel_out=channels, timestamps=False)
    assert channels[0].up.packets == 11
    assert channels[0].up.bytes == SYN_BYTES + OVERHEAD + 10 * MSS + 10 * (40 + OVERHEAD)


def test_the_initial_window_is_acked_segment_by_segment():
    # quick-ACK mode (16) and the opening receive window ACK every segment at first
    channels: list[Channel] = []
    _one_transfer(10 * MSS, channel_out=channels)
    assert channels[0].down.packets == 1 + 10  # the SYN-ACK, then one ACK per segment


def _receiver(delayed_ack=True):
    """A flow whose receiver has left quick-ACK mode and whose window no longer grows."""
    env = simpy.Environment()
    link = LinkParams(rate=10e6 / 8, delay=0.01, overhead=OVERHEAD)
    channel = Channel(env, link, link, np.random.default_rng(0), np.random.default_rng(1))
    channel.down.loss = _DropPackets((), env)
    conn = Connection(env, channel, TransportParams(delayed_ack=delayed_ack))
    flow = conn.up
    flow.quick, flow.last_rcv = 0, 0.0
    flow.rcv_ssthresh = flow.window_clamp
    flow.rcvq_time = math.inf
    return env, channel, flow


def test_after_quick_acks_every_second_full_segment_is_acked():
    env, channel, flow = _receiver()
    flow.write(4 * MSS, FrameRecord(device=0, frame=0, t_gen=0.0))
    env.run()
    assert channel.down.packets == 2  # after the 2nd and the 4th segment
    env, channel, flow = _receiver(delayed_ack=False)
    flow.write(4 * MSS, FrameRecord(device=0, frame=0, t_gen=0.0))
    env.run()
    assert channel.down.packets == 4


def test_a_lone_full_segment_waits_for_the_delayed_ack_timer():
    env, channel, flow = _receiver()
    flow.write(3 * MSS, FrameRecord(device=0, frame=0, t_gen=0.0))
    env.run()
    acks = channel.down.loss.times
    assert len(acks) == 2
    third_arrival = 3 * (MSS + HEADER + OVERHEAD) / (10e6 / 8) + 0.01
    # 40 ms, rounded up to the 4 ms tick and past the current one
    assert acks[1] == pytest.approx(timer_fire_time(third_arrival, 0.040, 0.004))
    assert 0.040 < acks[1] - third_arrival <= 0.048
    # a short last segment (the end of a message the application reads) goes at once
    env, channel, flow = _receiver()
    flow.write(2 * MSS + 100, FrameRecord(device=0, frame=0, t_gen=0.0))
    env.run()
    assert len(channel.down.loss.times) == 2
    assert channel.down.loss.times[1] == pytest.approx(
        (2 * (MSS + HEADER) + 100 + HEADER + 3 * OVERHEAD) / (10e6 / 8) + 0.01
    )


def test_sack_blocks_survive_lost_acks_without_spurious_retransmissions():
    # one data segment lost, then many of the ACKs that SACK the segments after it: each
    # ACK carries the whole received range, so the sender never resends what arrived
    payload = 200 * MSS
    lossy, record = _one_transfer(payload, drop_up=[40], drop_down=range(30, 60, 2))
    assert lossy["ok"] and record.retransmissions == 1


def test_the_fast_retransmission_leaves_with_the_ack_that_starts_recovery(monkeypatch):
    # PRR sends the retransmission at once, though more is in flight than the new ssthresh
    sent, acks = [], []
    transmit, on_ack = tcp._Flow._transmit, tcp._Flow._on_ack

    def spy_transmit(self, seg, now, retransmission):
        sent.append((now, seg, retransmission))
        transmit(self, seg, now, retransmission)

    def spy_ack(self, ack):
        on_ack(self, ack)
        acks.append((self.env.now, self.sacked_out))

    monkeypatch.setattr(tcp._Flow, "_transmit", spy_transmit)
    monkeypatch.setattr(tcp._Flow, "_on_ack", spy_ack)
    done, record = _one_transfer(300 * MSS, drop_up=[60])
    assert done["ok"] and record.retransmissions == 1
    retransmitted = [t for t, seg, retx in sent if retx]
    third_dupack = next(t for t, sacked in acks if sacked >= 3)
    assert retransmitted == [third_dupack]


def test_prr_spreads_the_reduced_window_over_the_recovery(monkeypatch):
    # one segment lost from a window of 36: recovery sends ssthresh segments in all (the
    # retransmission and new data), about ssthresh/prior_cwnd per ACK, never pausing;
    # cutting cwnd to ssthresh at once (the model before PRR) went silent for the first
    # prior_cwnd - ssthresh = 11 ACKs
    sent, acks = [0], []  # transmissions so far; per ACK: state after it, ssthresh, sent
    transmit, on_ack = tcp._Flow._transmit, tcp._Flow._on_ack

    def spy_transmit(self, seg, now, retransmission):
        sent[0] += 1
        transmit(self, seg, now, retransmission)

    def spy_ack(self, ack):
        before = sent[0]
        on_ack(self, ack)
        acks.append((self.ca_state, self.ssthresh, sent[0] - before))

    monkeypatch.setattr(tcp._Flow, "_transmit", spy_transmit)
    monkeypatch.setattr(tcp._Flow, "_on_ack", spy_ack)
    done, record = _one_transfer(400 * MSS, drop_up=[150])
    assert done["ok"] and record.retransmissions == 1
    in_recovery = [(ssthresh, n) for state, ssthresh, n in acks if state == tcp._RECOVERY]
    assert sum(n for _, n in in_recovery) == in_recovery[0][0] == 25
    longest = silent = 0
    for _, n in in_recovery:
        silent = silent + 1 if n == 0 else 0
        longest = max(longest, silent)
    assert longest <= 2


def test_rack_recovers_a_loss_with_two_segments_after_it_by_its_reordering_timer():
    # segment 8 of 10 lost: two SACKs follow, short of the three duplicate ACKs. RACK marks
    # it lost a quarter of the min RTT after the first SACK and resends it then; a tail
    # loss probe would have waited 2 SRTT and resent segment 10 as well
    clean, _ = _one_transfer(10 * MSS)
    lossy, record = _one_transfer(10 * MSS, drop_up=[8])  # packet 0 is the SYN
    assert lossy["ok"] and record.retransmissions == 1
    srtt = 2 * 0.01
    assert srtt < lossy["t"] - clean["t"] < srtt + srtt / 4 + 3 * 0.004 + 0.002


def test_one_loss_probe_per_episode_then_the_rto():
    # the last two segments and the probe (which resends the last) are lost: no second
    # probe, the RTO resends the head, then RACK the other: three retransmissions
    clean, _ = _one_transfer(10 * MSS)
    lossy, record = _one_transfer(10 * MSS, drop_up=[9, 10, 11])
    assert lossy["ok"] and record.retransmissions == 3
    assert lossy["t"] - clean["t"] > 0.2 + 2 * 0.02  # the probe, then an RTO of >= 200 ms


@pytest.mark.parametrize("timestamps", [False, True])
def test_a_spurious_timeout_costs_one_retransmission(timestamps):
    # the ACKs stall for 0.5 s (nothing is lost): the RTO resends the head. Then the ACKs of
    # the original segments arrive. F-RTO sends new data on the first and, as the second
    # also acknowledges segments sent once, undoes the timeout; without it the sender goes
    # back and resends everything the timeout marked lost. With timestamps the first ACK's
    # echo predates the retransmission (Eifel): undone at once, F-RTO or not
    counts = {}
    for frto in (True, False):
        done, record = _one_transfer(
            300 * MSS, ack_spike=(0.1, 0.5), timestamps=timestamps, frto=frto
        )
        assert done["ok"]
        counts[frto] = record.retransmissions
    assert counts[True] == 1
    if timestamps:
        assert counts[False] == 1
    else:
        assert counts[False] > 10


# ---------------------------------------------------------------- slow start and cwnd


def test_hystart_leaves_slow_start_before_the_queue_overflows():
    # 10 Mbit/s, 25 ms: 43 segments in flight fill the pipe and 100 more the queue. Slow
    # start doubles past 143 and overflows it; HyStart sees the RTT rise and stops early.
    kw = dict(rate=10e6 / 8, delay=0.025, queue=100)
    with_hystart, record = _one_transfer(1_000_000, **kw)
    assert with_hystart["ok"] and record.retransmissions == 0
    without, record = _one_transfer(1_000_000, hystart=False, **kw)
    assert without["ok"] and record.retransmissions > 0


def _persistent_transport():
    """One device's TCP transport with its persistent connection, on a loss-free link."""
    env = simpy.Environment()
    link = LinkParams(rate=100e6 / 8, delay=0.005, overhead=OVERHEAD)
    channel = Channel(env, link, link, np.random.default_rng(0), np.random.default_rng(1))
    transport = make_transport("tcp", env, channel, TransportParams(), 0, np.random.default_rng(2))
    transport.start()
    return env, transport


def test_an_application_limited_connection_does_not_grow_its_window():
    # 3-segment messages every 100 ms never fill the initial window of 10: cwnd stays
    env, transport = _persistent_transport()

    def app():
        for i in range(100):
            record = FrameRecord(device=0, frame=i, t_gen=env.now)
            yield transport.send("up", 3 * MSS, record)
            yield env.timeout(0.1)

    env.process(app())
    env.run()
    assert transport.persistent.up.cwnd == 10


def test_a_burst_after_application_limited_sending_starts_from_the_unused_window():
    # 100 messages of 3 segments leave cwnd at 10; a window grown on their ACKs (to 310)
    # would put 310 segments at once into a 100-packet queue and lose about 200
    env = simpy.Environment()
    link = LinkParams(rate=10e6 / 8, delay=0.01, queue_limit=100, overhead=OVERHEAD)
    channel = Channel(env, link, link, np.random.default_rng(0), np.random.default_rng(1))
    transport = make_transport("tcp", env, channel, TransportParams(), 0, np.random.default_rng(2))
    transport.start()
    burst = FrameRecord(device=0, frame=100, t_gen=0.0)

    def app():
        for i in range(100):
            yield transport.send("up", 3 * MSS, FrameRecord(device=0, frame=i, t_gen=env.now))
            yield env.timeout(0.1)
        assert transport.persistent.up.cwnd == 10
        yield transport.send("up", 200 * MSS, burst)

    env.process(app())
    env.run()
    assert burst.retransmissions == 0 and channel.up.dropped == 0


def _frame_stream(frames, size, period, queue, **transport):
    """A persistent connection sending ``size`` bytes every ``period`` seconds over
    10 Mbit/s, 10 ms; returns the uplink (its drops) and the transport."""
    env = simpy.Environment()
    link = LinkParams(rate=10e6 / 8, delay=0.01, queue_limit=queue, overhead=OVERHEAD)
    channel = Channel(env, link, link, np.random.default_rng(0), np.random.default_rng(1))
    params = TransportParams(**transport)
    tcp_transport = make_transport("tcp", env, channel, params, 0, np.random.default_rng(2))
    tcp_transport.start()

    def app():
        for i in range(frames):
            tcp_transport.send("up", size, FrameRecord(device=0, frame=i, t_gen=env.now))
            yield env.timeout(period)

    env.process(app())
    env.run()
    return channel.up, tcp_transport


def test_frames_that_saturate_the_link_do_not_overflow_its_queue():
    # the case: 32 kB frames at 50 fps over 10 Mbit/s, 10 ms, a 1000-packet queue.
    # HyStart leaves slow start at 30 segments and CUBIC stays below the queue (Linux: no
    # retransmission); slow start alone overflowed it
    with_hystart, _ = _frame_stream(300, 32768, 0.02, 1000)
    without, _ = _frame_stream(300, 32768, 0.02, 1000, hystart=False)
    assert with_hystart.dropped == 0
    assert without.dropped > 100


def test_cwnd_grows_while_the_application_fills_it():
    env, transport = _persistent_transport()
    record = FrameRecord(device=0, frame=0, t_gen=0.0)

    def app():
        yield transport.send("up", 200 * MSS, record)

    env.process(app())
    env.run()
    assert transport.persistent.up.cwnd > 10


# ---------------------------------------------------------------- timers and handshake


def test_kernel_timers_fire_on_a_tick_and_never_early():
    # HZ=250: 4 ms ticks; 10 ms from t=1.001 fires at the tick after 1.011 rounded up
    assert timer_fire_time(1.001, 0.010, 0.004) == pytest.approx(1.016)
    assert timer_fire_time(1.000, 0.010, 0.004) == pytest.approx(1.016)
    # 63 ticks or more go to the wheel's second level: 8-tick granularity
    fire = timer_fire_time(0.0, 0.300, 0.004)  # 75 ticks
    assert fire == pytest.approx(0.320) and fire >= 0.300
    assert timer_fire_time(0.5, 0.25, 0.0) == 0.75


def test_a_retried_handshake_still_measures_the_rtt_from_timestamps():
    # the SYN and then the whole initial window are lost. The timestamp echo of the
    # retried handshake gives an RTT, so the probe comes after ~2 RTT and RACK finds the
    # rest. Without timestamps there is no sample: the probe waits the initial 1 s, its
    # SACK gives no RTT either (Karn), and the RTO of RFC 6298 5.7 (3 s) follows
    extra = {}
    for timestamps in (True, False):
        mss = MSS if timestamps else MSS + TIMESTAMP_OPTION
        clean, _ = _one_transfer(10 * mss, drop_up=[0], timestamps=timestamps)
        lossy, record = _one_transfer(10 * mss, drop_up=[0, *range(2, 12)], timestamps=timestamps)
        assert lossy["ok"] and record.retransmissions >= 10
        extra[timestamps] = lossy["t"] - clean["t"]
    assert extra[True] < 0.5
    assert 4.0 < extra[False] < 4.5


def test_a_timeout_resends_the_head_and_gives_up_only_on_old_segments():
    # RACK-aware RTO marking: segments sent within the last RTT are not declared lost
    env = simpy.Environment()
    link = LinkParams(rate=100e6 / 8, delay=0.01, overhead=OVERHEAD)
    channel = Channel(env, link, link, np.random.default_rng(0), np.random.default_rng(1))
    channel.up.loss = _DropPackets(range(1000))  # nothing arrives
    flow = Connection(env, channel, TransportParams()).up
    record = FrameRecord(device=0, frame=0, t_gen=0.0)
    flow.write(5 * MSS, record)
    env.run(until=0.3)
    flow.write(5 * MSS, record)
    flow.rack_rtt = 0.05
    flow._timeout(env.now)
    assert record.retransmissions == 1  # the head only; the rest as cwnd allows later
    lost = [seg for seg in range(10) if flow.flags[seg] & tcp._LOST]
    assert lost == [0, 1, 2, 3, 4]
    assert flow.cwnd == flow._in_flight() == 6  # five recent segments and the head again


def test_cubic_keeps_its_curve_across_an_application_pause():
    # CA_EVENT_TX_START: sending again with nothing in flight moves CUBIC's epoch on by
    # the pause, so that the pause does not count as time on the cubic curve
    env = simpy.Environment()
    link = LinkParams(rate=100e6 / 8, delay=0.005, overhead=OVERHEAD)
    channel = Channel(env, link, link, np.random.default_rng(0), np.random.default_rng(1))
    flow = Connection(env, channel, TransportParams()).up
    flow.ssthresh = 5  # congestion avoidance from the start
    record = FrameRecord(device=0, frame=0, t_gen=0.0)
    flow.write(20 * MSS, record)
    env.run(until=0.1)
    epoch, last_send = flow.cc.epoch_start, flow.last_send
    assert epoch is not None and flow.snd_una == flow.snd_nxt == 20
    env.run(until=0.15)  # idle, shorter than the RTO: no slow-start restart
    flow.write(5 * MSS, record)
    assert flow.cc.epoch_start == pytest.approx(epoch + (0.15 - last_send))
