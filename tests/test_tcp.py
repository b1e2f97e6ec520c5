"""TCP against what can be computed: the slow-start latency model, goodput, recovery."""

from __future__ import annotations

import math

import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from splitetimpera.errors import UnknownNameError
from splitetimpera.sim.channel import Channel, LinkParams, LossModel
from splitetimpera.sim.congestion import CONGESTION_CONTROLS, Reno
from splitetimpera.sim.frames import FrameRecord
from splitetimpera.sim.tcp import SYN_BYTES
from splitetimpera.sim.transfer import TransferSetup, measure_transfers
from splitetimpera.sim.transport import TransportParams, make_transport

OVERHEAD = 38


def slow_start_model(
    payload: int, rate: float, delay: float, mtu: int = 1500, iw: int = 10, fresh: bool = True
) -> float:
    """Latency of a loss-free TCP transfer (Kurose & Ross's model with stalls).

    T = handshake + O/R + d + sum over windows k before the last of
        max(0, S/R + RTT - W_k S/R),  W_k = iw 2^(k-1),
    with O the wire bytes of all segments, S a full segment's wire size, RTT the
    round trip of an ACK (two delays and its serialisation).
    """
    mss = mtu - 40
    n = math.ceil(payload / mss)
    sizes = [mss] * (n - 1) + [payload - mss * (n - 1)]
    wire = sum(s + 40 + OVERHEAD for s in sizes)
    seg = (mss + 40 + OVERHEAD) / rate
    ack = (40 + OVERHEAD) / rate
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
    mss = 1460
    efficiency = mss / (mss + 40 + OVERHEAD)
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
    """Loses the packets with the given indices (0 = first packet on the link)."""

    name = "drop-list"

    def __init__(self, indices):
        self.indices = set(indices)
        self.i = -1

    def lost(self) -> bool:
        self.i += 1
        return self.i in self.indices

    @property
    def mean(self) -> float:
        return 0.0


def _one_transfer(
    payload, rate=10e6 / 8, delay=0.01, drop_up=(), connection="per-frame", congestion="cubic"
):
    env = simpy.Environment()
    link = LinkParams(rate=rate, delay=delay, queue_limit=100_000, overhead=OVERHEAD)
    channel = Channel(env, link, link, np.random.default_rng(0), np.random.default_rng(1))
    channel.up.loss = _DropPackets(drop_up)
    transport = make_transport(
        "tcp",
        env,
        channel,
        TransportParams(connection=connection, congestion=congestion),
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
    payload = 14_600  # 10 segments: all in the initial window
    clean, _ = _one_transfer(payload)
    # packet 0 is the SYN; lose the last two segments: no ACK comes to signal it
    lossy, record = _one_transfer(payload, drop_up=[9, 10])
    assert lossy["ok"] and record.retransmissions == 2
    srtt = 2 * 0.01
    extra = lossy["t"] - clean["t"]
    assert 2 * srtt < extra < 0.2  # a probe after ~2 SRTT, not a 200 ms+ RTO


def test_a_lone_lost_last_segment_waits_about_an_rto_as_on_linux():
    # with one packet outstanding Linux adds 200 ms to the probe timeout (delayed-ACK
    # allowance), so the probe comes no earlier than the RTO would
    payload = 14_600
    clean, _ = _one_transfer(payload)
    lossy, record = _one_transfer(payload, drop_up=[10])
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
