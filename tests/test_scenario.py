"""Scenario loading: every validation path gives one line naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from splitetimpera.errors import ScenarioError
from splitetimpera.pipeline import load_scenario
from splitetimpera.scenario import GilbertElliott, apply_overrides

from .conftest import REPO


def _mutated(path: Path, changes: dict, remove: tuple[str, ...] = ()) -> Path:
    data = yaml.safe_load(path.read_text())
    data = apply_overrides(data, changes)
    for dotted in remove:
        node = data
        parts = dotted.split(".")
        for p in parts[:-1]:
            node = node[p]
        node.pop(parts[-1])
    path.write_text(yaml.safe_dump(data))
    return path


def test_base_scenario_resolves_to_si_units(write_scenario):
    s = load_scenario(write_scenario())
    assert s.network.bandwidth == pytest.approx(10e6 / 8)
    assert s.network.delay == pytest.approx(0.005)
    assert s.workload.rate == 10.0
    assert s.workload.deadline == pytest.approx(0.1)
    assert s.qos.percentile == 95.0
    assert s.network.mtu == 1500 and isinstance(s.network.mtu, int)
    assert s.model.resolved_weights == "builtin"
    assert s.model.resolved_input == (3, 32, 32)
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="frozen"):
        s.seed = 3


def test_gilbert_elliott_block(write_scenario):
    path = _mutated(
        write_scenario(),
        {"network.loss": {"p_good_to_bad": "1%", "p_bad_to_good": "25%", "loss_bad": "50%"}},
    )
    loss = load_scenario(path).network.loss
    assert isinstance(loss, GilbertElliott)
    assert loss.mean_loss == pytest.approx(0.01 / 0.26 * 0.5)


BROKEN = [
    # (changes, removals, key in message, fragment of message)
    ({"netwrok": {"bandwidth": "1 Mbit/s"}}, (), "netwrok", "did you mean 'network'"),
    ({"network.bandwdith": "1 Mbit/s"}, (), "network.bandwdith", "did you mean 'bandwidth'"),
    ({"network.loss": "150%"}, (), "network.loss", "150% is out of range [0%, 100%)"),
    ({"network.loss": "-1%"}, (), "network.loss", "out of range"),
    ({"network.bandwidth": 54}, (), "network.bandwidth", 'write it like "54 Mbit/s"'),
    ({"network.bandwidth": "0 Mbit/s"}, (), "network.bandwidth", "out of range"),
    ({"network.bandwidth": "10 Mb/s"}, (), "network.bandwidth", "ambiguous"),
    ({"network.delay": "-5 ms"}, (), "network.delay", "out of range"),
    ({"network.delay": "5 parsecs"}, (), "network.delay", "unknown time unit"),
    (
        {"network.protocol": "quic"},
        (),
        "network.protocol",
        "unknown protocol 'quic'; Known: tcp, udp",
    ),
    ({"network.congestion": "bbr"}, (), "network.congestion", "Known: reno, cubic"),
    ({"network.mtu": "20 B"}, (), "network.mtu", "out of range"),
    (
        {"network.connection": "sometimes"},
        (),
        "network.connection",
        "allowed: persistent, per-frame",
    ),
    ({"network.loss": {"p_good_to_bad": "1%"}}, (), "network.loss.p_bad_to_good", "required"),
    (
        {"network.loss": {"p_good_to_bad": "1%", "p_bad_to_good": "0%"}},
        (),
        "network.loss.p_bad_to_good",
        "out of range",
    ),
    (
        {"network.loss": {"p_good_to_bad": "1%", "p_bad_to_good": "5%", "burst": 3}},
        (),
        "network.loss.burst",
        "unknown key",
    ),
    ({"network": "fast"}, (), "network", "expected a mapping"),
    ({}, ("network.bandwidth",), "network.bandwidth", "required"),
    ({"workload.frames": "many"}, (), "workload.frames", "whole number"),
    ({"workload.frames": 0}, (), "workload.frames", "must be > 0"),
    ({"workload.rate": "-3 fps"}, (), "workload.rate", "out of range"),
    ({"workload.arrival": "poisson"}, ("workload.rate",), "workload.rate", "needs a rate"),
    (
        {"workload.arrival": "trace", "workload.trace": "nope.csv"},
        (),
        "workload.trace",
        "no trace file",
    ),
    ({"workload.arrival": "bursty"}, (), "workload.arrival", "allowed: periodic, poisson, trace"),
    ({"qos.percentile": 100}, (), "qos.percentile", "out of range (0, 100)"),
    ({"qos.percentile": "p0"}, (), "qos.percentile", "out of range (0, 100)"),
    ({"qos.percentile": "high"}, (), "qos.percentile", "not a percentile"),
    ({"qos.objective": "weighted"}, (), "qos.weights", "needs weights"),
    ({"qos.min_accuracy": "120%"}, (), "qos.min_accuracy", "out of range"),
    ({"model.name": "resnet5O"}, (), "model.name", "unknown model"),
    ({"model.weights": "missing.pt"}, (), "model.weights", "no checkpoint file"),
    ({"model.input": "3x224"}, (), "model.input", "C x H x W"),
    ({"device.profile": "raspberry"}, (), "device.profile", "unknown hardware profile"),
    ({"server.profile": "testhw2"}, (), "server.profile", "did you mean 'testhw'"),
    ({"device.count": 0}, (), "device.count", "must be > 0"),
    ({"device.slowdown": -2}, (), "device.slowdown", "must be > 0"),
    ({"device.threads": 4}, (), "device.threads", "measured with 1"),
    (
        {"splits.compression": "jpeg"},
        (),
        "splits.compression[0]",
        "jpeg needs its quality: write it like jpeg@75 (1-100)",
    ),
    (
        {"splits.compression": ["int8", "jpg@75"]},
        (),
        "splits.compression[1]",
        "unknown codec 'jpg'; did you mean 'jpeg'?",
    ),
    ({"splits.method": "magic"}, (), "splits.method", "not allowed"),
    (
        {"splits.method": ["features.3", "features.99"]},
        (),
        "splits.method[1]",
        "no split 'features.99'",
    ),
    ({"splits.top_k": 0}, (), "splits.top_k", "must be > 0"),
    (
        {"splits.layers": "conv"},
        (),
        "splits.layers",
        "'conv' is not allowed; allowed: all, reference",
    ),
    (
        {"splits.candidates": "maxima"},
        (),
        "splits.candidates",
        "allowed: top-k, local-maxima (did you mean 'local-maxima'?)",
    ),
    ({"dataset.classes": [12]}, (), "dataset.classes", "not a digits class"),
    ({"dataset.classes": []}, (), "dataset.classes", "empty class subset"),
    ({"dataset.samples": 0}, (), "dataset.samples", "must be > 0"),
    ({"dataset.name": "imagefolder"}, (), "dataset.path", "imagefolder needs"),
    (
        {"dataset.name": "imagefolder", "dataset.path": "/nonexistent"},
        (),
        "dataset.path",
        "no folder",
    ),
    ({"modes": ["LC", "XX"]}, (), "modes[1]", "not allowed"),
    ({"modes": []}, (), "modes", "at least one"),
    ({"modes": ["EE"]}, (), "early_exit", "needs an early_exit section"),
    ({"modes": ["LC", "LC"]}, (), "modes", "twice"),
    (
        {"early_exit": {"split": "features.5", "exit_rate": "50%", "accuracy": "90%"}},
        (),
        "early_exit.split",
        "no split 'features.5'",
    ),
    ({"seed": -1}, (), "seed", "greater than or equal to 0"),
    ({"seed": "abc"}, (), "seed", "whole number"),
    ({"name": "my scenario"}, (), "name", "not a usable name"),
]


@pytest.mark.parametrize(("changes", "remove", "key", "fragment"), BROKEN)
def test_every_mistake_is_one_line_naming_file_and_key(
    write_scenario, changes, remove, key, fragment
):
    path = _mutated(write_scenario(), changes, remove)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: {key}: "), message
    assert fragment in message, message


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "no such file"),
        ("", "is empty"),
        ("- a\n- b\n", "must be a mapping of sections, not a list"),
        ("name: [unclosed\n", "is not valid YAML"),
        ("just a string", "must be a mapping of sections, not a str"),
        (b"\xff\xfe\x00binary", "is not a text file"),
        ("name: d\nbase: s.yaml\ndimensions: {}\n", "is a design-space spec"),
    ],
)
def test_unreadable_files(tmp_path, content, fragment):
    path = tmp_path / "s.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value).startswith(str(path))
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(ScenarioError, match="is a folder"):
        load_scenario(tmp_path)


def test_overrides_are_validated_like_the_file(write_scenario):
    path = write_scenario()
    s = load_scenario(path, {"network.bandwidth": "54 Mbit/s", "seed": 3})
    assert s.network.bandwidth == pytest.approx(54e6 / 8) and s.seed == 3
    with pytest.raises(ScenarioError, match=r"network.bandwidth: .*out of range"):
        load_scenario(path, {"network.bandwidth": "0 bit/s"})


def test_several_mistakes_report_the_first_and_count_the_rest(write_scenario):
    path = _mutated(write_scenario(), {"network.loss": "150%", "workload.frames": 0})
    with pytest.raises(ScenarioError, match=r"and 1 more problem"):
        load_scenario(path)


SHIPPED = sorted((REPO / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_scenarios_validate(path, monkeypatch):
    monkeypatch.delenv("SEI_PROFILES", raising=False)
    s = load_scenario(path)
    assert s.name == path.stem
    header = path.read_text().splitlines()[0]
    assert header.startswith("#"), "each shipped scenario documents its numbers in a header"


def test_shipped_scenarios_exist():
    names = {p.stem for p in SHIPPED}
    assert {"wifi", "lte", "5g", "ethernet"} <= names
    big = [
        p
        for p in SHIPPED
        if yaml.safe_load(p.read_text())["model"]["name"] in ("vgg16", "resnet50")
    ]
    assert big, "a scenario with a large torchvision architecture ships"
