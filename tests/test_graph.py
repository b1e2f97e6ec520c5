"""Split points on model graphs: names, payloads, FLOPs, and tail(head(x)) == model(x)."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
import torch.nn as nn
from typer.testing import CliRunner

from splitetimpera.cli import app
from splitetimpera.errors import NotFoundError
from splitetimpera.models.graph import ModelGraph, verify_graph, verify_splits
from splitetimpera.models.rng import seeded
from splitetimpera.models.zoo import build_architecture, load_model

from .conftest import SEED


def test_reference_vgg_split_points():
    model = load_model("digits_vgg").module
    graph = ModelGraph(model, (3, 32, 32))
    names = [p.name for p in graph.points]
    assert names[0] == "input" and names[-1] == "output"
    assert names[1:4] == ["features.0", "features.1", "features.2"]
    assert "features" in names  # the cut after the whole feature extractor
    assert len(set(names)) == len(names)
    by = {p.name: p for p in graph.points}
    assert by["input"].payload(4) == 3 * 32 * 32 * 4
    assert by["features.0"].shapes == ((32, 32, 32),)
    assert by["features"].shapes == ((128, 4, 4),)
    assert by["output"].shapes == ((10,),)
    total = by["input"].tail_flops
    for p in graph.points:
        assert p.head_flops + p.tail_flops == total
        assert p.n_tensors == 1  # no skip connections in a VGG
    assert by["output"].head_params == sum(t.numel() for t in model.parameters())
    depths = [p.depth for p in graph.points]
    assert depths == list(range(len(depths)))


def test_resnet_cuts_carry_the_skip_inside_blocks_only():
    graph = ModelGraph(build_architecture("resnet18"), (3, 64, 64))
    by = {p.name: p for p in graph.points}
    assert by["layer1.0.conv1"].n_tensors == 2  # inside the block: the identity crosses too
    assert by["layer1.0"].n_tensors == 1  # block boundary
    assert by["layer1"].n_tensors == 1 and by["layer2.0"].n_tensors == 1
    assert by["layer2.0.downsample.0"].n_tensors == 2
    assert by["layer1.0.conv1"].payload(4) == 2 * 64 * 16 * 16 * 4


def test_names_are_stable():
    a = [p.name for p in ModelGraph(build_architecture("mobilenet_v2"), (3, 64, 64)).points]
    b = [p.name for p in ModelGraph(build_architecture("mobilenet_v2"), (3, 64, 64)).points]
    assert a == b


@pytest.mark.parametrize(
    ("name", "shape"),
    [
        ("digits_vgg", (3, 32, 32)),
        ("digits_resnet", (3, 32, 32)),
        ("digits_mobilenet", (3, 32, 32)),
        ("resnet18", (3, 64, 64)),
        ("mobilenet_v3_small", (3, 64, 64)),
        ("efficientnet_b0", (3, 64, 64)),
        ("googlenet", (3, 64, 64)),
        ("shufflenet_v2_x0_5", (3, 64, 64)),
        ("squeezenet1_1", (3, 64, 64)),
        ("regnet_x_400mf", (3, 64, 64)),
        ("densenet121", (3, 64, 64)),
    ],
)
def test_tail_of_head_is_the_model(name, shape):
    model = (
        load_model(name).module if name.startswith("digits") else build_architecture(name).eval()
    )
    diffs = verify_splits(model, shape)
    assert diffs and max(diffs.values()) <= 1e-5
    if name != "densenet121":  # its 432 heads and tails take half a minute
        # the one-pass check reports what running every generated head and tail gives
        assert verify_splits(model, shape, modules=True) == diffs


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "shape"), [("vit_b_32", (3, 224, 224)), ("convnext_tiny", (3, 64, 64))]
)
def test_tail_of_head_is_the_model_for_transformers_and_convnext(name, shape):
    diffs = verify_splits(build_architecture(name).eval(), shape)
    assert max(diffs.values()) <= 1e-5


class _Branchy(nn.Module):
    """Control flow on a traced value: torch.fx cannot trace its forward."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.relu = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flat = nn.Flatten()
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        if x.sum() > -1e30:  # data-dependent branch
            x = self.conv(x)
        return self.fc(self.flat(self.pool(self.relu(x))))


class _BranchyChild(nn.Module):
    def forward(self, x):
        return x * 2 if x.mean() > 0 else x - 1


class _UntraceableChild(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3)
        self.odd = _BranchyChild()
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))

    def forward(self, x):
        return self.head(self.odd(self.stem(x)))


@pytest.mark.parametrize(
    "model", [_Branchy(), _UntraceableChild()], ids=["hook-trace", "leaf-trace"]
)
def test_untraceable_models_fall_back(model):
    diffs = verify_splits(model.eval(), (3, 16, 16))
    assert len(diffs) >= 4 and max(diffs.values()) <= 1e-6


