"""Entwined pruning and fine-tuning of the on-device head (SInGE's flowchart).

Repeat: score every prunable channel of the head with a criterion, remove a small share of
the least relevant ones (globally, scores normalised by their group's mean so that layers
compete fairly), fine-tune a few steps, until the head's FLOPs (or parameters) have dropped
by the target share. The last step removes only as many channels as the target needs.

Structure stays consistent through Torch-Pruning's ``DependencyGraph``: removing a
filter also removes the BatchNorm channel after it, the matching input channels of the
next layers, and every channel coupled with it (residual additions, depthwise
convolutions). The criterion is plugged in as a ``tp.importance.Importance`` that looks
up the precomputed scores.
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch_pruning as tp

from ..errors import SeiError
from ..models.graph import ModelGraph
from ..models.rng import seeded
from .singe import Criterion

__all__ = [
    "PrecomputedImportance",
    "PruneResult",
    "head_layers",
    "prune_head",
    "head_cost",
    "finetune",
]

log = logging.getLogger(__name__)

_OUT = (tp.prune_conv_out_channels, tp.prune_linear_out_channels)
#: Progress units of one pruning round (its scoring, in shares of the criterion's work).
_ROUND = 1000
#: Share of a round's removals that a finer criterion must confirm (see _converged).
AGREEMENT = 0.95


class PrecomputedImportance(tp.importance.Importance):
    """A Torch-Pruning importance that reads precomputed per-channel scores.

    A group's score for a root channel is the sum of the scores of every scored layer
    whose output channel the group removes, divided by the group's mean, so that groups
    of different layers compare.
    """

    def __init__(self, scores: dict[nn.Module, torch.Tensor]):
        self.scores = scores

    @torch.no_grad()
    def __call__(self, group) -> torch.Tensor:
        total = None
        for i, (dep, idxs) in enumerate(group):
            layer = dep.layer
            if dep.pruning_fn not in _OUT or layer not in self.scores:
                continue
            root_idxs = group[i].root_idxs
            local = self.scores[layer][list(idxs)].to(torch.float64)
            if total is None:
                total = torch.zeros(len(group[0].idxs), dtype=torch.float64)
            total.scatter_add_(0, torch.tensor(root_idxs), local)
        if total is None:
            return None
        mean = total.mean()
        return total / mean if mean > 0 else total


def head_layers(model: nn.Module, input_shape, split: str) -> tuple[list[str], list[nn.Module]]:
    """(prunable head layers, layers that must stay whole) for a split ('none': whole model).

    Prunable: convolutions and linear layers called once, in the head, except the model's
    last layer (its outputs are the classes).
    """
    graph = ModelGraph(model, input_shape)
    position = len(graph.compute) - 1 if split == "none" else graph.point(split).position
    calls: dict[str, int] = {}
    for n in graph.compute:
        if n.op == "call_module":
            q = str(n.meta.get("qualname", n.target))
            calls[q] = calls.get(q, 0) + 1
    head, tail = [], []
    last_linear = None
    for i, n in enumerate(graph.compute):
        if n.op != "call_module":
            continue
        q = str(n.meta.get("qualname", n.target))
        module = model.get_submodule(q)
        if not isinstance(module, (nn.Conv2d, nn.Linear)):
            continue
        last_linear = q
        (head if i <= position and calls[q] == 1 else tail).append(q)
    if last_linear in head:
        head.remove(last_linear)
        tail.append(last_linear)
    return head, [model.get_submodule(q) for q in tail]


def head_cost(model: nn.Module, input_shape, split: str) -> tuple[int, int]:
    """(FLOPs, parameters) of the head at ``split`` (the whole model for 'none')."""
    graph = ModelGraph(model, input_shape)
    point = graph.points[-1] if split == "none" else graph.point(split)
    return point.head_flops, point.head_params


def finetune(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    steps: int,
    generator: torch.Generator,
    lr: float = 0.01,
    batch: int = 64,
) -> None:
    """``steps`` SGD steps (momentum 0.9) on random training batches, BatchNorm in train mode.

    Everything random comes from ``generator``: the batches, and dropout, which draws from
    torch's global generator; that one is seeded from ``generator`` inside a fork, so the
    caller's global random state is left as it was.
    """
    if steps <= 0:
        return
    dropout_seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    with seeded(dropout_seed):
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
        for _ in range(steps):
            idx = torch.randint(0, len(labels), (min(batch, len(labels)),), generator=generator)
            loss = F.cross_entropy(model(images[idx]), labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        model.eval()


@dataclass
class PruneResult:
    """The pruned model and how it got there."""

    model: nn.Module
    head_flops_before: int
    head_flops_after: int
    head_params_before: int
    head_params_after: int
    steps: int
    history: list[dict] = field(default_factory=list)
    #: SInGE's integration steps m, as given or as the convergence check chose them.
    integration_steps: int | None = None
    #: The convergence check: each m tried, against 3m (share of removals in common).
    convergence: list[dict] = field(default_factory=list)

    @property
    def flops_reduction(self) -> float:
        return 1 - self.head_flops_after / self.head_flops_before if self.head_flops_before else 0.0

    @property
    def params_reduction(self) -> float:
        return (
            1 - self.head_params_after / self.head_params_before if self.head_params_before else 0.0
        )


def _channels(model: nn.Module, names: list[str]) -> int:
    return sum(model.get_submodule(n).weight.shape[0] for n in names)


def _plan(model, example, layers, ignored, scores, count):
    """The channels to remove: (root layer, pruning function, idxs) of the ``count`` lowest."""
    graph = tp.DependencyGraph().build_dependency(model, example_inputs=example)
    importance = PrecomputedImportance({model.get_submodule(n): s for n, s in scores.items()})
    names = {id(m): n for n, m in model.named_modules()}  # ties break by name, not address
    candidates = []
    for group in graph.get_all_groups(
        ignored_layers=ignored, root_module_types=[nn.Conv2d, nn.Linear]
    ):
        root = group[0].dep
        if root.pruning_fn not in _OUT:
            continue
        values = importance(group)
        if values is None:
            continue
        n = len(values)
        for idx, v in enumerate(values.tolist()):
            candidates.append((v, names[id(root.layer)], idx, root.layer, root.pruning_fn, n))
    candidates.sort(key=lambda c: (c[0], c[1], c[2]))
    chosen: dict[str, tuple] = {}
    for _score, key, idx, layer, fn, n in candidates:
        taken = chosen.setdefault(key, (layer, fn, n, []))[3]
        if len(taken) < n - 1:  # keep at least one channel in every group
            taken.append(idx)
            count -= 1
        if count <= 0:
            break
    return graph, [(layer, fn, sorted(idxs)) for layer, fn, n, idxs in chosen.values() if idxs]


def _score(model, layers, images, labels, input_shape, progress, criterion: Criterion):
    return criterion.scores(model, layers, images, labels, input_shape, progress=progress)


def _removals(model, example, layers, ignored, count, scores) -> set[tuple[str, int]]:
    """The (layer, channel) pairs a round would remove with these scores."""
    _, plan = _plan(model, example, layers, ignored, scores, count)
    names = {id(m): n for n, m in model.named_modules()}
    return {(names[id(layer)], i) for layer, _, idxs in plan for i in idxs}


def _converged(criterion: Criterion, scores, checks: list[dict], score, removals):
    """The coarsest criterion whose round a finer one confirms, and the finer scores.

    A finer criterion (SInGE with m doubled) scores the same round; when at least
    :data:`AGREEMENT` of the channels it would remove are those the coarser one would,
    the coarser is adequate (and the finer scores serve this round). Else the finer one
    is checked in turn, up to the criterion's finest.
    """
    finer = criterion.refined()
    while finer is not None:
        finer_scores = score(finer)
        coarse, fine = removals(scores), removals(finer_scores)
        shared = len(coarse & fine) / max(1, len(fine))
        checks.append({"steps": criterion.steps, "against": finer.steps, "shared": shared})
        log.info("m = %d against %d: %.0f%% of the removals in common", criterion.steps,
                 finer.steps, 100 * shared)  # fmt: skip
        if shared >= AGREEMENT:
            return criterion, finer_scores
        criterion, scores = finer, finer_scores
        finer = criterion.refined()
    return criterion, scores


def _apply(model, example, layers, ignored, scores, count):
    graph, plan = _plan(model, example, layers, ignored, scores, count)
    for layer, fn, idxs in plan:
        group = graph.get_pruning_group(layer, fn, idxs=idxs)
        if graph.check_pruning_group(group):
            group.prune()


def prune_head(
    model: nn.Module,
    input_shape: tuple[int, int, int],
    split: str,
    criterion: Criterion,
    train_images: torch.Tensor,
    train_labels: torch.Tensor,
    *,
    target_flops: float | None = 0.5,
    target_params: float | None = None,
    step: float = 0.05,
    finetune_steps: int = 20,
    relevance_samples: int = 16,
    seed: int = 0,
    milestones: list[float] | None = None,
    on_milestone: Callable[[nn.Module, float], None] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> PruneResult:
    """Prune the head at ``split`` until its FLOPs (or parameters) drop by the target share.

    Args:
        model: a trained model (a pruned copy is returned; this one is not changed).
        input_shape: (C, H, W).
        split: the split point whose head is pruned, or ``none`` for the whole model.
        criterion: how channels are scored (recomputed at every step).
        train_images, train_labels: data for relevance and fine-tuning.
        target_flops: share of the head's FLOPs to remove, in (0, 1).
        target_params: share of the head's parameters to remove instead.
        step: share of the remaining prunable channels removed per step.
        finetune_steps: SGD steps after each pruning step.
        relevance_samples: training images the criterion sees per step.
        seed: seeds the batches drawn for relevance and fine-tuning.
        milestones: intermediate shares to land on exactly on the way to the target;
            ``on_milestone(model, share)`` is called at each (and at the target).
        progress: called as ``progress(done, total, note)`` through each round: the
            bar restarts every round and fills as the criterion scores the layers (the
            bulk of a round's time with SInGE), then fine-tuning follows.
    """
    if (target_flops is None) == (target_params is None):
        raise SeiError("give exactly one of --target-flops and --target-params")
    target = target_flops if target_flops is not None else target_params
    if not 0 < target < 1:
        raise SeiError(f"the target must be in (0, 1), got {target}")
    if not 0 < step < 1:
        raise SeiError(f"--step must be in (0, 1), got {step}")
    if not list(model.parameters()):
        raise SeiError("the model has no trainable weights to prune")
    stops = sorted({m for m in (milestones or []) if 0 < m < target} | {target})
    work = copy.deepcopy(model).eval()
    for p in work.parameters():
        p.requires_grad_(True)
    generator = torch.Generator().manual_seed(seed)
    example = torch.randn(1, *input_shape, generator=torch.Generator().manual_seed(seed))
    layers, _ = head_layers(work, input_shape, split)
    if not layers:
        raise SeiError(f"the head at {split!r} has no convolution or linear layer to prune")
    flops0, params0 = head_cost(work, input_shape, split)
    which = 0 if target_flops is not None else 1
    unit = ("FLOPs", "parameters")[which]
    base = (flops0, params0)[which]
    history: list[dict] = []
    checks: list[dict] = []
    steps = 0

    def cost(m):
        return head_cost(m, input_shape, split)[which]

    def pruned(scores, ignored, count):
        out = copy.deepcopy(work)
        _apply(out, example, layers, ignored, scores, count)
        return out

    current = base
    for stop in stops:
        goal = base * (1 - stop)
        while current > goal:
            _, ignored = head_layers(work, input_shape, split)
            idx = torch.randint(
                0,
                len(train_labels),
                (min(relevance_samples, len(train_labels)),),
                generator=generator,
            )
            where = f"round {steps + 1}, {1 - current / base:.0%} of the head's {unit} removed"

            def scoring(share: float, layer: str, where=where) -> None:
                if progress is not None:
                    progress(round(share * _ROUND), _ROUND, f"{where}: scoring {layer}")

            if progress is not None:
                progress(0, _ROUND, f"{where}: scoring")
            images, labels = train_images[idx], train_labels[idx]
            scores = criterion.scores(work, layers, images, labels, input_shape, progress=scoring)
            count = max(1, math.floor(step * _channels(work, layers)))
            if steps == 0:  # the first round checks that the criterion has converged
                criterion, scores = _converged(
                    criterion, scores, checks,
                    partial(_score, work, layers, images, labels, input_shape, scoring),
                    partial(_removals, work, example, layers, ignored, count),
                )  # fmt: skip
            trial = pruned(scores, ignored, count)
            if cost(trial) < goal:  # land on the goal: remove only as many channels as needed
                lo, hi = 1, count
                while lo < hi:
                    mid = (lo + hi) // 2
                    if cost(pruned(scores, ignored, mid)) <= goal:
                        hi = mid
                    else:
                        lo = mid + 1
                trial = pruned(scores, ignored, lo)
            new = cost(trial)
            if new >= current:
                raise SeiError(
                    f"pruning stalled at {1 - current / base:.1%} of the target {target:.0%}: "
                    "every group is down to one channel"
                )
            work = trial
            current = new
            steps += 1
            if progress is not None:
                progress(_ROUND, _ROUND, f"{where}: fine-tuning {finetune_steps} steps")
            finetune(work, train_images, train_labels, finetune_steps, generator)
            record = {
                "step": steps,
                "reduction": 1 - current / base,
                "channels": _channels(work, layers),
            }
            history.append(record)
        if on_milestone is not None:
            on_milestone(work, 1 - current / base)
    flops1, params1 = head_cost(work, input_shape, split)
    return PruneResult(
        work.eval(), flops0, flops1, params0, params1, steps, history,
        getattr(criterion, "steps", None), checks,
    )  # fmt: skip
