"""The model registry: names, built-in weights, and safe checkpoint loading."""

from __future__ import annotations

import json
import pickle

import pytest
import torch
import torch.nn as nn

from splitetimpera.catalog import REFERENCE_MODELS, TORCHVISION_CLASSIFIERS, default_input
from splitetimpera.errors import NotFoundError, SeiError
from splitetimpera.models.zoo import build_architecture, load_model, read_checkpoint, weights_path


def test_catalog_lists_every_torchvision_classifier():
    import torchvision.models as tvm
    from torchvision.models import list_models

    assert set(TORCHVISION_CLASSIFIERS) == set(list_models(module=tvm))


def test_unknown_model_lists_known_ones():
    with pytest.raises(NotFoundError, match=r"unknown model 'resnet5O'. Did you mean .*resnet50"):
        build_architecture("resnet5O")


@pytest.mark.parametrize("name", list(REFERENCE_MODELS))
def test_reference_models_ship_small_trained_weights(name):
    path = weights_path(name)
    assert path.is_file() and path.stat().st_size < 10_000_000
    record = json.loads(path.with_suffix(".json").read_text())
    assert record["test_accuracy"] >= 0.95
    assert record["command"].startswith(f"sei train {name}")
    loaded = load_model(name)
    assert loaded.trained and loaded.input_shape == (3, 32, 32)
    out = loaded.module(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, 10)


def test_random_weights_are_reproducible():
    a = load_model("resnet18", weights="none").module.state_dict()
    b = load_model("resnet18", weights="none").module.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert default_input("inception_v3") == (3, 299, 299)


class _Evil:
    def __reduce__(self):
        return (print, ("this would run code",))


def test_checkpoint_that_would_run_code_is_refused(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"weights": torch.zeros(2), "payload": _Evil()}, path)
    with pytest.raises(SeiError, match="refused: loading it would run code"):
        read_checkpoint(path)
    module_path = tmp_path / "module.pt"
    torch.save(nn.Linear(2, 2), module_path)  # a whole pickled module
    with pytest.raises(SeiError, match="refused"):
        read_checkpoint(module_path)
    raw = tmp_path / "raw.pt"
    raw.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(SeiError):
        read_checkpoint(raw)


def test_checkpoint_that_does_not_fit_is_refused(tmp_path):
    path = tmp_path / "resnet18.pt"
    torch.save(build_architecture("resnet18").state_dict(), path)
    with pytest.raises(SeiError, match="checkpoint does not fit digits_resnet"):
        load_model("digits_resnet", weights=str(path))


def test_checkpoints_in_common_wrappings_load(tmp_path):
    model = build_architecture("resnet18", num_classes=10)
    wrapped = {"state_dict": {f"module.{k}": v for k, v in model.state_dict().items()}, "epoch": 3}
    path = tmp_path / "wrapped.pt"
    torch.save(wrapped, path)
    loaded = load_model("resnet18", weights=str(path))
    x = torch.randn(1, 3, 64, 64)
    assert torch.equal(loaded.module(x), model.eval()(x))  # 10 classes read from the checkpoint


def test_missing_checkpoint(tmp_path):
    with pytest.raises(SeiError, match="no such checkpoint"):
        load_model("resnet18", weights=str(tmp_path / "nope.pt"))
    with pytest.raises(SeiError, match="has no built-in weights"):
        load_model("resnet18", weights="builtin")
