"""Queues against queueing theory: M/M/1 and M/D/1 mean waits, and the device queue."""

from __future__ import annotations

import numpy as np
import pytest
import simpy

from splitetimpera.sim.compute import LatencySampler
from splitetimpera.sim.device import Device
from splitetimpera.sim.frames import FrameRecord
from splitetimpera.sim.server import Server

from .conftest import SEED


def _mean_wait(
    service, arrival_rate: float, customers: int, workers: int = 1, seed: int = SEED
) -> float:
    env = simpy.Environment()
    server = Server(env, workers)
    rng = np.random.default_rng(seed)
    waits = []

    def customer(record):
        yield from server.run(record, service())
        waits.append(record.t_tail_start - record.t_gen)

    def arrivals():
        for i in range(customers):
            yield env.timeout(rng.exponential(1 / arrival_rate))
            env.process(customer(FrameRecord(device=0, frame=i, t_gen=env.now)))

    env.process(arrivals())
    env.run()
    # drop the warm-up tenth
    return float(np.mean(waits[customers // 10 :]))


def test_mm1_mean_wait():
    lam, mu = 60.0, 100.0
    rng = np.random.default_rng(SEED + 1)
    wait = _mean_wait(lambda: rng.exponential(1 / mu), lam, 150_000)
    rho = lam / mu
    assert wait == pytest.approx(rho / (mu - lam), rel=0.05)


def test_md1_mean_wait():
    lam, mu = 60.0, 100.0
    wait = _mean_wait(lambda: 1 / mu, lam, 100_000)
    rho = lam / mu
    assert wait == pytest.approx(rho / (2 * mu * (1 - rho)), rel=0.05)


def test_more_workers_mean_less_waiting():
    lam, mu = 150.0, 100.0
    rng = np.random.default_rng(SEED + 2)
    two = _mean_wait(lambda: rng.exponential(1 / mu), lam, 150_000, workers=2)
    three = _mean_wait(lambda: rng.exponential(1 / mu), lam, 30_000, workers=3)
    assert three < two
    # M/M/2 mean wait (Erlang C)
    a = lam / mu
    rho = a / 2
    p0 = 1 / (1 + a + a**2 / (2 * (1 - rho)))
    erlang_c = a**2 / (2 * (1 - rho)) * p0
    assert two == pytest.approx(erlang_c / (2 * mu - lam), rel=0.05)


def test_device_runs_one_frame_at_a_time():
    env = simpy.Environment()
    device = Device(env, 0)
    records = [FrameRecord(device=0, frame=i, t_gen=0.0) for i in range(3)]
    for r in records:
        env.process(device.run(r, 0.5))
    env.run()
    assert [r.t_head_start for r in records] == [0.0, 0.5, 1.0]
    assert [r.t_head_end for r in records] == [0.5, 1.0, 1.5]
    assert device.busy == pytest.approx(1.5)


def test_latency_sampler_draws_from_the_measured_samples():
    rng = np.random.default_rng(SEED)
    sampler = LatencySampler([0.001, 0.002, 0.010], slowdown=2.0, rng=rng)
    draws = {sampler() for _ in range(200)}
    assert draws == {0.002, 0.004, 0.020}
    assert LatencySampler([0.003], 1.0, rng)() == 0.003
    with pytest.raises(ValueError, match="slowdown"):
        LatencySampler([0.1], 0.0, rng)
    with pytest.raises(ValueError, match="at least one"):
        LatencySampler([], 1.0, rng)


def test_server_refuses_zero_workers():
    with pytest.raises(ValueError, match='"workers" must be > 0'):
        Server(simpy.Environment(), 0)
