"""What would make an infeasible scenario feasible: the bandwidth search and its wording."""

from __future__ import annotations

import math

import pytest

from splitetimpera.pipeline import advise, load_scenario, simulate
from splitetimpera.suggest import bandwidth_needed, suggestion

from .conftest import BASE_SCENARIO


def test_bisection_finds_the_threshold_within_its_resolution():
    calls = []

    def feasible_at(config, factor):
        calls.append(factor)
        return factor >= 5.0

    needed = bandwidth_needed(feasible_at, "RC", 1e6)
    step = math.exp(math.log(64) / 2**7)  # 7 halvings of [1, 64] on a log scale
    assert 5e6 <= needed <= 5e6 * step
    assert calls[0] == 64 and len(calls) == 8
    assert bandwidth_needed(lambda c, f: False, "RC", 1e6) is None


def _result(write_scenario, qos: str, modes: str):
    text = BASE_SCENARIO.replace(
        'qos: {max_latency: "80 ms", percentile: 95}', f"qos: {qos}\nmodes: {modes}"
    )
    return simulate(load_scenario(write_scenario(text)))


def test_accuracy_is_no_network_question_and_compute_bound_is_said(write_scenario):
    both = _result(write_scenario, '{min_accuracy: "99.9%", max_latency: "1 ms"}', "[RC]")
    text = suggestion(both, lambda c, f: pytest.fail("accuracy needs no bandwidth search"))
    assert text == (
        "RC: accuracy is fixed by the model, split and compression; no network change helps "
        "(try another split or compression)"
    )
    latency = _result(write_scenario, '{max_latency: "1 ms"}', "[RC]")
    asked = []

    def never(config, factor):
        asked.append(config)
        return False

    text = suggestion(latency, never)
    assert text.startswith("RC stays infeasible even at 64x the bandwidth")
    assert asked == ["RC"]


def test_the_search_skips_a_closest_that_fails_accuracy(write_scenario, tmp_path):
    # int8 at classifier.0 (264 B) is fast enough but loses accuracy (by this table): it is
    # the closest; plain classifier.0 (1 kB) only needs more bandwidth
    from .test_accuracy import _row, _table

    table = _table(
        tmp_path / "acc.csv", [_row("output", "none", 0.99), _row("classifier.0", "int8", 0.89)]
    )
    text = (
        f"name: edge\nmodel: {{name: digits_vgg, accuracy: {table}}}\n"
        "splits: {method: [classifier.0], compression: [none, int8]}\nmodes: [SC]\n"
        "device: {profile: testhw}\nserver: {profile: testhw}\n"
        'network: {protocol: udp, bandwidth: "0.1 Mbit/s", delay: "5 ms"}\n'
        'workload: {rate: "2 fps", frames: 10}\n'
        'qos: {min_accuracy: "90%", max_latency: "60 ms"}\n'
    )
    result = simulate(load_scenario(write_scenario(text)))
    assert result.qos.chosen is None
    assert result.qos.closest == "SC@classifier.0+int8"
    advice = advise(result)
    assert advice.startswith("SC@classifier.0+int8: accuracy is fixed")
    assert "SC@classifier.0 becomes feasible from about" in advice


def test_device_load_is_not_a_network_question(write_scenario):
    result = _result(write_scenario, '{max_device_utilization: "1%"}', "[LC]")
    text = suggestion(result, lambda c, f: pytest.fail("LC needs no network search"))
    assert text == "LC: the device is too loaded; a faster device or a later split is needed"


def test_advise_re_simulates_at_higher_bandwidth(write_scenario):
    # RC sends 12 kB frames at 10 fps over 0.5 Mbit/s: about 0.2 s each, so a 100 ms p95
    # needs about twice the bandwidth (compute is 10 ms, propagation 10 ms)
    result = _result(write_scenario, '{max_latency: "100 ms"}', "[RC]")
    changed = load_scenario(
        write_scenario(
            BASE_SCENARIO.replace('bandwidth: "10 Mbit/s"', 'bandwidth: "0.5 Mbit/s"').replace(
                'qos: {max_latency: "80 ms", percentile: 95}',
                'qos: {max_latency: "100 ms"}\nmodes: [RC]',
            ),
            "slow.yaml",
        )
    )
    slow = simulate(changed)
    assert slow.qos.chosen is None
    text = advise(slow)
    assert text.startswith("RC becomes feasible from about ")
    needed = float(text.split("about ")[1].split(" Mbit/s")[0])
    assert 0.8 < needed < 2.0
    assert advise(result) is None  # something is feasible: nothing to advise
