"""I-SPLIT's cumulative importance (CUI) of every split point, in one pass per batch.

For image n, target class c (the model's prediction, or the label), and the activation A
of a layer l (K channels x H x W; a vector counts as K x 1 x 1; any other rank keeps
dimension 1 as channels and flattens the rest)::

    alpha_k  = mean over (i,j) of dy_c / dA_k,i,j
    M_n,l    = ReLU( (1/K) sum_k alpha_k A_k )          # channel mean
    s_n,l    = mean over (i,j) of M_n,l
    CUI_l(S) = | mean over n in S of s_n,l |

The reference implementation re-ran the network prefix for every layer (O(L^2) forward
passes per image, at batch size 1). Here each batch takes one forward and one backward:
a tensor hook on every layer's output receives dy_c/dA, reduces it with A to s_n,l at
once and adds it to running per-(layer, class) sums; no per-image map is kept. This is
exact: the ReLU acts per image and everything after it is linear.

The layer of a split point is the node after which the model is cut (its output).
"""

from __future__ import annotations

import copy
import operator
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch
import torch.fx as fx
import torch.nn as nn
import torch.nn.functional as F

from ..data.datasets import ImageData
from ..models.graph import ModelGraph, module_scopes
from ..ranking import CUI_COLUMNS

__all__ = ["cui_sums", "image_scores", "score_from", "layer_kinds"]

_OUT_OF_PLACE = {
    operator.iadd: operator.add,
    operator.imul: operator.mul,
    operator.isub: operator.sub,
}


#: Elements of a layer's map promoted to float64 at once in :func:`score_from` (32 MB).
_PROMOTED_ELEMENTS = 1 << 22


