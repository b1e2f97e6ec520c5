"""Neuron relevance for structured pruning: SInGE and the baselines it is compared with.

SInGE (Yvinec et al., NeurIPS 2022) scores a filter or neuron f (one output channel of a
convolution or linear layer) by integrating, along the path that scales its weights from
W_f down to 0 (its removal), the magnitude of the gradient-weight product::

    R_f = (1/m) sum_{s=1..m} || W_f * grad_{W_f} L(x; alpha_s W_f) ||_1,
    alpha_s = 1 - (s - 1/2) / m            (the midpoint rule from 1 to 0)

L is the training loss (cross-entropy) averaged over a batch of training images, and only
W_f moves along the path (every other weight stays). Why the norm: the *signed* integral of
<grad_{W_f} L(alpha W_f), W_f> d alpha is exactly L(with f) - L(without f), plain ablation,
which sees only the end points; the norm of the integrand measures how much the loss is
shaped by f all along its removal (``signed=True`` computes the signed variant, which the
tests check against ablation).

Scaling W_f by alpha scales f's output channel (without its bias) by alpha, so the path is
walked for all filters of a layer at once: the network up to the layer runs once, the rest
runs on one copy of the batch per filter with that filter's channel scaled, and each
filter's weight gradient is taken from its own copy only. The cost is m passes of the
network after each layer over (filters x batch) images.

Baselines under the same loop: ``l1`` (L1 norm of the filter's weights), ``taylor``
(sum |w * g| at the trained weights: SInGE's integrand at alpha = 1 alone), ``random``.
Criteria are small classes found by name in :data:`CRITERIA`.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import SeiError
from ..models.graph import ModelGraph
from ..store import Registry

__all__ = [
    "Criterion",
    "SInGE",
    "L1",
    "Taylor",
    "Random",
    "CRITERIA",
    "make_criterion",
    "PrunableLayers",
]


class PrunableLayers:
    """The convolution and linear layers whose output channels may be pruned, by name."""

    def __init__(self, model: nn.Module, names: list[str]):
        self.model = model
        self.names = names

    def modules(self) -> dict[str, nn.Module]:
        return {n: self.model.get_submodule(n) for n in self.names}


class Criterion(ABC):
    """Scores every output channel of the given layers (higher = more relevant)."""

    name = "abstract"

    @abstractmethod
    def scores(
        self,
        model: nn.Module,
        layers: list[str],
        images: torch.Tensor,
        labels: torch.Tensor,
        input_shape,
    ) -> dict[str, torch.Tensor]:
        """Layer name -> a 1-D tensor with one score per output channel."""


class L1(Criterion):
    """Magnitude: the L1 norm of each filter's weights."""

    name = "l1"

    def scores(self, model, layers, images, labels, input_shape):
        return {n: model.get_submodule(n).weight.detach().abs().flatten(1).sum(1) for n in layers}


class Random(Criterion):
    """Uniform random scores (a seeded baseline)."""

    name = "random"

    def __init__(self, seed: int = 0):
        self.generator = torch.Generator().manual_seed(seed)

    def scores(self, model, layers, images, labels, input_shape):
        return {
            n: torch.rand(model.get_submodule(n).weight.shape[0], generator=self.generator)
            for n in layers
        }


class Taylor(Criterion):
    """First-order Taylor: sum over a filter's weights of |w * dL/dw|, at the trained weights."""

    name = "taylor"

    def scores(self, model, layers, images, labels, input_shape):
        model = copy.deepcopy(model).eval()
        for p in model.parameters():
            p.requires_grad_(True)
        loss = F.cross_entropy(model(images), labels)
        weights = [model.get_submodule(n).weight for n in layers]
        grads = torch.autograd.grad(loss, weights)
        return {
            n: (w.detach() * g).abs().flatten(1).sum(1) for n, w, g in zip(layers, weights, grads)
        }


def _no_inplace(model: nn.Module) -> nn.Module:
    model = copy.deepcopy(model).eval()
    for m in model.modules():
        if hasattr(m, "inplace") and isinstance(m.inplace, bool):
            m.inplace = False
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def _weight_grad(layer: nn.Module, inputs: torch.Tensor, grad_out: torch.Tensor) -> torch.Tensor:
    """dL/dW of ``layer`` for the given input and output gradient (summed over the batch)."""
    if isinstance(layer, nn.Linear):
        return grad_out.reshape(-1, grad_out.shape[-1]).T @ inputs.reshape(-1, inputs.shape[-1])
    return torch.nn.grad.conv2d_weight(
        inputs,
        layer.weight.shape,
        grad_out,
        layer.stride,
        layer.padding,
        layer.dilation,
        layer.groups,
    )


