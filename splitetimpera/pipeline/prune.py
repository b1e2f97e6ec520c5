"""``prune(scenario, ...)``: prune a scenario model's head (SInGE or a baseline), fine-tune,
and measure it. Returns the pruned model and its record; writes nothing
(:func:`splitetimpera.results.write_pruned` saves it)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import NotFoundError, SeiError, did_you_mean

__all__ = ["PruneResult", "prune", "default_path"]


@dataclass
class PruneResult:
    """A pruned model and what was measured of it.

    Attributes:
        module: the pruned ``torch.nn.Module``.
        base_model: the architecture it was pruned from.
        input_shape: (C, H, W).
        meta: how it was pruned (criterion, split, targets, seed, accuracies, FLOPs).
        summary: the figures ``sei prune`` prints and writes beside the model.
        test_samples: held-out images its accuracy was measured on.
    """

    module: object
    base_model: str
    input_shape: tuple[int, int, int]
    meta: dict
    summary: dict
    test_samples: int


def default_path(scenario, criterion: str, split: str, target: float) -> Path:
    """Where a pruned model is saved unless told otherwise."""
    stem = Path(scenario.model.name).stem
    name = f"{stem}-{criterion}-{split.replace('.', '_')}-{round(target * 100)}.pt"
    return scenario.results_dir / "pruned" / name


def prune(
    scenario,
    *,
    split: str,
    criterion: str = "singe",
    target_flops: float | None = None,
    target_params: float | None = None,
    finetune_steps: int = 20,
    step: float = 0.05,
    steps: int | None = None,
    samples: int = 16,
    seed: int = 0,
    progress: Callable[[int, int, str], None] | None = None,
) -> PruneResult:
    """Prune the head at ``split`` (or the whole model with ``none``) down to the target.

    ``steps``: SInGE's integration steps m; None lets the first round's convergence check
    choose (1, 2, 4, ..., 32: the fewest whose removals m doubled confirms).
    """
    from ..data.datasets import load_dataset
    from ..interpret.prune import prune_head
    from ..interpret.singe import make_criterion
    from ..models.graph import ModelGraph
    from ..models.train import evaluate
    from ..models.zoo import load_model

    if target_flops is None and target_params is None:
        target_flops = 0.5
    for flag, value in (("--target-flops", target_flops), ("--target-params", target_params)):
        if value is not None and not 0 < value < 1:
            raise SeiError(
                f"{flag}: {value} is out of range (0, 1): it is the share of the head to remove"
            )
    chosen = make_criterion(criterion, steps=steps, seed=seed)
    m = scenario.model
    loaded = load_model(m.name, weights=m.resolved_weights, input_shape=m.resolved_input)
    if not loaded.trained:
        raise SeiError(
            f"{scenario.source}: model.weights: {m.name} has no trained weights to prune "
            "(give a checkpoint, or use a reference model with 'builtin')"
        )
    if split != "none":
        names = [p.name for p in ModelGraph(loaded.module, loaded.input_shape).points]
        if split not in names or split in ("input", "output"):
            raise NotFoundError(
                f"--split: {m.name} has no inner split {split!r}{did_you_mean(split, names)} (`sei splits {m.name}` lists them; 'none' prunes the whole model)"
            )
    d = scenario.dataset
    train = load_dataset(d.name, "train", loaded.input_shape, d.path)
    test = load_dataset(d.name, "test", loaded.input_shape, d.path)
    started = time.perf_counter()
    before = evaluate(loaded.module, test.images, test.labels)
    result = prune_head(
        loaded.module, loaded.input_shape, split, chosen, train.images, train.labels,
        target_flops=target_flops, target_params=target_params, step=step,
        finetune_steps=finetune_steps, relevance_samples=samples, seed=seed, progress=progress,
    )  # fmt: skip
    after = evaluate(result.model, test.images, test.labels)
    meta = {
        "base_model": loaded.name,
        "criterion": criterion,
        "split": split,
        "target_flops": target_flops,
        "target_params": target_params,
        "steps": result.steps,
        "integration_steps": result.integration_steps if criterion == "singe" else None,
        "convergence": result.convergence,
        "finetune_steps": finetune_steps,
        "seed": seed,
        "num_classes": len(test.classes),
        "accuracy_before": before,
        "accuracy_after": after,
        "head_flops_before": result.head_flops_before,
        "head_flops_after": result.head_flops_after,
        "source": scenario.source,
        "input_shape": list(loaded.input_shape),
    }
    summary = {
        "model": loaded.name,
        "criterion": criterion,
        "split": split,
        "head_flops_before": result.head_flops_before,
        "head_flops_after": result.head_flops_after,
        "flops_reduction": result.flops_reduction,
        "head_params_before": result.head_params_before,
        "head_params_after": result.head_params_after,
        "params_reduction": result.params_reduction,
        "accuracy_before": before,
        "accuracy_after": after,
        "pruning_steps": result.steps,
        "integration_steps": result.integration_steps if criterion == "singe" else None,
        "seconds": time.perf_counter() - started,
        "input_shape": list(loaded.input_shape),
        "history": result.history,
    }
    return PruneResult(result.model, loaded.name, loaded.input_shape, meta, summary, len(test))
