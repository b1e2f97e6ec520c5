"""The link: serialisation, propagation, queue limit, FIFO under jitter, loss models."""

from __future__ import annotations

import numpy as np
import pytest
import simpy

from splitetimpera.sim.channel import (
    BernoulliLoss,
    BurstyLoss,
    GilbertElliottLoss,
    Link,
    LinkParams,
    LossModel,
    NoLoss,
    make_loss,
)

from .conftest import SEED


def _link(env, **kw) -> Link:
    params = LinkParams(**{"rate": 1e6, "delay": 0.01, **kw})
    return Link(env, params, np.random.default_rng(SEED))


def test_back_to_back_packets_arrive_at_exact_times():
    env = simpy.Environment()
    link = _link(env, overhead=38)
    arrivals = []
    for i in range(3):
        wire = link.send(1462, i, lambda p: arrivals.append((p, env.now)))
        assert wire == 1500
    env.run()
    # each packet: 1500 B at 1e6 B/s = 1.5 ms serialisation, then 10 ms propagation
    assert arrivals == [
        (0, pytest.approx(0.0115)),
        (1, pytest.approx(0.013)),
        (2, pytest.approx(0.0145)),
    ]
    assert link.busy == pytest.approx(0.0045)
    assert link.bytes == 4500 and link.packets == 3


def test_queue_limit_drops_the_tail():
    env = simpy.Environment()
    link = _link(env, queue_limit=2)
    got, lost = [], []
    for i in range(4):
        link.send(1000, i, got.append, lost.append)
    env.run()
    assert got == [0, 1] and lost == [2, 3] and link.dropped == 2
    assert link.space_free_at() == env.now  # empty again


def test_queue_frees_as_packets_leave():
    env = simpy.Environment()
    link = _link(env, queue_limit=1, delay=0.0)
    got = []

    def sender():
        for i in range(3):
            free = link.space_free_at()
            if free > env.now:
                yield env.timeout(free - env.now)
            assert link.send(1000 - 38, i, got.append) > 0

    env.process(sender())
    env.run()
    assert got == [0, 1, 2]
    assert link.dropped == 0


def test_jitter_never_reorders_and_stays_within_bounds():
    env = simpy.Environment()
    link = _link(env, rate=1e9, delay=0.01, jitter=0.005)
    arrivals = []
    for i in range(500):
        link.send(100, i, lambda p: arrivals.append((p, env.now)))
    env.run()
    order = [p for p, _ in arrivals]
    times = [t for _, t in arrivals]
    assert order == sorted(order)
    # serialising 500 packets takes 69 us; FIFO may hold a packet behind a later one by that much
    assert all(0.005 - 1e-12 <= t <= 0.015 + 1e-4 for t in times)
    assert np.std(np.diff(times)) > 0  # jitter did something


def test_bernoulli_loss_rate():
    model = BernoulliLoss(0.03, np.random.default_rng(SEED))
    losses = sum(model.lost() for _ in range(200_000))
    assert losses / 200_000 == pytest.approx(0.03, rel=0.05)


def test_gilbert_elliott_mean_and_bursts():
    model = GilbertElliottLoss(0.01, 0.2, 0.0, 1.0, np.random.default_rng(SEED))
    draws = np.array([model.lost() for _ in range(300_000)])
    assert draws.mean() == pytest.approx(model.mean, rel=0.1)
    # bursty: a loss is followed by a loss far more often than the mean rate
    after_loss = draws[1:][draws[:-1]]
    assert after_loss.mean() > 5 * draws.mean()


def test_make_loss_from_scenario_values():
    rng = np.random.default_rng(SEED)
    assert isinstance(make_loss(0.0, rng), NoLoss)
    assert isinstance(make_loss(0.01, rng), BernoulliLoss)
    model = make_loss(BurstyLoss(p_good_to_bad=0.01, p_bad_to_good=0.1), rng)
    assert isinstance(model, GilbertElliottLoss)
    # stationary bad share 0.01 / 0.11, where every packet is lost
    assert model.mean == pytest.approx(0.01 / 0.11)


def test_loss_models_are_a_small_interface():
    class Every3rd(LossModel):
        name = "every3rd"

        def __init__(self):
            self.i = 0

        def lost(self):
            self.i += 1
            return self.i % 3 == 0

        @property
        def mean(self):
            return 1 / 3

    env = simpy.Environment()
    link = _link(env)
    link.loss = Every3rd()
    got = []
    for i in range(6):
        link.send(100, i, got.append)
    env.run()
    assert got == [0, 1, 3, 4] and link.lost == 2


@pytest.mark.parametrize("bad", [{"rate": 0}, {"delay": -1}, {"queue_limit": 0}])
def test_link_params_refuse_nonsense(bad):
    with pytest.raises(ValueError):
        LinkParams(**{"rate": 1.0, "delay": 0.0, **bad})
