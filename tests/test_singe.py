"""SInGE and the pruning loop: the criterion against direct computations, structural
correctness through Torch-Pruning, the requested FLOPs, safe saving, the CLI."""

from __future__ import annotations

import copy
import json

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch_pruning as tp
from typer.testing import CliRunner

from splitetimpera.cli import app
from splitetimpera.data.datasets import load_dataset
from splitetimpera.errors import SeiError
from splitetimpera.interpret.prune import (
    PrecomputedImportance,
    _converged,
    head_cost,
    head_layers,
    prune_head,
)
from splitetimpera.interpret.singe import (
    L1,
    Random,
    SInGE,
    Taylor,
    _no_inplace,
    _weight_grad,
    make_criterion,
)
from splitetimpera.models.graph import ModelGraph, verify_splits
from splitetimpera.models.zoo import load_model, save_pruned

from .conftest import SEED

runner = CliRunner()


class Tiny(nn.Module):
    def __init__(self, activation: type[nn.Module] = nn.ReLU):
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3, padding=1)
        self.relu = activation()
        self.flat = nn.Flatten()
        self.fc = nn.Linear(4 * 5 * 5, 3)

    def forward(self, x):
        return self.fc(self.flat(self.relu(self.conv(x))))


@pytest.fixture
def tiny():
    torch.manual_seed(SEED)
    model = Tiny().double().eval()
    x = torch.randn(6, 2, 5, 5, dtype=torch.float64)
    y = torch.randint(0, 3, (6,))
    return model, x, y


