"""What really crosses the network: codecs run on real images through real models, per-frame
payloads drawn by the simulator, and the CLI's answers to codec lists."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn as nn
from typer.testing import CliRunner

from splitetimpera.cli import app
from splitetimpera.codecs import parse_codec
from splitetimpera.data.datasets import load_dataset
from splitetimpera.models.graph import ModelGraph
from splitetimpera.models.rng import seeded

runner = CliRunner()

SHAPE = (3, 32, 32)


@pytest.fixture(scope="module")
def tiny():
    """A tiny CNN really trained on the digits (a few seconds), and its test images."""
    train = load_dataset("digits", "train", SHAPE)
    test = load_dataset("digits", "test", SHAPE)
    with seeded(0):
        model = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(4),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2),
            nn.Flatten(), nn.Linear(64, 10),
        )  # fmt: skip
        opt = torch.optim.Adam(model.parameters(), lr=1e-2)
        for _ in range(8):
            for images, labels in train.batches(64):
                loss = nn.functional.cross_entropy(model(images), labels)
                opt.zero_grad()
                loss.backward()
                opt.step()
    return ModelGraph(model.eval(), SHAPE), test


def _measure(graph, split, name, data):
    from splitetimpera.interpret.payloads import measure_codec

    return measure_codec(graph, split, parse_codec(name), data, labelled=True)


def test_a_destructive_codec_lowers_accuracy_and_a_lossless_one_does_not(tiny):
    graph, test = tiny
    clean = _measure(graph, "input", "none", test)
    assert clean["accuracy"] > 0.8, "the tiny model did not learn"
    assert _measure(graph, "input", "png", test)["accuracy"] == clean["accuracy"]
    ruined = _measure(graph, "input", "jpeg@1", test)
    assert ruined["accuracy"] < clean["accuracy"] - 0.02
    good = _measure(graph, "input", "jpeg@95", test)
    assert good["accuracy"] > ruined["accuracy"]
    # every image is a frame of its own; a better quality costs bytes
    assert len(ruined["sizes"]) == len(test) == clean["samples"]
    assert np.median(good["sizes"]) > np.median(ruined["sizes"])


def test_entropy_coding_keeps_int8s_accuracy_and_sends_fewer_bytes(tiny):
    graph, test = tiny
    split = graph.points[2].name  # after the first ReLU: many zeros
    int8 = _measure(graph, split, "int8", test)
    coded = _measure(graph, split, "int8+zstd", test)
    assert coded["accuracy"] == int8["accuracy"]
    assert set(int8["sizes"]) == {parse_codec("int8").nominal_bytes([graph.point(split).shapes[0]])}
    assert coded["payload_bytes"] < int8["payload_bytes"]
    assert len(set(coded["sizes"])) > 10, "entropy-coded sizes vary with the content"
    assert coded["encode_s"] > 0 and coded["decode_s"] > 0


SCENARIO = (
    "name: coded\nseed: {seed}\nmodel: {{name: digits_vgg}}\n"
    "splits: {{method: [features.6], compression: [int8+zstd, jpeg@75]}}\n"
    "device: {{profile: amd-epyc-2t, count: 2, slowdown: 20}}\nserver: {{profile: h100}}\n"
    'network: {{bandwidth: "20 Mbit/s", delay: "2 ms", fidelity: packet}}\n'
    'workload: {{rate: "10 fps", frames: 60}}\nmodes: [RC, SC]\n'
)


def _frames(write_scenario, tmp_path, seed: int) -> pd.DataFrame:
    path = write_scenario(SCENARIO.format(seed=seed), name=f"coded{seed}.yaml")
    result = runner.invoke(app, ["simulate", str(path), "--no-report"])
    assert result.exit_code == 0, result.output
    return pd.read_parquet(tmp_path / "results" / "coded" / "frames.parquet")


def test_each_frame_draws_a_measured_size_deterministically_per_seed(write_scenario, tmp_path):
    from splitetimpera.scenario import read_scenario
    from splitetimpera.tables import find_payload

    scenario = read_scenario(write_scenario(SCENARIO.format(seed=1), name="look.yaml"))
    first = _frames(write_scenario, tmp_path, 1)
    again = _frames(write_scenario, tmp_path, 1)
    other = _frames(write_scenario, tmp_path, 2)
    for config, split, codec in [("RC+jpeg@75", "input", "jpeg@75"),
                                 ("SC@features.6+int8+zstd", "features.6", "int8+zstd")]:  # fmt: skip
        sent = first.loc[first["config"] == config, "payload_bytes"].to_numpy()
        assert len(sent) == 2 * 60 and len(set(sent)) > 5, "each frame sends its own size"
        measured = set(find_payload(scenario, split, codec)["sizes"])
        assert set(sent) <= measured, "a frame's size is one measured on a real image"
        np.testing.assert_array_equal(
            sent, again.loc[again["config"] == config, "payload_bytes"].to_numpy()
        )
        assert not np.array_equal(
            sent, other.loc[other["config"] == config, "payload_bytes"].to_numpy()
        )


@pytest.mark.parametrize(
    ("compression", "modes", "fragment"),
    [
        ("[jpg@75]", "[RC]", "splits.compression[0]: unknown codec 'jpg'; did you mean 'jpeg'?"),
        ("[jpeg@101]", "[RC]", "quality 101 is out of range [1, 100]"),
        ("[jpeg]", "[RC]", "jpeg needs its quality"),
        ("[int8@3]", "[SC]", "int8 takes no parameter"),
        ("[jpeg@75, png]", "[SC]", "applies to SC"),
    ],
)
def test_bad_codec_lists_fail_in_one_line(write_scenario, compression, modes, fragment):
    text = SCENARIO.format(seed=1).replace("[int8+zstd, jpeg@75]", compression)
    text = text.replace("modes: [RC, SC]", f"modes: {modes}")
    result = runner.invoke(app, ["simulate", str(write_scenario(text))])
    assert result.exit_code == 2, result.output
    assert fragment in result.output and len(result.output.strip().splitlines()) == 1


def test_the_output_names_the_pairs_that_do_not_apply(write_scenario, tmp_path):
    path = write_scenario(SCENARIO.format(seed=1))
    result = runner.invoke(app, ["simulate", str(path), "--no-report"])
    assert result.exit_code == 0, result.output
    assert "Not applicable" in result.output
    assert "jpeg@75 for SC" in result.output and "int8+zstd for RC" not in result.output
    run = json.loads((tmp_path / "results" / "coded" / "run.json").read_text())
    assert run["codecs_not_applicable"] == ["jpeg@75 for SC"]


def test_sei_codecs_lists_every_codec_and_what_it_applies_to():
    result = runner.invoke(app, ["codecs", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.stdout)["codecs"]}
    assert {"none", "fp16", "int8", "int8+zstd", "fp16+zstd", "bottleneck", "jpeg", "webp",
            "png"} <= set(rows)  # fmt: skip
    assert rows["jpeg"]["applies_to"] == ["RC"]
    assert rows["int8+zstd"]["applies_to"] == ["RC", "SC", "EE"]
    assert rows["bottleneck"]["applies_to"] == ["SC", "EE"]
