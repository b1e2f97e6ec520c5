"""I-SPLIT: the one-pass CUI against slow per-layer recomputations and captum."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn as nn

from splitetimpera.data.datasets import ImageData, load_dataset
from splitetimpera.errors import ScenarioError
from splitetimpera.interpret.isplit import cui_sums, image_scores, layer_kinds
from splitetimpera.models.graph import ModelGraph
from splitetimpera.models.rng import seeded
from splitetimpera.models.zoo import build_architecture, load_model
from splitetimpera.ranking import (
    PLATEAU_RTOL,
    best_by_class,
    cui_curve,
    isplit_candidates,
    local_maxima,
    reference_maxima,
    select_layers,
)

from .conftest import SEED

REFERENCE = ["digits_vgg", "digits_resnet", "digits_mobilenet"]


def _scores_slow_by_splitting(model, x, input_shape) -> dict[str, np.ndarray]:
    """The O(L^2) way: for every layer, run the head, make its output a leaf, run the
    tail, and differentiate y_c with respect to that leaf; one image at a time."""
    model = copy.deepcopy(model)
    for m in model.modules():
        if hasattr(m, "inplace"):
            m.inplace = False  # an in-place ReLU would write into the leaf
    graph = ModelGraph(model, input_shape)
    out: dict[str, list[float]] = {}
    for p in graph.points:
        if p.name in ("input", "output"):
            continue
        head, tail = graph.head(p.name), graph.tail(p.name)
        scores = []
        for n in range(x.shape[0]):
            with torch.no_grad():
                crossing = head(x[n : n + 1])
            values = crossing if isinstance(crossing, tuple) else (crossing,)
            leaves = tuple(
                v.detach().clone().requires_grad_(v.is_floating_point())
                if isinstance(v, torch.Tensor)
                else v
                for v in values
            )
            y = tail(leaves if isinstance(crossing, tuple) else leaves[0])
            c = int(y.argmax(1))
            layer = leaves[list(p.crossing).index(graph.compute[p.position].name)]
            (g,) = torch.autograd.grad(y[0, c], layer)
            a = layer.detach().double().reshape(1, layer.shape[1], -1)
            g = g.double().reshape(1, layer.shape[1], -1)
            cam = torch.relu((g.mean(2, keepdim=True) * a).sum(1) / a.shape[1])
            scores.append(float(cam.mean()))
        out[p.name] = np.array(scores)
    return out


def _scores_slow_by_module_hooks(model, x) -> dict[str, np.ndarray]:
    """Independent of sei's graph code: a forward hook swaps one module's output for a
    leaf tensor, the model runs to the end, and y_c is differentiated; per layer."""
    model = copy.deepcopy(model).eval()
    for m in model.modules():
        if hasattr(m, "inplace"):
            m.inplace = False
    out: dict[str, np.ndarray] = {}
    for name, module in model.named_modules():
        if list(module.children()) or name == "":
            continue
        scores = []
        for n in range(x.shape[0]):
            captured = {}

            def hook(mod, inputs, output, captured=captured):
                leaf = output.detach().clone().requires_grad_(True)
                captured.setdefault("leaf", leaf)
                return leaf.clone()  # later in-place ops (out += identity) act on the copy

            handle = module.register_forward_hook(hook)
            try:
                y = model(x[n : n + 1])
            finally:
                handle.remove()
            leaf = captured.get("leaf")
            if leaf is None or not y.requires_grad:
                break
            c = int(y.argmax(1))
            (g,) = torch.autograd.grad(y[0, c], leaf, allow_unused=True)
            if g is None:
                break
            a = leaf.detach().double().reshape(1, leaf.shape[1], -1)
            g = g.double().reshape(1, leaf.shape[1], -1)
            scores.append(
                float(torch.relu((g.mean(2, keepdim=True) * a).sum(1) / a.shape[1]).mean())
            )
        if len(scores) == x.shape[0]:
            out[name] = np.array(scores)
    return out


@pytest.fixture(scope="module")
def images():
    data = load_dataset("digits", "val", (3, 32, 32))
    return data.subset(samples=12, seed=SEED)


@pytest.mark.parametrize("name", REFERENCE)
def test_one_pass_matches_per_layer_recomputation(name, images):
    # float64 throughout, so that what is compared is the method, not float32 rounding
    model = load_model(name).module.double()
    # MobileNet has 150 layers: 4 images keep the O(L^2) reference under 20 s
    x = images.images[: 4 if name == "digits_mobilenet" else 12].double()
    fast = image_scores(model, x, (3, 32, 32))
    slow = _scores_slow_by_splitting(model, x, (3, 32, 32))
    assert set(slow) == set(fast)
    for layer, expected in slow.items():
        got = fast[layer]
        rel = np.abs(got.mean() - expected.mean()) / max(abs(expected.mean()), 1e-30)
        assert rel <= 1e-5, (layer, got.mean(), expected.mean())
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-15)


def test_one_pass_matches_module_hook_reference(images):
    model = load_model("digits_resnet").module.double()
    fast = image_scores(model, images.images.double(), (3, 32, 32))
    slow = _scores_slow_by_module_hooks(model, images.images.double())
    graph = ModelGraph(model, (3, 32, 32))
    compared = 0
    for p in graph.points:
        node = graph.compute[p.position] if p.position >= 0 else None
        qual = node.meta.get("qualname") if node is not None and node.op == "call_module" else None
        # modules called once only: a hook on a twice-called module sees its first call
        if qual in slow and qual == p.name:
            cui_fast, cui_slow = fast[p.name].mean(), slow[qual].mean()
            assert abs(cui_fast - cui_slow) <= 1e-5 * max(abs(cui_slow), 1e-30), p.name
            compared += 1
    assert compared >= 10


def test_cui_sums_aggregate_image_scores(images):
    model = load_model("digits_vgg").module
    sums = cui_sums(model, images, (3, 32, 32), batch_size=5)
    per_image = image_scores(model, images.images, (3, 32, 32))
    curve = cui_curve(sums).set_index("split")
    for layer, scores in per_image.items():
        # float32 in both, batches of 5 against one batch of 12: rounding only
        assert curve.loc[layer, "cui"] == pytest.approx(scores.mean(), rel=1e-5)
    assert int(sums.groupby("split")["count"].sum().iloc[0]) == len(images)


@pytest.mark.parametrize("layer", ["features.3", "features.10", "features.17"])
def test_matches_captum_layer_gradcam(layer, images):
    from captum.attr import LayerGradCam

    # float64, so that the two implementations' different kernels round alike
    model = copy.deepcopy(load_model("digits_vgg").module).double()
    for m in model.modules():
        if hasattr(m, "inplace"):
            m.inplace = False
    module = model.get_submodule(layer)
    x = images.images.double()
    with torch.no_grad():
        target = model(x).argmax(1)
    gradcam = LayerGradCam(model, module)
    attributions = gradcam.attribute(x, target=target, relu_attributions=True)
    ours = image_scores(model, x, (3, 32, 32))[layer]
    k = _channels(model, layer, x)
    expected = (attributions / k).mean(dim=(1, 2, 3)).detach().double().numpy()
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-12)


def _channels(model: nn.Module, layer: str, x: torch.Tensor) -> int:
    seen = {}

    def hook(module, inputs, output) -> None:
        seen["k"] = output.shape[1]

    handle = model.get_submodule(layer).register_forward_hook(hook)
    with torch.no_grad():
        model(x[:1])
    handle.remove()
    return seen["k"]


def test_class_subsets_change_the_curve():
    model = load_model("digits_vgg").module
    data = load_dataset("digits", "val", (3, 32, 32))
    sums = cui_sums(model, data.subset(samples=120, seed=SEED), (3, 32, 32))
    a = cui_curve(sums, [0, 1])["cui"].to_numpy()
    b = cui_curve(sums, [7, 8])["cui"].to_numpy()
    assert not np.allclose(a, b)
    best = best_by_class(sums)
    assert len(best) == 10 and best["best_split"].notna().all()
    with pytest.raises(ValueError, match="no image of classes"):
        cui_curve(sums, [42])


def test_local_maxima_and_candidates():
    assert local_maxima([0, 2, 1, 3, 3, 1, 5]) == [1, 3]
    assert local_maxima([3, 2, 1]) == []
    curve = pd.DataFrame(
        {"split": list("abcdefg"), "depth": range(1, 8), "cui": [1, 5, 2, 2, 9, 9, 9], "images": 10}
    )
    curve["log10_cui"] = np.log10(curve["cui"])
    marked = isplit_candidates(curve, top_k=2).set_index("split")
    assert marked.loc["b", "local_max"]
    # e, f, g are one plateau (the same tensor through identity-like layers): ranked once
    assert marked.loc["e", "rank"] == marked.loc["g", "rank"] == 1
    assert (
        marked.loc["e", "top_k"] and not marked.loc["f", "top_k"] and not marked.loc["g", "top_k"]
    )
    assert marked.loc["b", "top_k"]  # second group by CUI
    assert list(marked.index[marked["candidate"]]) == ["b", "e"]


@pytest.mark.parametrize("name", ["digits_vgg", "digits_resnet"])
def test_small_models_rank_in_float64(name, images):
    """A float32 model on 32x32 digits is ranked in float64: the table matches the float64
    reference to 1e-9, free of the float32 rounding that cancellation amplifies."""
    model = load_model(name).module
    sums = cui_sums(model, images, (3, 32, 32), batch_size=5)
    curve = cui_curve(sums).set_index("split")["cui"]
    slow = _scores_slow_by_splitting(model.double(), images.images.double(), (3, 32, 32))
    for layer, expected in slow.items():
        assert curve[layer] == pytest.approx(expected.mean(), rel=1e-9), layer


def _curve(cui: list[float]) -> pd.DataFrame:
    names = [f"l{i}" for i in range(len(cui))]
    curve = pd.DataFrame({"split": names, "depth": range(1, len(cui) + 1), "cui": cui, "images": 1})
    curve["log10_cui"] = np.log10(curve["cui"])
    return curve


def _original_rule(cui: list[float]) -> list[int]:
    """The original code's rule as the issue states it, on the curve with the input
    position holding the first layer's value: indices where diff(sign(diff)) < 0, shifted
    back by the input position."""
    vals = np.log10([cui[0], *cui])
    return [int(k) - 1 for k in np.flatnonzero(np.diff(np.sign(np.diff(vals))) < 0) + 1]


def test_reference_rule_picks_exactly_the_expected_layers():
    #        l0   l1   l2   l3   l4            l5   l6   l7   l8   l9
    cui = [5.0, 3.0, 4.0, 8.0, 8.0 * (1 + 1e-9), 2.0, 2.0, 1.0, 6.0, 4.0, 7.0]
    marked = isplit_candidates(_curve(cui), top_k=3, rule="local-maxima").set_index("split")
    # l0: the first value counts twice, and the curve falls after it; l3: a peak whose
    # plateau (l4, equal within the tolerance) it stands for; l8: a peak; l5-l6: a flat
    # step on the way down, one point, no peak; l10: the last layer, never
    assert list(marked.index[marked["candidate"]]) == ["l0", "l3", "l8"]
    assert not marked["top_k"].any()  # no top-k under the original rule
    top = isplit_candidates(_curve(cui), top_k=3, rule="top-k").set_index("split")
    assert list(top.index[top["local_max"]]) == ["l3", "l8"]  # interior maxima only
    assert list(top.index[top["candidate"]]) == ["l3", "l8", "l10"]  # and the top 3: l3 l10 l8


def test_reference_rule_is_the_original_formula_where_no_neighbours_tie():
    rng = np.random.default_rng(SEED)
    for _ in range(200):
        cui = list(10 ** rng.uniform(-5, -1, size=int(rng.integers(2, 30))))
        assert reference_maxima(np.log10(cui)) == _original_rule(cui)
        marked = isplit_candidates(_curve(cui), top_k=1, rule="local-maxima")
        assert list(np.flatnonzero(marked["candidate"])) == _original_rule(cui)


def test_plateaus_do_not_depend_on_rounding():
    # a plateau (the same values passed on: dropout, a bias-free linear layer) rounded
    # either way by float32 gives the same candidates; a real difference does not merge
    base = [1.0, 3.0, 2.0, 5.0, 5.0, 4.0]
    for eps in (-3e-7, 0.0, 3e-7):
        cui = [*base[:4], 5.0 * (1 + eps), base[5]]
        for rule in ("top-k", "local-maxima"):
            marked = isplit_candidates(_curve(cui), top_k=1, rule=rule)
            assert list(marked.loc[marked["candidate"], "split"]) == ["l1", "l3"], (eps, rule)
            assert marked.loc[4, "rank"] == marked.loc[3, "rank"] == 1
    apart = isplit_candidates(_curve([1.0, 3.0, 2.0, 5.0, 5.0 * (1 + 10 * PLATEAU_RTOL), 4.0]), 1)
    assert list(apart.loc[apart["local_max"], "split"]) == ["l1", "l4"]


def test_reference_layer_set_of_the_reference_models():
    vgg = layer_kinds(ModelGraph(load_model("digits_vgg").module, (3, 32, 32)))
    reference = {s: k for s, k in vgg.items() if k in ("conv", "pool", "block")}
    # the convolutions (before their BatchNorm and ReLU) and the max-pools of `features`
    assert reference == {
        "features.0": "conv", "features.3": "conv", "features.6": "pool", "features.7": "conv",
        "features.10": "conv", "features.13": "pool", "features.14": "conv",
        "features.17": "conv", "features": "pool",
    }  # fmt: skip
    assert {s for s, k in vgg.items() if k == "classifier"} == {f"classifier.{i}" for i in range(4)}
    resnet = layer_kinds(ModelGraph(load_model("digits_resnet").module, (3, 32, 32)))
    # the stem's convolution and every residual block's output; nothing inside a block
    assert [s for s, k in resnet.items() if k in ("conv", "pool", "block")] == [
        "conv1", "layer1", "layer2", "layer3", "layer4",
    ]  # fmt: skip


@pytest.mark.parametrize(("name", "count"), [("vgg16", 18), ("resnet50", 18)])
def test_reference_layer_set_is_the_original_codes_on_vgg16_and_resnet50(name, count):
    kinds = layer_kinds(ModelGraph(build_architecture(name).eval(), (3, 64, 64)))
    reference = [s for s, k in kinds.items() if k in ("conv", "pool", "block")]
    # VGG16: 13 convolutions and 5 max-pools; ResNet-50: conv1, maxpool and 16 blocks
    assert len(reference) == count
    if name == "resnet50":
        assert reference[:4] == ["conv1", "maxpool", "layer1.0", "layer1.1"]
        assert reference[-1] == "layer4" and "layer4.2.conv3" not in reference
    else:
        assert [kinds[s] for s in reference].count("pool") == 5


def test_cui_table_carries_the_kinds_and_the_reference_curve_on_digits_vgg(images):
    sums = cui_sums(load_model("digits_vgg").module, images, (3, 32, 32), batch_size=5)
    reference = select_layers(sums, "reference")
    curve = cui_curve(reference)
    assert curve["split"].tolist() == [
        "features.0", "features.3", "features.6", "features.7", "features.10",
        "features.13", "features.14", "features.17", "features",
    ]  # fmt: skip
    marked = isplit_candidates(curve, top_k=3, rule="local-maxima")
    chosen = list(marked.loc[marked["candidate"], "split"])
    assert [curve["split"][i] for i in _original_rule(curve["cui"].tolist())] == chosen


def test_reference_layers_undefined_is_one_line_naming_the_file_and_key():
    table = pd.DataFrame(
        {"split": ["fc1", "fc2"], "depth": [1, 2], "kind": ["other", "classifier"],
         "label": ["0", "0"], "score_sum": [1.0, 2.0], "count": [1, 1]}
    )  # fmt: skip
    with pytest.raises(ScenarioError, match=r"^mlp.yaml: splits.layers: reference layers are not"):
        select_layers(table, "reference", "mlp.yaml")
    assert select_layers(table, "all", "mlp.yaml") is table


def test_candidates_of_a_random_vgg11_do_not_depend_on_the_precision():
    # float32 rounding once split the bias-free classifier's plateau (equal CUI in exact
    # arithmetic) and added a candidate that float64 did not have
    with seeded(SEED):
        model = build_architecture("vgg11").eval()
    gen = torch.Generator().manual_seed(SEED)
    data = ImageData(torch.randn(4, 3, 64, 64, generator=gen), torch.zeros(4, dtype=torch.int64),
                     ["0"], "random")  # fmt: skip
    chosen = {}
    for precision in ("float32", "float64"):
        sums = cui_sums(model, data, (3, 64, 64), batch_size=4, precision=precision)
        for rule in ("top-k", "local-maxima"):
            marked = isplit_candidates(cui_curve(sums), top_k=3, rule=rule)
            chosen[precision, rule] = list(marked.loc[marked["candidate"], "split"])
    assert chosen["float32", "top-k"] == chosen["float64", "top-k"]
    assert chosen["float32", "local-maxima"] == chosen["float64", "local-maxima"]
