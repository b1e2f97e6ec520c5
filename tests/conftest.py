"""Shared fixtures: seeds in one place, an isolated cache, small profiles written here."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
SEED = 1234


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets an empty cache and an empty user profiles folder, so nothing
    depends on an earlier run or on the user's own measurements."""
    monkeypatch.setenv("SEI_CACHE", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data")))


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(SEED)


def write_test_profile(
    folder: Path,
    model: str = "digits_vgg",
    hardware: str = "testhw",
    head_s: float = 0.002,
    tail_s: float = 0.002,
    samples: list[float] | None = None,
) -> Path:
    """A small, deterministic profile: 5 splits of a 32x32 CNN, compute time linear in
    depth (head = depth x head_s, tail = (5 - depth) x tail_s)."""
    from splitetimpera.profiles import write_profile

    splits = [
        ("input", "3x32x32"),
        ("features.0", "64x32x32"),
        ("features.3", "64x16x16"),
        ("features.7", "128x8x8"),
        ("classifier.0", "256"),
        ("output", "10"),
    ]
    rows, raw = [], []
    last = len(splits) - 1
    for depth, (name, shape) in enumerate(splits):
        numel = math.prod(int(x) for x in shape.split("x"))
        head = depth * head_s
        tail = (last - depth) * tail_s
        rows.append(
            {
                "split": name, "depth": depth, "n_tensors": 1, "shapes": shape,
                "payload_fp32": numel * 4, "payload_fp16": numel * 2, "payload_int8": numel,
                "head_flops": depth * 10**6, "tail_flops": (last - depth) * 10**6,
                "head_params": depth * 1000, "tail_params": (last - depth) * 1000,
                "head_median_s": head, "head_p5_s": head, "head_p95_s": head,
                "tail_median_s": tail, "tail_p5_s": tail, "tail_p95_s": tail,
                "full_median_s": last * head_s, "samples": 1,
            }
        )  # fmt: skip
        for part, base in (("head", head), ("tail", tail)):
            values = [base * f for f in samples] if samples else [base]
            raw.extend({"split": name, "part": part, "seconds": v} for v in values)
    write_profile(
        folder / hardware,
        model,
        pd.DataFrame(rows),
        {"cpu": "test", "threads": 1},
        pd.DataFrame(raw),
    )
    return folder / hardware / f"{model}.csv"


@pytest.fixture
def profiles(tmp_path, monkeypatch) -> Path:
    """A profiles folder holding ``testhw`` (deterministic) and ``noisyhw`` profiles of
    digits_vgg, searched before the shipped ones."""
    root = tmp_path / "profiles"
    write_test_profile(root)
    write_test_profile(root, hardware="noisyhw", samples=[0.9, 1.0, 1.1, 1.5])
    monkeypatch.setenv("SEI_PROFILES", str(root))
    from splitetimpera.profiles import _load

    _load.cache_clear()
    return root


BASE_SCENARIO = """\
name: test
seed: 7
model: {name: digits_vgg}
splits: {method: all, compression: [none]}
device: {profile: testhw}
server: {profile: testhw}
network: {protocol: udp, bandwidth: "10 Mbit/s", delay: "5 ms"}
workload: {arrival: periodic, rate: "10 fps", frames: 20, deadline: "100 ms"}
qos: {max_latency: "80 ms", percentile: 95}
"""


def make_scenario(profiles: Path, text: str = BASE_SCENARIO, **changes):
    """A validated scenario from ``text`` with dotted keys (``network.loss``) set; results
    go beside the ``profiles`` folder."""
    import yaml

    from splitetimpera.pipeline import scenario_from_dict

    data = yaml.safe_load(text)
    for dotted, value in changes.items():
        node = data
        parts = dotted.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    data.setdefault("output", str(profiles.parent / "results"))
    return scenario_from_dict(data, "test.yaml")


@pytest.fixture
def write_scenario(tmp_path, profiles):
    """Write a scenario (text) into a temporary file; results go under tmp_path."""

    def write(text: str = BASE_SCENARIO, name: str = "scenario.yaml") -> Path:
        path = tmp_path / name
        if "output:" not in text:
            text = text + f"output: {tmp_path / 'results'}\n"
        path.write_text(text)
        return path

    return write


def pytest_configure(config):
    os.environ.setdefault("PYTHONHASHSEED", "0")