class _InPlace(nn.Module):
    """An in-place operation on a value that also crosses later cuts."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        y = self.conv(x)
        z = torch.relu(y)
        y.mul_(2.0)  # y crosses the cuts after this as it stands after the multiplication
        w = y + z
        w.add_(1.0)
        return self.fc(torch.flatten(torch.nn.functional.adaptive_avg_pool2d(w + y, 1), 1))


def test_in_place_operations_cross_cuts_as_they_stand_there():
    model = _InPlace().eval()
    fast = verify_splits(model, (3, 8, 8))
    assert len(fast) >= 8 and max(fast.values()) == 0.0
    assert verify_splits(model, (3, 8, 8), modules=True) == fast


def _with_point(graph: ModelGraph, name: str, **changes) -> ModelGraph:
    """``graph`` with one split point changed: a deliberately wrong split."""
    graph.points = [
        dataclasses.replace(p, **changes) if p.name == name else p for p in graph.points
    ]
    graph._by_name = {p.name: p for p in graph.points}
    return graph


@pytest.mark.parametrize(
    ("model", "shape", "split", "changes"),
    [
        # inside a residual block the identity crosses too; forgetting it breaks the split
        ("resnet18", (3, 64, 64), "layer1.0.conv1", {"crossing": ("layer1_0_conv1",)}),
        # the value after the BatchNorm claimed to be the convolution's
        ("digits_vgg", (3, 32, 32), "features.1", {"crossing": ("features_0",)}),
    ],
)
def test_a_wrong_split_fails_verification(model, shape, split, changes):
    module = load_model(model).module if model.startswith("digits") else build_architecture(model)
    graph = _with_point(ModelGraph(module.eval(), shape), split, **changes)
    diffs = verify_graph(graph)
    assert diffs[split] == math.inf
    assert [s for s, d in diffs.items() if d > 1e-5] == [split]  # the others still hold
    with pytest.raises(KeyError):  # its generated tail cannot even be built
        verify_graph(graph, modules=True)


class _Counted(nn.Module):
    """Scales its output by how often it has been called: tracing keeps the count it had."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.fc = nn.Linear(4, 2)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return self.fc(torch.relu(self.conv(x)).mean((2, 3))) * self.calls


class _MonteCarloDropout(nn.Module):
    """Keeps dropout at inference (Monte Carlo dropout): every run draws anew."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.fc = nn.Linear(4 * 6 * 6, 2)

    def forward(self, x):
        y = torch.flatten(torch.relu(self.conv(x)), 1)
        return self.fc(nn.functional.dropout(y, 0.5, training=True))


@pytest.mark.parametrize(
    "build",
    [
        # the traced graph is not the model: every split's tail gives other values
        lambda: _Counted().eval(),
        # a random draw in the forward pass: no tail reproduces the model's output
        lambda: _MonteCarloDropout().eval(),
    ],
    ids=["graph-is-not-the-model", "random-forward"],
)
def test_splits_that_give_other_values_fail_verification(build):
    with seeded(SEED):  # dropout draws from torch's global generator
        model = build()
        found = {m: verify_graph(ModelGraph(model, (3, 8, 8)), modules=m) for m in (False, True)}
    for diffs in found.values():
        assert len(diffs) >= 5 and all(0.01 < d < math.inf for d in diffs.values())


def test_unknown_split_name_suggests_the_closest():
    graph = ModelGraph(load_model("digits_vgg").module, (3, 32, 32))
    with pytest.raises(NotFoundError, match="did you mean 'features.10'"):
        graph.head("featurs.10")


def test_head_returns_a_tuple_when_several_tensors_cross():
    graph = ModelGraph(build_architecture("resnet18"), (3, 64, 64))
    x = torch.randn(2, 3, 64, 64)
    out = graph.head("layer1.0.conv1")(x)
    assert isinstance(out, tuple) and len(out) == 2
    assert torch.equal(graph.tail("layer1.0.conv1")(out), graph.tail("input")(x))


def test_sei_splits_verify_cli():
    runner = CliRunner()
    result = runner.invoke(app, ["splits", "digits_resnet", "--verify", "--json"])
    assert result.exit_code == 0, result.output
    import json

    data = json.loads(result.stdout)
    assert data["failures"] == [] and data["verified"]
    assert all(r["max_abs_diff"] <= 1e-5 for r in data["splits"])
    table = runner.invoke(app, ["splits", "resnet18", "--input", "3x64x64", "--single"])
    assert table.exit_code == 0 and "layer2" in table.stdout
    bad = runner.invoke(app, ["splits", "resnet18", "--input", "3x64"])
    assert bad.exit_code == 2 and "--input" in bad.stderr
    unknown = runner.invoke(app, ["splits", "resnet5O"])
    assert unknown.exit_code == 2 and "unknown model 'resnet5O'" in unknown.stderr


def test_flops_match_the_analytic_count_for_a_conv():
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.Flatten(), nn.Linear(8 * 10 * 10, 5)
    )
    graph = ModelGraph(model.eval(), (3, 10, 10))
    by = {p.name: p for p in graph.points}
    conv = 2 * 8 * 10 * 10 * 3 * 3 * 3
    assert by["0"].head_flops == conv
    assert by["output"].head_flops == conv + 2 * 800 * 5
    assert math.isclose(by["1"].payload(1), 800)