class SInGE(Criterion):
    """Integrated gradient-weight magnitude along each filter's removal path.

    Args:
        steps: m, the points on the path (midpoint rule).
        signed: integrate <W_f, grad> instead of ||W_f * grad||_1 (the ablation identity).
    """

    name = "singe"

    def __init__(self, steps: int = 8, signed: bool = False):
        if steps < 1:
            raise SeiError(f"SInGE needs at least 1 integration step, got {steps}")
        self.steps = steps
        self.signed = signed

    def alphas(self) -> list[float]:
        m = self.steps
        return [1.0 - (s - 0.5) / m for s in range(1, m + 1)]

    def scores(self, model, layers, images, labels, input_shape):
        work = _no_inplace(model)
        graph = ModelGraph(work, input_shape)
        node_of = {
            str(n.meta.get("qualname", n.target)): i
            for i, n in enumerate(graph.compute)
            if n.op == "call_module"
        }
        points = {p.position: p for p in graph.points}
        out: dict[str, torch.Tensor] = {}
        batch = images.shape[0]
        for name in layers:
            layer = work.get_submodule(name)
            position = node_of.get(name)
            if position is None or position not in points:
                raise SeiError(
                    f"cannot score {name}: it is not called exactly once in the traced model"
                )
            point = points[position]
            own = point.crossing.index(graph.compute[position].name)
            captured: dict[str, torch.Tensor] = {}

            def keep_input(module, inputs, output, captured=captured) -> None:
                captured["x"] = inputs[0].detach()

            handle = layer.register_forward_hook(keep_input)
            try:
                with torch.no_grad():
                    crossing = graph.head(point.name)(images)
            finally:
                handle.remove()
            crossing = crossing if isinstance(crossing, tuple) else (crossing,)
            tail = graph.tail(point.name)
            filters = layer.weight.shape[0]
            x_in = captured["x"].repeat(filters, *([1] * (captured["x"].ndim - 1)))
            reps = [
                c.repeat(filters, *([1] * (c.ndim - 1))) if isinstance(c, torch.Tensor) else c
                for c in crossing
            ]
            y = reps[own]
            bias = layer.bias.detach() if layer.bias is not None else torch.zeros(filters)
            shape = [1, filters] + [1] * (y.ndim - 2)
            owner = torch.arange(filters).repeat_interleave(batch)  # the filter each copy walks
            mask = (
                F.one_hot(owner, filters)
                .to(y.dtype)
                .reshape(filters * batch, filters, *([1] * (y.ndim - 2)))
            )
            total = torch.zeros(filters, dtype=torch.float64)
            target = labels.repeat(filters)
            for alpha in self.alphas():
                scale = 1.0 - (1.0 - alpha) * mask  # alpha on the walked channel, 1 elsewhere
                scaled = (scale * y + (1 - scale) * bias.reshape(shape)).requires_grad_(True)
                inputs = list(reps)
                inputs[own] = scaled
                logits = tail(tuple(inputs) if len(inputs) > 1 else inputs[0])
                loss = F.cross_entropy(logits, target, reduction="sum") / batch
                (grad_y,) = torch.autograd.grad(loss, scaled)
                # each copy keeps only the gradient of the channel it walks
                grad_w = _weight_grad(layer, x_in, grad_y * mask)
                weight = layer.weight.detach()
                if self.signed:
                    total += (weight * grad_w).flatten(1).sum(1).double()
                else:
                    total += (weight * grad_w).abs().flatten(1).sum(1).double()
            out[name] = total / self.steps
        return out


#: Pruning criteria by name; ``@CRITERIA.register`` adds one.
CRITERIA: Registry[type[Criterion]] = Registry("criterion")
for _criterion in (SInGE, L1, Taylor, Random):
    CRITERIA.register(_criterion)


def make_criterion(name: str, *, steps: int = 8, seed: int = 0) -> Criterion:
    """A criterion by name; an unknown name lists the known ones."""
    cls = CRITERIA.get(name)
    if cls is SInGE:
        return SInGE(steps=steps)
    if cls is Random:
        return Random(seed=seed)
    return cls()
