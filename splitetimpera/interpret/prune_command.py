"""``sei prune``: prune a scenario model's head, fine-tune, save, measure and profile it."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ..accuracy import ACCURACY_COLUMNS
from ..errors import NotFoundError, SeiError
from ..results import write_csv
from ..scenario import load_scenario

__all__ = ["run_prune", "default_path"]


def default_path(scenario, criterion: str, split: str, target: float) -> Path:
    stem = Path(scenario.model.name).stem
    name = f"{stem}-{criterion}-{split.replace('.', '_')}-{round(target * 100)}.pt"
    return scenario.results_dir / "pruned" / name


def run_prune(
    scenario_path: Path,
    *,
    split: str,
    criterion: str = "singe",
    target_flops: float | None = None,
    target_params: float | None = None,
    finetune_steps: int = 20,
    step: float = 0.05,
    steps: int = 4,
    samples: int = 16,
    seed: int = 0,
    output: Path | None = None,
    profile: bool = True,
    progress: Callable[[int, int, str], None] | None = None,
) -> dict:
    """Prune, save the pruned model (loadable by the registry), and return a summary."""
    from ..data.datasets import load_dataset
    from ..models.graph import ModelGraph
    from ..models.train import evaluate
    from ..models.zoo import load_model, save_pruned
    from .prune import prune_head
    from .singe import make_criterion

    scenario = load_scenario(scenario_path)
    if target_flops is None and target_params is None:
        target_flops = 0.5
    target = target_flops if target_flops is not None else target_params
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
            import difflib

            close = difflib.get_close_matches(split, names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise NotFoundError(
                f"--split: {m.name} has no inner split {split!r}{hint} (`sei splits {m.name}` lists them; 'none' prunes the whole model)"
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
    path = Path(output) if output else default_path(scenario, criterion, split, target)
    if path.suffix != ".pt":
        raise SeiError(f"--output: {path} must end in .pt")
    meta = {
        "base_model": loaded.name,
        "criterion": criterion,
        "split": split,
        "target_flops": target_flops,
        "target_params": target_params,
        "steps": result.steps,
        "integration_steps": steps if criterion == "singe" else None,
        "finetune_steps": finetune_steps,
        "seed": seed,
        "num_classes": len(test.classes),
        "accuracy_before": before,
        "accuracy_after": after,
        "head_flops_before": result.head_flops_before,
        "head_flops_after": result.head_flops_after,
        "source": str(scenario_path),
        "input_shape": list(loaded.input_shape),
    }
    save_pruned(result.model, loaded.name, path, loaded.input_shape, meta)
    table = pd.DataFrame(
        [
            {
                "split": "output",
                "compression": "none",
                "payload_bytes": 0,
                "accuracy": after,
                "samples": len(test),
                "seed": seed,
                "encode_s": 0.0,
                "decode_s": 0.0,
            }
        ],  # fmt: skip
        columns=list(ACCURACY_COLUMNS),
    )
    write_csv(table, path.with_suffix(".accuracy.csv"))
    summary = {
        "model": loaded.name,
        "path": str(path),
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
        "seconds": time.perf_counter() - started,
        "input_shape": list(loaded.input_shape),
        "history": result.history,
        "profile": None,
    }
    if profile:
        from ..models.profile import profile_model

        prof = profile_model(str(path), repeats=20, warmup=3, folder=Path("profiles"))
        summary["profile"] = str(prof.path)
        summary["hardware"] = prof.meta["hardware"]
    path.with_suffix(".json").write_text(json.dumps(summary, indent=2, default=float) + "\n")
    return summary