def _loss_with(model, x, y, layer: str, f: int, alpha: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Loss and dL/dW of ``layer`` with filter f's weights scaled by alpha (computed directly)."""
    m = copy.deepcopy(model)
    w = m.get_submodule(layer).weight
    with torch.no_grad():
        w[f] *= alpha
    w.requires_grad_(True)
    loss = F.cross_entropy(m(x), y)
    (g,) = torch.autograd.grad(loss, w)
    return loss.detach(), g


def singe_by_masked_copies(model, name, images, labels, input_shape, steps: int):
    """SInGE as first implemented (the oracle of the faster one): copy f of the batch has
    channel f of the layer's output scaled, the whole rest of the network runs on every
    copy, and the weight gradient is taken from all copies with every channel but the
    walked one masked out."""
    work = _no_inplace(model)
    graph = ModelGraph(work, input_shape)
    position = next(
        i for i, n in enumerate(graph.compute) if n.meta.get("qualname", n.target) == name
    )
    point = next(p for p in graph.points if p.position == position)
    own = point.crossing.index(graph.compute[position].name)
    layer, batch = work.get_submodule(name), images.shape[0]
    captured = {}

    def keep_input(module, inputs, output) -> None:  # a hook that returns a value replaces it
        captured["x"] = inputs[0].detach()

    handle = layer.register_forward_hook(keep_input)
    with torch.no_grad():
        crossing = graph.head(point.name)(images)
    handle.remove()
    crossing = crossing if isinstance(crossing, tuple) else (crossing,)
    filters = layer.weight.shape[0]
    x_in = captured["x"].repeat(filters, *([1] * (captured["x"].ndim - 1)))
    reps = [c.repeat(filters, *([1] * (c.ndim - 1))) for c in crossing]
    y = reps[own]
    bias = layer.bias.detach() if layer.bias is not None else torch.zeros(filters)
    owner = torch.arange(filters).repeat_interleave(batch)
    mask = (
        F.one_hot(owner, filters)
        .to(y.dtype)
        .reshape(filters * batch, filters, *([1] * (y.ndim - 2)))
    )
    total = torch.zeros(filters, dtype=torch.float64)
    for s in range(1, steps + 1):
        alpha = 1.0 - (s - 0.5) / steps
        scale = 1.0 - (1.0 - alpha) * mask
        scaled = scale * y + (1 - scale) * bias.reshape(1, filters, *([1] * (y.ndim - 2)))
        scaled.requires_grad_(True)
        inputs = list(reps)
        inputs[own] = scaled
        logits = graph.tail(point.name)(tuple(inputs) if len(inputs) > 1 else inputs[0])
        loss = F.cross_entropy(logits, labels.repeat(filters), reduction="sum") / batch
        (grad_y,) = torch.autograd.grad(loss, scaled)
        grad_w = _weight_grad(layer, x_in, grad_y * mask)
        total += (layer.weight.detach() * grad_w).abs().flatten(1).sum(1).double()
    return total / steps


@pytest.mark.parametrize("layer", ["conv", "fc"])
def test_singe_equals_a_direct_computation(tiny, layer):
    model, x, y = tiny
    m = 5
    got = SInGE(steps=m).scores(model, [layer], x, y, (2, 5, 5))[layer]
    weight = model.get_submodule(layer).weight.detach()
    for f in range(weight.shape[0]):
        total = 0.0
        for s in range(1, m + 1):
            alpha = 1 - (s - 0.5) / m
            _, g = _loss_with(model, x, y, layer, f, alpha)
            total += float((weight[f] * g[f]).abs().sum())
        assert float(got[f]) == pytest.approx(total / m, rel=1e-9)


@pytest.mark.parametrize(
    ("model_name", "chosen"),
    [
        # conv -> BN -> ReLU -> conv, the last conv before the flatten and linear, and a
        # linear layer: the per-channel segment and each mixing layer
        ("digits_vgg", None),
        # the stem (its output feeds a block and its skip), a block's convolutions and its
        # downsampling convolution (before the addition)
        ("digits_resnet", None),
        # depthwise convolutions in the per-channel segment, and inverted residuals
        ("digits_mobilenet", ["features.1.conv.0.0", "features.2.conv.0.0", "features.3.conv.2"]),
    ],
)
def test_singe_equals_its_first_implementation(model_name, chosen):
    model = load_model(model_name).module
    data = load_dataset("digits", "train", (3, 32, 32)).subset(samples=3, seed=SEED)
    layers = chosen or head_layers(model, (3, 32, 32), "none")[0]
    got, expected = {}, {}
    for dtype, rel in ((torch.float64, 1e-9), (torch.float32, 1e-5)):
        m, x = copy.deepcopy(model).to(dtype), data.images.to(dtype)
        got[dtype] = SInGE(steps=2).scores(m, layers, x, data.labels, (3, 32, 32))
        expected[dtype] = {
            n: singe_by_masked_copies(m, n, x, data.labels, (3, 32, 32), 2) for n in layers
        }
        for n in layers:
            top = expected[dtype][n].abs().max()
            assert (got[dtype][n] - expected[dtype][n]).abs().max() <= rel * top, (n, dtype)
    # in float32 both round (a trained model's loss gradient is near float32's resolution):
    # the faster one is as close to the float64 values as the first one
    for n in layers:
        exact = expected[torch.float64][n]
        new, old = ((v[torch.float32][n] - exact).abs().max() for v in (got, expected))
        assert new <= old + 1e-5 * exact.abs().max(), n


def test_singe_reports_its_progress(tiny):
    model, x, y = tiny
    seen = []
    SInGE(steps=3).scores(
        model, ["conv", "fc"], x, y, (2, 5, 5), progress=lambda s, n: seen.append((s, n))
    )
    assert len(seen) == 6 and seen[-1] == (pytest.approx(1.0), "fc")
    assert [s for s, _ in seen] == sorted(s for s, _ in seen)


def test_pruning_shows_each_round_scoring_then_fine_tuning():
    loaded = load_model("digits_vgg")
    train = load_dataset("digits", "train", (3, 32, 32))
    calls = []
    result = prune_head(
        loaded.module, (3, 32, 32), "features.3", SInGE(steps=1), train.images, train.labels,
        target_flops=0.3, finetune_steps=1, relevance_samples=2, seed=SEED,
        progress=lambda done, total, note: calls.append((done, total, note)),
    )  # fmt: skip
    starts = [i for i, (done, _, note) in enumerate(calls) if done == 0]
    assert len(starts) == result.steps >= 2  # one bar per round, restarted from 0
    for k, (begin, end) in enumerate(zip(starts, [*starts[1:], len(calls)]), start=1):
        shares = [done for done, _, _ in calls[begin:end]]
        assert shares == sorted(shares) and shares[-1] == calls[begin][1] == 1000
        assert all(note.startswith(f"round {k}, ") for _, _, note in calls[begin:end])
        assert "scoring features.0" in calls[begin + 1][2] and "fine-tuning" in calls[end - 1][2]


def test_convergence_check_keeps_the_fewest_steps_that_a_finer_run_confirms():
    # m = 1 and m = 2 would remove different channels, m = 2 and m = 4 the same ones
    removes = {1: {("a", 0)}, 2: {("b", 0)}, 4: {("b", 0)}, 8: {("b", 0)}}
    checks: list[dict] = []
    chosen, scores = _converged(
        SInGE(steps=None), {"m": 1}, checks, lambda c: {"m": c.steps}, lambda s: removes[s["m"]]
    )
    assert chosen.steps == 2 and scores == {"m": 4}  # the finer scores serve the round
    assert [(c["steps"], c["against"], c["shared"]) for c in checks] == [(1, 2, 0.0), (2, 4, 1.0)]
    fixed = SInGE(steps=4)
    assert fixed.refined() is None and _converged(fixed, {}, [], None, None) == (fixed, {})


def test_pruning_with_steps_chosen_by_the_convergence_check():
    loaded = load_model("digits_vgg")
    train = load_dataset("digits", "train", (3, 32, 32))
    result = prune_head(loaded.module, (3, 32, 32), "features.3", SInGE(steps=None), train.images,
                        train.labels, target_flops=0.3, finetune_steps=1, relevance_samples=4,
                        seed=SEED)  # fmt: skip
    checks = result.convergence
    assert checks and checks[0]["steps"] == 1 and checks[0]["against"] == 2
    last = checks[-1]
    assert result.integration_steps == (last["steps"] if last["shared"] >= 0.95 else 32)
    assert 0.3 <= result.flops_reduction


def test_signed_singe_is_ablation(tiny):
    # a smooth activation: with ReLU the integrand jumps at every kink and the midpoint
    # rule converges only as 1/m, which hides the identity behind discretisation error
    _, x, y = tiny
    torch.manual_seed(SEED)
    model = Tiny(nn.Tanh).double().eval()
    signed = SInGE(steps=400, signed=True).scores(model, ["conv"], x, y, (2, 5, 5))["conv"]
    with torch.no_grad():
        full = F.cross_entropy(model(x), y)
    for f in range(4):
        without, _ = _loss_with(model, x, y, "conv", f, 0.0)
        assert float(signed[f]) == pytest.approx(float(full - without), rel=1e-5, abs=1e-12)


def test_taylor_is_singe_at_the_trained_weights_alone(tiny):
    model, x, y = tiny
    taylor = Taylor().scores(model, ["conv", "fc"], x, y, (2, 5, 5))
    _, g = _loss_with(model, x, y, "conv", 0, 1.0)
    w = model.conv.weight.detach()
    assert torch.allclose(taylor["conv"], (w * g).abs().flatten(1).sum(1))
    l1 = L1().scores(model, ["conv"], x, y, (2, 5, 5))["conv"]
    assert torch.allclose(l1, w.abs().flatten(1).sum(1))
    a = Random(seed=1).scores(model, ["conv"], x, y, (2, 5, 5))["conv"]
    b = Random(seed=1).scores(model, ["conv"], x, y, (2, 5, 5))["conv"]
    assert torch.equal(a, b)


def test_singe_handles_residual_blocks_with_several_crossing_tensors():
    model = load_model("digits_resnet").module
    data = load_dataset("digits", "train", (3, 32, 32)).subset(samples=4, seed=SEED)
    scores = SInGE(steps=2).scores(
        model, ["layer2.0.conv1", "layer2.0.conv2"], data.images, data.labels, (3, 32, 32)
    )
    assert scores["layer2.0.conv1"].shape == (32,) and (scores["layer2.0.conv2"] >= 0).all()


def test_importance_sums_coupled_layers():
    model = load_model("digits_resnet").module
    graph = tp.DependencyGraph().build_dependency(model, example_inputs=torch.randn(1, 3, 32, 32))
    ones = {
        m: torch.ones(m.weight.shape[0])
        for m in model.modules()
        if isinstance(m, (nn.Conv2d, nn.Linear))
    }
    group = graph.get_pruning_group(
        model.layer2[0].conv2, tp.prune_conv_out_channels, idxs=list(range(32))
    )
    values = PrecomputedImportance(ones)(group)
    assert values.shape == (32,) and torch.allclose(values, torch.ones(32, dtype=torch.float64))
    coupled = sum(1 for dep, _ in group if dep.pruning_fn == tp.prune_conv_out_channels)
    assert coupled >= 2  # conv2 is tied to the downsample conv through the residual add


@pytest.mark.parametrize(
    ("model_name", "split", "target"),
    [("digits_vgg", "features", 0.5), ("digits_resnet", "layer3", 0.3)],
)
def test_pruned_head_has_the_requested_flops_and_still_splits(model_name, split, target, tmp_path):
    loaded = load_model(model_name)
    train = load_dataset("digits", "train", (3, 32, 32))
    result = prune_head(
        loaded.module,
        (3, 32, 32),
        split,
        L1(),
        train.images,
        train.labels,
        target_flops=target,
        finetune_steps=5,
        seed=SEED,
    )
    assert target <= result.flops_reduction <= target + 0.05
    flops, _ = head_cost(result.model, (3, 32, 32), split)
    assert flops == result.head_flops_after
    assert result.model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    assert max(verify_splits(result.model, (3, 32, 32)).values()) <= 1e-5
    # the original is untouched
    assert head_cost(loaded.module, (3, 32, 32), split)[0] == result.head_flops_before
    # saved without pickled classes, rebuilt by the registry
    path = save_pruned(
        result.model, model_name, tmp_path / "pruned.pt", (3, 32, 32), {"num_classes": 10}
    )
    again = load_model(str(path))
    x = torch.randn(3, 3, 32, 32)
    assert torch.allclose(again.module(x), result.model(x), atol=1e-6)


def test_pruning_depends_on_its_seed_alone():
    # digits_vgg's classifier has dropout, which draws from torch's global generator: a
    # different global state before the call must not change the pruned model
    loaded = load_model("digits_vgg")
    train = load_dataset("digits", "train", (3, 32, 32))

    def run(global_seed: int, seed: int = SEED) -> dict:
        torch.manual_seed(global_seed)
        result = prune_head(loaded.module, (3, 32, 32), "features", L1(), train.images,
                            train.labels, target_flops=0.2, finetune_steps=3, seed=seed)  # fmt: skip
        return result.model.state_dict()

    a, b, other = run(1), run(2), run(1, seed=SEED + 1)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], other[k]) for k in a if a[k].shape == other[k].shape)
    torch.manual_seed(3)
    expected = torch.rand(4)
    torch.manual_seed(3)
    prune_head(loaded.module, (3, 32, 32), "features", L1(), train.images, train.labels,
               target_flops=0.2, finetune_steps=3, seed=SEED)  # fmt: skip
    assert torch.equal(torch.rand(4), expected), "the caller's global random state is left alone"


