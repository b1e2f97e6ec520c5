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
walked for all filters of a layer at once (:class:`_RemovalPaths`): the network up to the
layer runs once; copy f of the batch has filter f's channel scaled. Until the first layer
that mixes channels (a convolution or a linear layer), copy f differs from the unscaled
network in channel f alone, so that stretch (BatchNorm, activations, pooling, depthwise
convolutions) runs once on a batch-sized tensor whose channel f is copy f's, and the
mixing layer adds to its unscaled output the effect of channel f's change (one grouped
convolution for all filters). From there on the network runs on (filters x batch)
images. Each filter's weight gradient comes from its own copy's gradient in one weight
gradient computation over the batch. The cost is m passes of the network after the
first mixing layer over (filters x batch) images; the values are those of running every
copy through the whole rest of the network (the tests check it against that).

Baselines under the same loop: ``l1`` (L1 norm of the filter's weights), ``taylor``
(sum |w * g| at the trained weights: SInGE's integrand at alpha = 1 alone), ``random``.
Criteria are small classes found by name in :data:`CRITERIA`.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Callable

import torch
import torch.fx as fx
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
        progress: Callable[[float, str], None] | None = None,
    ) -> dict[str, torch.Tensor]:
        """Layer name -> a 1-D tensor with one score per output channel.

        ``progress(share, layer)``, when given, is told the share of the work done.
        """

    def refined(self) -> Criterion | None:
        """The same criterion computed more finely, for a convergence check; None when
        there is nothing to refine (see :func:`splitetimpera.interpret.prune.prune_head`)."""
        return None


class L1(Criterion):
    """Magnitude: the L1 norm of each filter's weights."""

    name = "l1"

    def scores(self, model, layers, images, labels, input_shape, progress=None):
        return {n: model.get_submodule(n).weight.detach().abs().flatten(1).sum(1) for n in layers}


class Random(Criterion):
    """Uniform random scores (a seeded baseline)."""

    name = "random"

    def __init__(self, seed: int = 0):
        self.generator = torch.Generator().manual_seed(seed)

    def scores(self, model, layers, images, labels, input_shape, progress=None):
        return {
            n: torch.rand(model.get_submodule(n).weight.shape[0], generator=self.generator)
            for n in layers
        }


class Taylor(Criterion):
    """First-order Taylor: sum over a filter's weights of |w * dL/dw|, at the trained weights."""

    name = "taylor"

    def scores(self, model, layers, images, labels, input_shape, progress=None):
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


#: Modules that act on each channel alone (in eval mode): a filter's removal path changes
#: one channel of their input and so one channel of their output.
_PER_CHANNEL_MODULES = (
    nn.BatchNorm1d, nn.BatchNorm2d, nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.SiLU, nn.GELU,
    nn.Hardswish, nn.Hardsigmoid, nn.Sigmoid, nn.Tanh, nn.Mish, nn.Dropout, nn.Dropout2d,
    nn.Identity, nn.MaxPool2d, nn.AvgPool2d,
)  # fmt: skip
_PER_CHANNEL_FUNCTIONS = {F.relu, torch.relu, F.relu6, F.silu, F.gelu, F.hardswish, F.leaky_relu,
                          torch.sigmoid, torch.tanh}  # fmt: skip
_PER_CHANNEL_METHODS = {"relu", "sigmoid", "tanh"}


def _apply(graph: ModelGraph, node: fx.Node, value: torch.Tensor) -> torch.Tensor:
    """Run ``node`` with ``value`` as its first argument (its other arguments are constants)."""
    rest, kwargs = node.args[1:], node.kwargs
    if node.op == "call_module":
        return graph.gm.get_submodule(str(node.target))(value, *rest, **kwargs)
    if node.op == "call_method":
        return getattr(value, str(node.target))(*rest, **kwargs)
    return node.target(value, *rest, **kwargs)


def _only_input(node: fx.Node, value: fx.Node) -> bool:
    """``value`` is ``node``'s first argument and no other argument is a graph value."""
    others: list[fx.Node] = []
    fx.node.map_arg((node.args[1:], node.kwargs), others.append)
    return bool(node.args) and node.args[0] is value and not others


def _per_channel(graph: ModelGraph, node: fx.Node) -> bool:
    if node.op == "call_module":
        module = graph.gm.get_submodule(str(node.target))
        if isinstance(module, nn.MaxPool2d) and module.return_indices:
            return False
        if isinstance(module, nn.Conv2d):  # depthwise: output channel c reads channel c
            return module.groups == module.in_channels == module.out_channels and (
                module.padding_mode == "zeros"
            )
        return isinstance(module, _PER_CHANNEL_MODULES) and not module.training
    if node.op == "call_method":
        return node.target in _PER_CHANNEL_METHODS
    return node.op == "call_function" and node.target in _PER_CHANNEL_FUNCTIONS


def _flattens(graph: ModelGraph, node: fx.Node) -> bool:
    """``node`` flattens (B, C, ...) to (B, C * ...)."""
    if node.op == "call_module":
        module = graph.gm.get_submodule(str(node.target))
        return isinstance(module, nn.Flatten) and module.start_dim == 1 and module.end_dim == -1
    if node.op in ("call_function", "call_method") and node.target in (torch.flatten, "flatten"):
        start = node.args[1] if len(node.args) > 1 else node.kwargs.get("start_dim", 0)
        end = node.args[2] if len(node.args) > 2 else node.kwargs.get("end_dim", -1)
        return start == 1 and end == -1
    return False


def _single_user(node: fx.Node) -> fx.Node | None:
    users = list(node.users)
    return users[0] if len(users) == 1 else None


def _path_cost(graph: ModelGraph, name: str) -> float:
    """Relative cost of one step of ``name``'s paths: filters x FLOPs after the layer."""
    filters = graph.model.get_submodule(name).weight.shape[0]
    return float(filters) * (_layer_point(graph, name).tail_flops + 1)


def _layer_point(graph: ModelGraph, name: str):
    """The split point right after the (single) call of the layer ``name``."""
    calls = [
        i
        for i, n in enumerate(graph.compute)
        if n.op == "call_module" and str(n.meta.get("qualname", n.target)) == name
    ]
    point = _point_at(graph, calls[0]) if len(calls) == 1 else None
    if point is None:
        raise SeiError(f"cannot score {name}: it is not called exactly once in the traced model")
    return point


def _point_at(graph: ModelGraph, position: int):
    return next((p for p in graph.points if p.position == position), None)


class _RemovalPaths:
    """Every filter's removal path through one layer, for all filters at once (see the
    module's docstring): the values that do not change with alpha are computed here, once;
    :meth:`weight_grad` walks one alpha."""

    def __init__(self, graph: ModelGraph, name: str, images: torch.Tensor, labels: torch.Tensor):
        self.layer = graph.model.get_submodule(name)
        point = _layer_point(graph, name)
        node = graph.compute[point.position]
        captured: dict[str, torch.Tensor] = {}

        def keep_input(module, inputs, output) -> None:
            captured["x"] = inputs[0].detach()

        handle = self.layer.register_forward_hook(keep_input)
        try:
            with torch.no_grad():
                crossing = graph.head(point.name)(images)
        finally:
            handle.remove()
        crossing = crossing if isinstance(crossing, tuple) else (crossing,)
        values = dict(zip(point.crossing, crossing))
        self.x_in = captured["x"]
        self.y = values[node.name].detach()
        self.filters = self.layer.weight.shape[0]
        self.batch = images.shape[0]
        self.target = labels.repeat(self.filters)
        bias = self.layer.bias
        bias = bias.detach() if bias is not None else torch.zeros(self.filters)
        self.bias = bias.reshape([1, self.filters] + [1] * (self.y.ndim - 2))
        self.chain, mixing, last = self._walk(graph, node)
        rest = _point_at(graph, graph.compute.index(last))
        needed = set(rest.crossing) - {last.name} if rest is not None else None
        # the rest must need nothing but the walked value and what crossed at the layer
        if needed is None or not needed <= set(point.crossing) - {node.name}:
            self.chain, mixing, last, rest = [], [], node, point
        self.mixing = [graph.gm.get_submodule(str(n.target)) if n.op == "call_module" else n
                       for n in mixing]  # fmt: skip
        self.graph = graph
        self.tail = graph.tail(rest.name)
        self.inputs = [
            None if c == last.name else _repeat(values[c], self.filters) for c in rest.crossing
        ]
        with torch.no_grad():
            self.base_end = self._chain(self.y)
            self.base_out = self._mix(self.base_end) if self.mixing else None

    def _walk(self, graph: ModelGraph, node: fx.Node):
        """(per-channel nodes after the layer, the mixing nodes, the last node of both)."""
        chain, end = [], node
        while True:
            user = _single_user(end)
            if user is None or not _only_input(user, end):
                return chain, [], end
            if _per_channel(graph, user):
                chain.append(user)
                end = user
                continue
            if user.op == "call_module":
                module = graph.gm.get_submodule(str(user.target))
                convolution = isinstance(module, nn.Conv2d) and module.groups == 1
                if convolution and module.padding_mode == "zeros":
                    return chain, [user], user
                if isinstance(module, nn.Linear) and len(graph.shapes[end.name] or ()) == 1:
                    return chain, [user], user
            if _flattens(graph, user):
                linear = _single_user(user)
                if (
                    linear is not None
                    and linear.op == "call_module"
                    and _only_input(linear, user)
                    and isinstance(graph.gm.get_submodule(str(linear.target)), nn.Linear)
                ):
                    return chain, [user, linear], linear
            return chain, [], end

    def _chain(self, value: torch.Tensor) -> torch.Tensor:
        for n in self.chain:
            value = _apply(self.graph, n, value)
        return value

    def _mix(self, value: torch.Tensor) -> torch.Tensor:
        """The mixing layers on the unscaled network's values."""
        for m in self.mixing:
            value = m(value) if isinstance(m, nn.Module) else _apply(self.graph, m, value)
        return value

    def _copies(self, end: torch.Tensor) -> torch.Tensor:
        """(F * B, ...) inputs of the rest: copy f has channel f of ``end``, the rest unscaled."""
        f = self.filters
        if not self.mixing:
            eye = torch.eye(f, dtype=end.dtype).reshape(f, 1, f, *([1] * (end.ndim - 2)))
            copies = self.base_end.unsqueeze(0) * (1 - eye) + end.unsqueeze(0) * eye
            return copies.reshape(f * self.batch, *end.shape[1:])
        delta = end - self.base_end
        linear = self.mixing[-1]
        if isinstance(linear, nn.Conv2d):
            out_ch, _, kh, kw = linear.weight.shape
            w = linear.weight.transpose(0, 1).reshape(f * out_ch, 1, kh, kw)
            change = F.conv2d(delta, w, None, linear.stride, linear.padding, linear.dilation, f)
            change = change.reshape(self.batch, f, out_ch, *change.shape[2:]).transpose(0, 1)
        else:  # a linear layer, after a flatten when the channels carry a map
            w = linear.weight.reshape(linear.weight.shape[0], f, -1)
            change = torch.einsum("bfp,ofp->fbo", delta.reshape(self.batch, f, -1), w)
        copies = self.base_out.unsqueeze(0) + change
        return copies.reshape(f * self.batch, *copies.shape[2:])

    def weight_grad(self, alpha: float) -> torch.Tensor:
        """dL/dW of the layer, filter f's row from copy f (alpha on its path), summed over
        the batch; L is each copy's mean cross-entropy."""
        walked = (alpha * self.y + (1 - alpha) * self.bias).requires_grad_(True)
        inputs = [self._copies(self._chain(walked)) if v is None else v for v in self.inputs]
        logits = self.tail(tuple(inputs) if len(inputs) > 1 else inputs[0])
        loss = F.cross_entropy(logits, self.target, reduction="sum") / self.batch
        (grad,) = torch.autograd.grad(loss, walked)
        return _weight_grad(self.layer, self.x_in, grad)


def _repeat(value, times: int):
    if isinstance(value, torch.Tensor):
        return value.repeat(times, *([1] * (value.ndim - 1)))
    return value


class SInGE(Criterion):
    """Integrated gradient-weight magnitude along each filter's removal path.

    Args:
        steps: m, the points on the path (midpoint rule); None: the fewest of 1, 2, 4,
            ..., 32 that a convergence check accepts (:meth:`refined` gives the next).
        signed: integrate <W_f, grad> instead of ||W_f * grad||_1 (the ablation identity).
    """

    name = "singe"
    #: The finest m a convergence check tries.
    MAX_STEPS = 32

    def __init__(self, steps: int | None = 8, signed: bool = False):
        if steps is not None and steps < 1:
            raise SeiError(f"SInGE needs at least 1 integration step, got {steps}")
        self.adaptive = steps is None
        self.steps = 1 if steps is None else steps
        self.signed = signed

    def refined(self) -> SInGE | None:
        """m doubled (only when m is not fixed)."""
        if not self.adaptive or self.steps * 2 > self.MAX_STEPS:
            return None
        finer = SInGE(self.steps * 2, self.signed)
        finer.adaptive = True
        return finer

    def alphas(self) -> list[float]:
        m = self.steps
        return [1.0 - (s - 0.5) / m for s in range(1, m + 1)]

    def scores(self, model, layers, images, labels, input_shape, progress=None):
        work = _no_inplace(model)
        graph = ModelGraph(work, input_shape)
        costs = [_path_cost(graph, name) for name in layers]
        total, done = float(sum(costs)) * self.steps, 0.0
        out: dict[str, torch.Tensor] = {}
        for name, cost in zip(layers, costs):
            paths = _RemovalPaths(graph, name, images, labels)
            weight = paths.layer.weight.detach()
            sums = torch.zeros(weight.shape[0], dtype=torch.float64)
            for alpha in self.alphas():
                grad_w = paths.weight_grad(alpha)
                product = weight * grad_w
                sums += (product if self.signed else product.abs()).flatten(1).sum(1).double()
                done += cost
                if progress is not None:
                    progress(done / total, name)
            out[name] = sums / self.steps
        return out


#: Pruning criteria by name; ``@CRITERIA.register`` adds one.
CRITERIA: Registry[type[Criterion]] = Registry("criterion")
for _criterion in (SInGE, L1, Taylor, Random):
    CRITERIA.register(_criterion)


def make_criterion(name: str, *, steps: int | None = 8, seed: int = 0) -> Criterion:
    """A criterion by name; an unknown name lists the known ones. ``steps``: SInGE's m
    (None: chosen by a convergence check)."""
    cls = CRITERIA.get(name)
    if cls is SInGE:
        return SInGE(steps=steps)
    if cls is Random:
        return Random(seed=seed)
    return cls()
