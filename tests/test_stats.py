"""Confidence intervals from a moving-block bootstrap, checked against known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from splitetimpera.stats import block_length, bootstrap_intervals, frames_to_settle


def test_block_length_is_the_cube_root():
    assert [block_length(n) for n in (1, 8, 800, 27_000)] == [1, 2, 9, 30]


def test_a_constant_run_has_a_zero_width_interval():
    out = bootstrap_intervals(
        np.full(100, 0.02), np.zeros(100, bool), [50, 95], np.random.default_rng(0)
    )
    assert out["p50"] == (0.02, 0.02) and out["p95"] == (0.02, 0.02) and out["miss"] == (0.0, 0.0)


def test_intervals_cover_the_true_percentile_of_independent_frames():
    # exponential latencies of mean 10 ms: the true median is 10 ms x ln 2
    rng = np.random.default_rng(1)
    true = 0.010 * math.log(2)
    covered = 0
    for trial in range(40):
        sample = rng.exponential(0.010, 400)
        lo, hi = bootstrap_intervals(sample, sample > 0.03, [50], np.random.default_rng(trial))[
            "p50"
        ]
        covered += lo <= true <= hi
    assert covered >= 32  # a 95 % interval covers about 38 of 40; far fewer means it is wrong


def test_dependent_frames_get_wider_intervals_than_independent_ones():
    # the same values, once in runs of 20 equal frames (a queue that lingers), once shuffled
    rng = np.random.default_rng(2)
    runs = np.repeat(rng.exponential(0.01, 40), 20)
    shuffled = rng.permutation(runs)
    width = {}
    for name, values in (("runs", runs), ("shuffled", shuffled)):
        lo, hi = bootstrap_intervals(values, values > 0.02, [95], np.random.default_rng(3))["p95"]
        width[name] = hi - lo
    assert width["runs"] > 1.3 * width["shuffled"]


def test_lost_frames_count_as_misses_but_not_in_percentiles():
    latency = np.where(np.arange(200) % 10 == 0, math.nan, 0.01)  # every tenth frame lost
    out = bootstrap_intervals(latency, np.isnan(latency), [50], np.random.default_rng(0))
    assert out["p50"] == (0.01, 0.01)
    assert 0.05 < out["miss"][0] <= 0.1 <= out["miss"][1] < 0.15
    empty = bootstrap_intervals(np.array([]), np.array([]), [50], np.random.default_rng(0))
    assert all(math.isnan(x) for x in empty["p50"] + empty["miss"])


def test_frames_to_settle_by_hand():
    # estimate 38 ms, interval [34, 44] ms, limit 40 ms: half-width 6 ms must shrink below
    # 2 ms, a factor of 3 in width, 9 in frames
    assert frames_to_settle(800, 0.038, 0.034, 0.044, 0.040) == 7200
    assert frames_to_settle(800, 0.038, 0.034, 0.039, 0.040) is None  # already clear
    assert frames_to_settle(800, 0.040, 0.034, 0.044, 0.040) is None  # on the limit


def test_the_qos_matcher_flags_a_verdict_that_hangs_on_its_interval():
    import pandas as pd

    from splitetimpera.qos import match
    from splitetimpera.scenario import QosSpec

    row = {
        "config": "RC", "accuracy": 0.99, "latency_qos": 0.038, "latency_qos_lo": 0.034,
        "latency_qos_hi": 0.044, "latency_p99": 0.07, "deadline_miss": 0.02,
        "deadline_miss_lo": 0.01, "deadline_miss_hi": 0.03, "throughput": 10.0,
        "device_util": 0.1, "bytes_per_frame": 1000.0,
    }  # fmt: skip
    result = match(pd.DataFrame([row]), QosSpec(max_latency="40 ms"), deadline=0.05)
    assert result.chosen == "RC"
    (u,) = result.uncertain["RC"]
    assert u.constraint == "max_latency" and u.factor == pytest.approx(9.0)
    assert "straddles 40 ms" in u.text
    assert any("hangs on its interval" in w and "9.0x the frames" in w for w in result.warnings)
    assert any("p99 latency 70 ms exceeds the 50 ms deadline" in w for w in result.warnings)
