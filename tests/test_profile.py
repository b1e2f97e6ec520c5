"""Latency profiles: what sei profile writes, how profiles read, and what ships."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from splitetimpera.models.graph import ModelGraph
from splitetimpera.models.profile import hardware_name, profile_model
from splitetimpera.models.zoo import load_model
from splitetimpera.profiles import PROFILE_COLUMNS, load_profile, search_dirs

from .conftest import REPO


def test_profile_writes_table_metadata_and_samples(tmp_path):
    result = profile_model(
        "digits_resnet", repeats=4, warmup=1, folder=tmp_path, hardware="ci", threads=1
    )
    folder = tmp_path / "ci"
    table = pd.read_csv(folder / "digits_resnet.csv")
    assert list(table.columns) == list(PROFILE_COLUMNS)
    meta = json.loads((folder / "digits_resnet.json").read_text())
    for key in (
        "cpu",
        "threads",
        "torch",
        "date",
        "batch",
        "input_shape",
        "within_10pct",
        "full_median_s",
    ):
        assert key in meta
    assert meta["threads"] == 1 and meta["input_shape"] == [3, 32, 32]
    samples = pd.read_parquet(folder / "digits_resnet.samples.parquet")
    inner = table[~table["split"].isin(["input", "output"])]
    assert (samples.groupby(["split", "part"]).size().loc[(inner["split"].iloc[0], "head")]) == 4
    assert table.loc[table["split"] == "input", "head_median_s"].item() == 0.0
    assert table.loc[table["split"] == "output", "tail_median_s"].item() == 0.0
    assert (inner["head_median_s"] > 0).all() and (inner["tail_median_s"] > 0).all()
    # head latency grows with depth overall: the last split's head is the whole model
    assert table["head_median_s"].iloc[-1] > table["head_median_s"].iloc[1]
    assert result.path == folder / "digits_resnet.csv"


def test_profiles_read_without_torch(tmp_path):
    profile_model("digits_vgg", repeats=3, warmup=0, folder=tmp_path, hardware="ci")
    code = (
        "import sys; from splitetimpera.profiles import load_profile; "
        "p = load_profile('ci', 'digits_vgg'); assert len(p.latency_samples('features.0', 'head')) == 3; "
        "assert 'torch' not in sys.modules"
    )
    env = {"SEI_PROFILES": str(tmp_path), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_hardware_names():
    assert hardware_name("cpu", 2).endswith("-2t")
    assert " " not in hardware_name("cpu", 4)


SHIPPED = sorted(p for base in [REPO / "profiles"] for p in base.glob("*/*.csv"))


@pytest.mark.parametrize("path", SHIPPED, ids=[f"{p.parent.name}/{p.stem}" for p in SHIPPED])
def test_shipped_profiles_match_the_current_split_points(path, monkeypatch):
    monkeypatch.delenv("SEI_PROFILES", raising=False)
    profile = load_profile(path.parent.name, path.stem)
    meta = profile.meta
    model = load_model(path.stem, weights="none", input_shape=tuple(meta["input_shape"]))
    graph = ModelGraph(model.module, model.input_shape)
    assert profile.splits == [p.name for p in graph.points], "re-measure: split names changed"
    expected = {p.name: p.payload(4) for p in graph.points}
    assert profile.table["payload_fp32"].to_dict() == expected
    assert meta["within_10pct"] >= 0.3 and meta["repeats"] >= 10
    for split in profile.splits[1:-1]:
        assert len(profile.latency_samples(split, "head")) == meta["repeats"]


def test_shipped_profiles_cover_cpu_and_gpu(monkeypatch):
    monkeypatch.delenv("SEI_PROFILES", raising=False)
    hardware = {p.name for p in (REPO / "profiles").iterdir() if p.is_dir()}
    assert "h100" in hardware
    assert any(h.endswith("-2t") for h in hardware)
    for h in hardware:
        for model in ("digits_vgg", "vgg16", "resnet50", "mobilenet_v2"):
            assert (REPO / "profiles" / h / f"{model}.csv").is_file()
    assert search_dirs()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_profile(tmp_path):
    result = profile_model("digits_vgg", device="cuda", repeats=5, warmup=2, folder=tmp_path)
    assert result.meta["gpu"] and np.isfinite(result.meta["full_median_s"])


def test_a_shipped_profile_is_never_overwritten_without_force(monkeypatch):
    from typer.testing import CliRunner

    from splitetimpera.cli import app

    monkeypatch.chdir(REPO)
    shipped = REPO / "profiles" / "amd-epyc-2t" / "digits_vgg.csv"
    before = shipped.read_bytes()
    args = ["profile", "digits_vgg", "--hardware", "amd-epyc-2t", "--profiles", "profiles"]
    result = CliRunner().invoke(app, [*args, "--repeats", "3"])
    assert result.exit_code == 2
    assert "ships with sei" in result.stderr and "--force" in result.stderr
    assert shipped.read_bytes() == before


def test_user_measurements_go_to_the_user_folder_and_are_named(tmp_path, monkeypatch):
    import os
    import shutil

    from splitetimpera.profiles import shipped_dir, user_dir

    assert user_dir() == Path(os.environ["XDG_DATA_HOME"]) / "splitetimpera" / "profiles"
    # a user's own measurement of a shipped (hardware, model) pair shadows it, and says so
    mine = user_dir() / "amd-epyc-2t"
    mine.mkdir(parents=True)
    for suffix in (".csv", ".json", ".samples.parquet"):
        shutil.copy(shipped_dir() / "amd-epyc-2t" / f"digits_vgg{suffix}", mine)
    profile = load_profile("amd-epyc-2t", "digits_vgg")
    assert not profile.shipped and profile.path == mine / "digits_vgg.csv"
    assert profile.describe().startswith(f"amd-epyc-2t (from {user_dir()}")
    assert load_profile("h100", "digits_vgg").shipped
    assert search_dirs().index(user_dir().resolve()) < search_dirs().index(shipped_dir().resolve())


def test_sei_profile_writes_to_the_user_folder_by_default():
    from splitetimpera.profiles import user_dir

    result = profile_model(
        "digits_vgg", repeats=3, warmup=0, hardware="ci", threads=1, single_only=True
    )
    assert result.path == user_dir() / "ci" / "digits_vgg.csv"
    assert load_profile("ci", "digits_vgg").path == result.path


def test_paced_profile_times_one_run_per_period_through_a_worker(tmp_path):
    import time

    from splitetimpera.errors import SeiError

    t0 = time.perf_counter()
    result = profile_model(
        "digits_vgg", repeats=3, warmup=1, folder=tmp_path, hardware="paced", threads=1,
        splits=["features.6"], pace=0.05,
    )  # fmt: skip
    # full, head and tail, three rounds, each run after 50 ms of idleness
    assert time.perf_counter() - t0 >= 3 * 3 * 0.05
    assert list(result.table["split"]) == ["features.6"]
    assert result.meta["pace_s"] == 0.05
    assert (result.table[["head_median_s", "tail_median_s"]] > 0).all(axis=None)
    assert len(result.samples) == 2 * 3
    with pytest.raises(SeiError, match="no split features.99"):
        profile_model("digits_vgg", repeats=3, folder=tmp_path, splits=["features.99"])
