"""Datasets and the training of the reference models."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from splitetimpera.data.datasets import load_dataset
from splitetimpera.errors import SeiError
from splitetimpera.models.train import evaluate, train_reference
from splitetimpera.models.zoo import load_model, weights_path


def test_digits_split_is_deterministic_and_stratified():
    sizes = {s: len(load_dataset("digits", s, (3, 32, 32))) for s in ("train", "val", "test")}
    assert sizes == {"train": 1078, "val": 359, "test": 360}
    a = load_dataset("digits", "test", (3, 32, 32))
    counts = np.bincount(a.labels.numpy(), minlength=10)
    assert counts.min() >= 35 and counts.max() <= 37
    assert a.images.shape == (360, 3, 32, 32)
    one = load_dataset("digits", "test", (1, 16, 16))
    assert one.images.shape == (360, 1, 16, 16)
    sub = a.subset([3, 7], samples=20, seed=1)
    assert len(sub) == 20 and set(sub.labels.tolist()) <= {3, 7}
    assert torch.equal(sub.images, a.subset([3, 7], samples=20, seed=1).images)
    with pytest.raises(SeiError, match="class 12 is not in digits"):
        a.subset([12])


@pytest.mark.parametrize("name", ["digits_vgg", "digits_resnet", "digits_mobilenet"])
def test_shipped_checkpoints_reproduce_their_recorded_accuracy(name):
    record = json.loads(weights_path(name).with_suffix(".json").read_text())
    test = load_dataset("digits", "test", (3, 32, 32))
    assert evaluate(load_model(name).module, test.images, test.labels) == record["test_accuracy"]
    assert record["test_accuracy"] >= 0.95


def test_training_is_seeded(tmp_path):
    a = train_reference("digits_resnet", epochs=1, seed=3, output=tmp_path / "a.pt")
    b = train_reference("digits_resnet", epochs=1, seed=3, output=tmp_path / "b.pt")
    sa = torch.load(tmp_path / "a.pt", weights_only=True)
    sb = torch.load(tmp_path / "b.pt", weights_only=True)
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert a["test_accuracy"] == b["test_accuracy"]
    assert a["command"] == "sei train digits_resnet --dataset digits --seed 3 --epochs 1"


def test_train_refuses_other_models():
    with pytest.raises(SeiError, match="is not a reference model"):
        train_reference("resnet50")


def test_imagefolder(tmp_path):
    rng = np.random.default_rng(0)
    for cls in ("cat", "dog"):
        (tmp_path / cls).mkdir()
        for i in range(12):
            pixels = (rng.random((20, 24, 3)) * 255).astype(np.uint8)
            Image.fromarray(pixels).save(tmp_path / cls / f"{i}.png")
    data = load_dataset("imagefolder", "train", (3, 32, 32), str(tmp_path))
    assert data.classes == ["cat", "dog"]
    assert data.images.shape[1:] == (3, 32, 32)
    total = sum(
        len(load_dataset("imagefolder", s, (3, 32, 32), str(tmp_path)))
        for s in ("train", "val", "test")
    )
    assert total == 24
    (tmp_path / "dog" / "broken.png").write_bytes(b"not an image")
    from splitetimpera.data import datasets

    datasets._imagefolder.cache_clear()
    with pytest.raises(SeiError, match="not a readable image"):
        load_dataset("imagefolder", "train", (3, 32, 32), str(tmp_path))
    with pytest.raises(SeiError, match="no such image folder"):
        load_dataset("imagefolder", "train", (3, 32, 32), str(tmp_path / "nope"))