def score_from(activation: torch.Tensor, gradient: torch.Tensor) -> torch.Tensor:
    """s_n for a batch: the spatial mean of the ReLU'd, channel-averaged Grad-CAM map.

    Args:
        activation: (B, K, ...) layer output.
        gradient: dy_c/dA of the same shape.

    Returns:
        (B,) float64 scores.
    """
    a = activation.detach()
    g = gradient.detach()
    batch, channels = a.shape[0], a.shape[1] if a.ndim > 1 else 1
    if a.ndim == 1:
        a, g = a.reshape(batch, 1), g.reshape(batch, 1)
    alpha = g.reshape(batch, channels, -1).mean(dim=2) if g.ndim > 2 else g  # (B, K)
    alpha = alpha.to(torch.float64)
    # The channel sum (a batched matrix-vector product) accumulates in float64: in float32
    # its rounding, amplified by the cancellation between channels, reaches 1e-4 relative
    # and can reorder layers of nearly equal CUI. A few images at a time are promoted, so
    # that the float64 copy stays small. A channels-last map is read as (B, HW, K).
    if a.ndim == 4 and a.is_contiguous(memory_format=torch.channels_last):
        maps, spec = a.permute(0, 2, 3, 1).reshape(batch, -1, channels), "bk,bnk->bn"
    else:
        maps, spec = a.reshape(batch, channels, -1), "bk,bkn->bn"
    step = max(1, _PROMOTED_ELEMENTS // max(1, maps[0].numel()))
    cam = torch.cat(
        [
            torch.einsum(spec, alpha[i : i + step], maps[i : i + step].to(torch.float64))
            for i in range(0, batch, step)
        ]
    )
    return torch.relu(cam / channels).mean(dim=1)


def _precision(shape, precision: str) -> torch.dtype:
    """``auto``: float64 on small inputs (cheap there, and free of float32 rounding, which
    the cancellation in the channel sum can amplify to 1e-4), float32 on large ones."""
    if precision == "float64":
        return torch.float64
    if precision == "float32":
        return torch.float32
    if precision != "auto":
        raise ValueError(f"unknown precision {precision!r}; known: auto, float32, float64")
    return torch.float32 if _channels_last(shape) else torch.float64


def _no_inplace(graph: ModelGraph, dtype: torch.dtype = torch.float32) -> fx.GraphModule:
    """A copy of the traced model whose in-place operations are out-of-place.

    In-place ReLUs would overwrite the very activations whose gradients we hook.
    """
    gm = copy.deepcopy(graph.gm)
    for module in gm.modules():
        if hasattr(module, "inplace") and isinstance(module.inplace, bool):
            module.inplace = False
    for node in gm.graph.nodes:
        if node.op == "call_function":
            if node.target in _OUT_OF_PLACE:
                node.target = _OUT_OF_PLACE[node.target]
            if node.kwargs.get("inplace"):
                node.kwargs = {**node.kwargs, "inplace": False}
        elif (
            node.op == "call_method"
            and isinstance(node.target, str)
            and node.target.endswith("_")
            and not node.target.endswith("__")
        ):
            if hasattr(torch.Tensor, node.target[:-1]):
                node.target = node.target[:-1]
    gm.recompile()
    for p in gm.parameters():
        p.requires_grad_(False)
    gm = gm.to(dtype)
    if _channels_last(graph.input_shape):
        gm = gm.to(memory_format=torch.channels_last)
    return gm.eval()


def _channels_last(shape) -> bool:
    """Channels-last pays on large maps: oneDNN convolutions on a CPU run about a quarter
    faster at 224x224; on small inputs the gain is nil and float32 rounding differs."""
    return len(shape) == 3 and shape[1] * shape[2] >= 64 * 64


def _layout(images: torch.Tensor) -> torch.Tensor:
    """A copy of the images, channels-last for large image batches."""
    if images.ndim == 4 and _channels_last(tuple(images.shape[1:])):
        return images.contiguous(memory_format=torch.channels_last).clone(
            memory_format=torch.channels_last
        )
    return images.clone()


class _HookedRun(fx.Interpreter):
    """Runs the graph, attaching a gradient hook to the output of every layer of interest."""

    def __init__(
        self,
        gm: fx.GraphModule,
        layers: dict[str, int],
        sink: Callable[[int, torch.Tensor, torch.Tensor], None],
    ):
        super().__init__(gm)
        self.layers = layers
        self.sink = sink

    def run_node(self, n: fx.Node):
        result = super().run_node(n)
        index = self.layers.get(n.name)
        if index is not None and isinstance(result, torch.Tensor) and result.requires_grad:
            activation = result

            def hook(grad: torch.Tensor, index=index, activation=activation):
                self.sink(index, activation, grad)

            result.register_hook(hook)
        return result


_CONVOLUTIONS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_POOLS = (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)
_POOL_FUNCTIONS = {F.max_pool1d, F.max_pool2d, F.max_pool3d, F.avg_pool1d, F.avg_pool2d,
                   F.avg_pool3d}  # fmt: skip


def layer_kinds(graph: ModelGraph) -> dict[str, str]:
    """The kind of the layer at each split point: what the original I-SPLIT scores.

    The original code scores, in a VGG, the outputs of the layers of ``features`` that are
    convolutions (before their BatchNorm and ReLU) or pooling layers, and in a ResNet the
    stem's convolution and max-pooling and the output of every residual block; never the
    classifier. Generalised to any traced model, in forward order:

    * ``classifier``: from the first layer of the root's child module that holds the
      model's last convolution or linear layer (``classifier``, ``fc``, ``heads``) to the
      end;
    * ``block``: the end of a residual block, i.e. of a module (not a leaf) inside which
      some cut carries two or more tensors (a skip connection);
    * ``conv``: a convolution's output, and ``pool``: a fixed-window pooling layer's
      output (max or average; adaptive pooling is not one), where one tensor crosses;
    * ``other``: everything else (BatchNorm, activations, dropout, flatten, adaptive
      pooling, the inside of residual blocks).

    ``conv``, ``pool`` and ``block`` make the reference layer set.

    Returns:
        Split point name -> kind, for every split point but ``input`` and ``output``.
    """
    compute = graph.compute
    scopes = [module_scopes(n) for n in compute]
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    for i, scope in enumerate(scopes):
        for s in scope:
            first.setdefault(s, i)
            last[s] = i
    learned = [
        i
        for i, n in enumerate(compute)
        if isinstance(_module(graph, n), (*_CONVOLUTIONS, nn.Linear))
    ]
    classifier = len(compute)
    if learned and scopes[learned[-1]]:
        classifier = first[scopes[learned[-1]][0]]
    wide = [p.position for p in graph.points if p.n_tensors > 1]
    blocks = {
        last[s]
        for s in first
        if _has_children(graph, s) and any(first[s] <= w < last[s] for w in wide)
    }
    kinds: dict[str, str] = {}
    for p in graph.points:
        if p.name in ("input", "output"):
            continue
        node = compute[p.position]
        module = _module(graph, node)
        if p.position >= classifier:
            kinds[p.name] = "classifier"
        elif p.n_tensors > 1:
            kinds[p.name] = "other"
        elif p.position in blocks:
            kinds[p.name] = "block"
        elif isinstance(module, _CONVOLUTIONS):
            kinds[p.name] = "conv"
        elif isinstance(module, _POOLS) or node.target in _POOL_FUNCTIONS:
            kinds[p.name] = "pool"
        else:
            kinds[p.name] = "other"
    return kinds


def _module(graph: ModelGraph, node: fx.Node) -> nn.Module | None:
    return graph.gm.get_submodule(str(node.target)) if node.op == "call_module" else None


def _has_children(graph: ModelGraph, path: str) -> bool:
    try:
        module = graph.model.get_submodule(path)
    except AttributeError:
        return False
    return next(iter(module.children()), None) is not None


def cui_sums(
    model: nn.Module,
    data: ImageData,
    input_shape: tuple[int, int, int],
    *,
    target: str = "predicted",
    batch_size: int = 32,
    precision: str = "auto",
    progress: Callable[[int, int, str], None] | None = None,
) -> pd.DataFrame:
    """Per-(layer, class) sums of s_n,l over ``data``: the I-SPLIT table.

    Args:
        model: a trained classifier.
        data: images and labels (held-out data).
        input_shape: (C, H, W).
        target: ``predicted`` (argmax of the output, the reference semantics) or ``label``.
        batch_size: images per forward/backward pass.
        precision: ``auto`` (float64 below 64x64 inputs, float32 above), ``float32``
            or ``float64``.
        progress: called as ``progress(done_images, total, note)``.

    Returns:
        One row per (split, label) with the columns of
        :data:`splitetimpera.ranking.CUI_COLUMNS`, layers in forward order. Layers whose
        output is not a differentiable tensor are left out.
    """
    if target not in ("predicted", "label"):
        raise ValueError(f"unknown target {target!r}; known: predicted, label")
    graph = ModelGraph(model, input_shape)
    dtype = _precision(tuple(input_shape), precision)
    gm = _no_inplace(graph, dtype)
    points = [p for p in graph.points if p.name not in ("input", "output")]
    layers = {graph.compute[p.position].name: i for i, p in enumerate(points)}
    kinds = layer_kinds(graph)
    n_classes = len(data.classes)
    sums = np.zeros((len(points), n_classes))
    counts = np.zeros(n_classes, dtype=np.int64)
    seen = np.zeros(len(points), dtype=bool)
    labels_now: list[torch.Tensor] = []

    def sink(index: int, activation: torch.Tensor, grad: torch.Tensor) -> None:
        scores = score_from(activation, grad).numpy()
        np.add.at(sums[index], labels_now[0].numpy(), scores)
        seen[index] = True

    total = len(data)
    done = 0
    for images, labels in data.batches(batch_size):
        x = _layout(images.to(dtype)).requires_grad_(True)
        labels_now[:] = [labels]
        logits = _HookedRun(gm, layers, sink).run(x)
        classes = logits.argmax(dim=1) if target == "predicted" else labels
        chosen = logits.gather(1, classes.view(-1, 1)).sum()
        chosen.backward()
        np.add.at(counts, labels.numpy(), 1)
        done += len(labels)
        if progress is not None:
            progress(done, total, f"{done}/{total} images")
    rows = []
    for i, p in enumerate(points):
        if not seen[i]:
            continue
        for c in range(n_classes):
            if counts[c]:
                rows.append(
                    {
                        "split": p.name,
                        "depth": p.depth,
                        "kind": kinds[p.name],
                        "label": data.classes[c],
                        "score_sum": sums[i, c],
                        "count": int(counts[c]),
                    }
                )
    return pd.DataFrame(rows, columns=list(CUI_COLUMNS))


def image_scores(
    model: nn.Module,
    x: torch.Tensor,
    input_shape: tuple[int, int, int],
    target_class: torch.Tensor | None = None,
) -> dict[str, np.ndarray]:
    """s_n,l for a small batch, per layer (for inspection and tests)."""
    graph = ModelGraph(model, input_shape)
    gm = _no_inplace(graph, x.dtype)
    points = [p for p in graph.points if p.name not in ("input", "output")]
    layers = {graph.compute[p.position].name: i for i, p in enumerate(points)}
    out: dict[str, np.ndarray] = {}

    def sink(index, activation, grad):
        out[points[index].name] = score_from(activation, grad).numpy()

    x = _layout(x).requires_grad_(True)
    logits = _HookedRun(gm, layers, sink).run(x)
    classes = logits.argmax(1) if target_class is None else target_class
    logits.gather(1, classes.view(-1, 1)).sum().backward()
    return out
