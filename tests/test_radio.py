"""The radio's energy account against hand computations: promotion, transfer, tail, idle."""

from __future__ import annotations

import math

import numpy as np
import pytest
import simpy

from splitetimpera.sim.channel import LinkParams
from splitetimpera.sim.frames import FrameRecord
from splitetimpera.sim.params import EnergyParams, JobParams, NetworkParams, RunSpec, WorkloadParams
from splitetimpera.sim.radio import Radio, RadioParams
from splitetimpera.sim.run import run_configuration

# LTE as shipped (ARO's parameters), per bit instead of per Mbit/s
LTE = RadioParams(
    base=1.2,
    up_per_bit=0.43839e-6,
    down_per_bit=0.05197e-6,
    promotion_s=0.26,
    promotion_w=1.21,
    tail_s=10.12,
    tail_w=1.06,
    idle_w=0.019955,
)
RATE = 1e6  # bytes per second both ways
DELAY = 0.02
TAIL_COMPUTE = 0.004
PAYLOAD = 10_000
RESULT = 64


def _wire(payload: int) -> int:
    """UDP wire bytes: 1472 B per datagram, 28 B of IP/UDP and 38 B of link overhead each."""
    return payload + math.ceil(payload / 1472) * (28 + 38)


def _run(
    times_rate: float,
    frames: int,
    mode: str = "RC",
    radio=LTE,
    fidelity="packet",
    protocol="udp",
):
    link = LinkParams(rate=RATE, delay=DELAY)
    spec = RunSpec(
        seed=1,
        devices=1,
        workers=1,
        workload=WorkloadParams("periodic", frames, rate=times_rate, result_size=RESULT),
        network=NetworkParams(link, link, protocol=protocol, fidelity=fidelity),
        job=JobParams(mode, PAYLOAD, np.array([0.0]), np.array([TAIL_COMPUTE])),
        energy=EnergyParams(idle_w=1.0, active_w=3.0, radio=radio, battery_j=36_000.0),
    )
    return run_configuration(spec)


def test_a_single_transfer_costs_promotion_plus_transfer_plus_tail():
    # one frame every 100 s: the tail (10.12 s) runs out long before the window ends
    out = _run(0.01, 1)
    (record,) = out.records
    up, down = _wire(PAYLOAD), _wire(RESULT)
    # the frame waits for the promotion, then its datagrams go back to back
    assert record.t_done == pytest.approx(
        LTE.promotion_s + up / RATE + DELAY + TAIL_COMPUTE + down / RATE + DELAY, rel=1e-12
    )
    # transfer: base power from the first uplink byte to the last downlink byte (the wait
    # for the result is a gap within the frame's transfer), plus the bits
    on_air = up / RATE + DELAY + TAIL_COMPUTE + DELAY + down / RATE
    transfer = LTE.base * on_air + LTE.up_per_bit * 8 * up + LTE.down_per_bit * 8 * down
    promotion = LTE.promotion_w * LTE.promotion_s
    tail = LTE.tail_w * LTE.tail_s
    assert record.energy_radio == pytest.approx(transfer, rel=1e-12)
    assert record.energy_tail == pytest.approx(promotion + tail, rel=1e-12)
    account = out.stats["energy"]
    assert account["promotions"] == 1
    assert account["transfer"] == pytest.approx(transfer, rel=1e-12)
    assert account["tail"] == pytest.approx(promotion + tail, rel=1e-12)
    # idle for the rest of the 100 s window
    idle = 100.0 - (LTE.promotion_s + on_air + LTE.tail_s)
    assert account["radio_idle"] == pytest.approx(LTE.idle_w * idle, rel=1e-9)


def test_two_frames_closer_than_the_tail_share_one_tail():
    gap = 2.0  # < 10.12 s of tail
    out = _run(1 / gap, 2)
    first, second = out.records
    account = out.stats["energy"]
    assert account["promotions"] == 1  # the second frame finds the radio connected
    assert second.t_done - second.t_gen == pytest.approx(
        first.t_done - first.t_gen - LTE.promotion_s, rel=1e-9
    )
    # the first frame pays the promotion and the tail until the second frame's first
    # packet; the second pays the tail after its own last packet (cut at the window end,
    # one gap after its generation)
    assert first.energy_tail == pytest.approx(
        LTE.promotion_w * LTE.promotion_s + LTE.tail_w * (second.t_gen - first.t_done), rel=1e-9
    )
    assert second.energy_tail == pytest.approx(LTE.tail_w * (2 * gap - second.t_done), rel=1e-9)
    separate = 2 * (LTE.promotion_w * LTE.promotion_s + LTE.tail_w * LTE.tail_s)
    assert account["tail"] < separate / 2