def test_tail_layers_are_not_pruned_as_roots():
    model = load_model("digits_vgg").module
    head, tail = head_layers(model, (3, 32, 32), "features.7")
    assert head == ["features.0", "features.3", "features.7"]  # the cut is after features.7, a conv
    assert model.classifier[4] in tail
    whole, last = head_layers(model, (3, 32, 32), "none")
    assert "classifier.4" not in whole and model.classifier[4] in last


def test_bad_inputs():
    model = load_model("digits_vgg").module
    train = load_dataset("digits", "train", (3, 32, 32))
    with pytest.raises(SeiError, match="must be in \\(0, 1\\)"):
        prune_head(
            model, (3, 32, 32), "features", L1(), train.images, train.labels, target_flops=1.5
        )
    with pytest.raises(SeiError, match="unknown criterion 'sing'; did you mean 'singe'"):
        make_criterion("sing")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--split", "features.99"], "no inner split 'features.99'"),
        (
            ["--split", "features", "--target-flops", "1.2"],
            "--target-flops: 1.2 is out of range (0, 1)",
        ),
        (["--split", "features", "--criterion", "magic"], "unknown criterion 'magic'"),
    ],
)
def test_prune_cli_bad_input(write_scenario, args, fragment):
    result = runner.invoke(app, ["prune", str(write_scenario()), *args])
    assert result.exit_code == 2, result.output
    assert fragment in result.stderr and "Traceback" not in result.output