def test_frames_farther_apart_than_the_tail_each_pay_promotion_and_tail():
    out = _run(1 / 30.0, 2)  # 30 s apart
    first, second = out.records
    assert out.stats["energy"]["promotions"] == 2
    full = LTE.promotion_w * LTE.promotion_s + LTE.tail_w * LTE.tail_s
    assert first.energy_tail == pytest.approx(full, rel=1e-9)
    assert second.energy_tail == pytest.approx(full, rel=1e-9)
    assert first.energy_radio == pytest.approx(second.energy_radio, rel=1e-9)


@pytest.mark.parametrize("mode", ["RC", "LC"])
def test_idle_energy_grows_with_the_window_alone(mode):
    # one frame in a 50 s and in a 150 s window: both the board and the radio idle the
    # 100 s more at their idle powers; the frame's own energy does not move
    short, long = _run(1 / 50.0, 1, mode=mode), _run(1 / 150.0, 1, mode=mode)
    a, b = short.stats["energy"], long.stats["energy"]
    assert b["board_idle"] - a["board_idle"] == pytest.approx(1.0 * 100.0, rel=1e-9)
    radio_idle = LTE.idle_w * 100.0 if mode == "RC" else 0.0
    assert b["radio_idle"] - a["radio_idle"] == pytest.approx(radio_idle, rel=1e-9, abs=1e-12)
    for key in ("transfer", "tail", "compute"):
        assert b[key] == pytest.approx(a[key], rel=1e-12), key
    assert b["window"] - a["window"] == pytest.approx(100.0)


def test_lc_keeps_the_radio_off_and_idles_the_board():
    out = _run(0.5, 4, mode="LC")
    account = out.stats["energy"]
    assert account["transfer"] == account["tail"] == account["radio_idle"] == 0.0
    assert all(r.energy_radio == 0.0 and r.energy_tail == 0.0 for r in out.records)
    # the LC frames compute nothing here (head [0]): the board idles the whole window
    assert account["board_idle"] == pytest.approx(1.0 * 4 / 0.5)


def test_no_radio_model_leaves_radio_energy_unknown():
    out = _run(1.0, 2, radio=None)
    assert math.isnan(out.stats["energy"]["transfer"])
    assert all(math.isnan(r.energy_radio) for r in out.records)


def test_fast_fidelity_charges_whole_transfers():
    out = _run(0.5, 20, fidelity="fast")
    assert out.stats["fidelity"] == "fast"
    account = out.stats["energy"]
    assert account["promotions"] == 1 and account["transfer"] > 0
    assert all(r.energy_radio > 0 for r in out.records)


@pytest.mark.parametrize("fidelity", ["packet", "fast"])
def test_a_persistent_connection_wakes_the_radio_at_time_0_without_delaying_a_frame(fidelity):
    out = _run(5.0, 10, protocol="tcp", fidelity=fidelity)
    assert out.stats["fidelity"] == fidelity
    first = out.records[0]
    assert first.t_done - first.t_gen < LTE.promotion_s  # not delayed by the promotion
    account = out.stats["energy"]
    assert account["promotions"] == 1
    # the handshake's promotion belongs to no frame
    assert account["unowned"] >= LTE.promotion_w * LTE.promotion_s


def test_packets_reported_out_of_order_are_swept_in_time_order():
    env = simpy.Environment()
    radio = Radio(env, RadioParams(base=1.0, tail_s=1.0, tail_w=0.5, idle_w=0.1))
    a, b = FrameRecord(0, 0, 0.0), FrameRecord(0, 1, 0.0)
    for record in (a, b):
        record.energy_radio = record.energy_tail = 0.0
    radio.up(3.0, 3.5, 0, b)  # a queued packet, reported first
    radio.down(1.0, 2.0, 0, a)
    radio.close(10.0)
    # idle 0-1, a 1-2, tail 2-3 (a pays), b 3-3.5, tail 3.5-4.5 (b pays), idle to 10
    assert a.energy_radio == pytest.approx(1.0) and b.energy_radio == pytest.approx(0.5)
    assert a.energy_tail == pytest.approx(0.5) and b.energy_tail == pytest.approx(0.5)
    assert radio.idle == pytest.approx(0.1 * (1.0 + 5.5))


def test_radio_parameters_refuse_negative_values():
    with pytest.raises(ValueError, match=">= 0"):
        RadioParams(base=-1.0)