def test_prune_cli_refuses_a_model_without_weights(write_scenario, profiles):
    from .conftest import write_test_profile

    write_test_profile(profiles, model="resnet18")
    text = (
        "name: r\nmodel: {name: resnet18, weights: none}\ndevice: {profile: testhw}\nserver: {profile: testhw}\n"
        'network: {bandwidth: "10 Mbit/s", delay: "5 ms"}\nworkload: {rate: "5 fps"}\n'
    )
    result = runner.invoke(app, ["prune", str(write_scenario(text)), "--split", "layer1"])
    assert result.exit_code == 2 and "has no trained weights to prune" in result.stderr


@pytest.mark.slow
def test_prune_cli_saves_profiles_and_the_simulator_uses_it(write_scenario, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write_scenario()
    out = tmp_path / "pruned" / "vgg-l1.pt"
    result = runner.invoke(
        app, ["prune", str(path), "--split", "features", "--criterion", "l1", "--target-flops", "0.4",
              "--finetune-steps", "5", "--output", str(out), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert 0.4 <= summary["flops_reduction"] <= 0.45
    assert out.is_file() and out.with_suffix(".accuracy.csv").is_file()
    hardware = summary["hardware"]
    from splitetimpera.profiles import user_dir

    # measurements of the user's own models go to the user's folder, which the simulator searches
    assert summary["profile"] == str(user_dir() / hardware / "vgg-l1.csv")
    assert (user_dir() / hardware / "vgg-l1.csv").is_file()
    text = (
        f"name: pruned\nmodel: {{name: {out}}}\nsplits: {{method: [features]}}\n"
        f"device: {{profile: {hardware}}}\nserver: {{profile: {hardware}}}\n"
        'network: {protocol: udp, bandwidth: "10 Mbit/s", delay: "5 ms"}\nworkload: {rate: "5 fps", frames: 5}\n'
    )
    sim = runner.invoke(
        app, ["simulate", str(write_scenario(text, "pruned.yaml")), "--json", "--no-report"]
    )
    assert sim.exit_code == 0, sim.output
    rows = {r["config"]: r for r in json.loads(sim.stdout)["summary"]}
    assert rows["LC"]["accuracy"] == pytest.approx(summary["accuracy_after"])
