"""Pruning criteria compared at equal FLOPs: SInGE against magnitude (L1), Taylor, random.

For each reference model, its head is pruned by the entwined loop (score, remove a small
share, fine-tune ``--entwined`` steps, repeat) with every criterion and every seed; the
loop lands exactly on 30 %, 50 % and 70 % of the head's FLOPs removed. At each level:
test accuracy right after pruning, and after a fixed extra fine-tuning budget
(``--budget`` SGD steps). Seeds are paired: the same seed draws the same relevance and
fine-tuning batches for every criterion. Reported: mean and 95 % CI over seeds per level,
the area under accuracy against FLOPs removed (0 %, levels), a Wilcoxon signed-rank test
of SInGE against each baseline over the paired (seed, level) accuracies, and the wall
time spent scoring by each criterion.

``--timing`` runs the same loop (down to 70 %, the same fine-tuning between steps) once
per criterion, and once more with SInGE's first implementation (every copy of the batch
runs the whole rest of the network; ``tests/test_singe.py`` keeps it as the oracle),
without the accuracy measurements, and writes each run's scoring and total seconds to
``results/pruning_criteria_timing.json``, leaving the accuracy results as they are.

    python benchmarks/pruning_criteria.py [--models digits_vgg:features digits_resnet:layer3] [--seeds 5]
    python benchmarks/pruning_criteria.py --from-runs   # re-summarise the recorded runs
    python benchmarks/pruning_criteria.py --timing      # scoring time per run only
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import RESULTS, machine, write  # noqa: E402
from splitetimpera.data.datasets import load_dataset  # noqa: E402
from splitetimpera.interpret.prune import finetune, prune_head  # noqa: E402
from splitetimpera.interpret.singe import Criterion, make_criterion  # noqa: E402
from splitetimpera.models.train import evaluate  # noqa: E402
from splitetimpera.models.zoo import load_model  # noqa: E402

LEVELS = (0.3, 0.5, 0.7)
CRITERIA = ("singe", "l1", "taylor", "random")


class Timed(Criterion):
    """Wraps a criterion, adding up the time its scoring takes, the finer criteria of a
    convergence check included (they share one clock)."""

    def __init__(self, inner: Criterion, clock: list[float] | None = None):
        self.inner = inner
        self.name = inner.name
        self.clock = [0.0] if clock is None else clock

    @property
    def seconds(self) -> float:
        return self.clock[0]

    @property
    def steps(self) -> int | None:  # prune_head records the m a SInGE run used
        return getattr(self.inner, "steps", None)

    def scores(self, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return self.inner.scores(*args, **kwargs)
        finally:
            self.clock[0] += time.perf_counter() - t0

    def refined(self) -> Timed | None:
        finer = self.inner.refined()
        return None if finer is None else Timed(finer, self.clock)


class FirstSInGE(Criterion):
    """SInGE as first implemented, for the timing comparison."""

    name = "singe_first_implementation"

    def __init__(self, steps: int):
        self.steps = steps

    def scores(self, model, layers, images, labels, input_shape, progress=None):
        from tests.test_singe import singe_by_masked_copies

        return {
            n: singe_by_masked_copies(model, n, images, labels, input_shape, self.steps)
            for n in layers
        }


def timing(args) -> None:
    """Scoring and total seconds of one pruning run per criterion, taken in turn."""
    train = load_dataset("digits", "train", (3, 32, 32))
    load_at_start = [round(v, 2) for v in os.getloadavg()]
    out = {}
    for spec in args.models:
        name, split = spec.split(":")
        loaded = load_model(name)
        runs = {}
        for criterion in (*CRITERIA, FirstSInGE.name):
            inner = (
                FirstSInGE(args.integration_steps)
                if criterion == FirstSInGE.name
                else make_criterion(criterion, steps=args.integration_steps, seed=0)
            )
            timed = Timed(inner)
            started = time.perf_counter()
            result = prune_head(
                loaded.module, loaded.input_shape, split, timed, train.images, train.labels,
                target_flops=LEVELS[-1], milestones=list(LEVELS[:-1]),
                finetune_steps=args.entwined, relevance_samples=args.samples, seed=0,
            )  # fmt: skip
            runs[criterion] = {
                "scoring_s": timed.seconds,
                "total_s": time.perf_counter() - started,
                "rounds": result.steps,
            }
            print(f"{name} {criterion}: {runs[criterion]}", flush=True)
        singe, first = runs["singe"]["scoring_s"], runs[FirstSInGE.name]["scoring_s"]
        out[name] = {
            "split": split,
            "runs": runs,
            "singe_speedup_over_first_implementation": first / singe,
            "singe_over_taylor": singe / runs["taylor"]["scoring_s"],
        }
    settings = {k: v for k, v in vars(args).items() if k in ("models", "entwined",
                                                               "integration_steps", "samples")}  # fmt: skip
    settings["load_average_at_start"] = load_at_start
    write("pruning_criteria_timing", {"models": out, "settings": settings, "machine": machine()})


def ci95(values) -> tuple[float, float]:
    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return (float("nan"), float("nan"))
    half = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return float(values.mean() - half), float(values.mean() + half)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models", nargs="+", default=["digits_vgg:features", "digits_resnet:layer3"]
    )
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument(
        "--entwined", type=int, default=10, help="fine-tuning steps after each pruning step"
    )
    parser.add_argument(
        "--budget", type=int, default=100, help="extra fine-tuning steps at each level"
    )
    parser.add_argument("--integration-steps", type=int, default=4)
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--from-runs", action="store_true",
                        help="summarise the runs already in results/pruning_criteria_runs.csv")  # fmt: skip
    parser.add_argument("--timing", action="store_true",
                        help="one run per criterion, scoring time only")  # fmt: skip
    args = parser.parse_args()
    if args.timing:
        timing(args)
        return
    if args.from_runs:
        table = pd.read_csv(RESULTS / "pruning_criteria_runs.csv")
        if "reached" not in table.columns:  # written before levels were recorded by milestone
            table["reached"] = table["level"]
            table["level"] = [min(LEVELS, key=lambda x: abs(x - v)) for v in table["reached"]]
        settings = {k: v for k, v in vars(args).items() if k != "from_runs"}
        settings["models"] = sorted(set(table["model"] + ":" + table["split"]))
        summarize(table, settings)
        return
    train = load_dataset("digits", "train", (3, 32, 32))
    test = load_dataset("digits", "test", (3, 32, 32))
    rows = []
    for spec in args.models:
        name, split = spec.split(":")
        loaded = load_model(name)
        base = evaluate(loaded.module, test.images, test.labels)
        for seed in range(args.seeds):
            for criterion in CRITERIA:
                timed = Timed(make_criterion(criterion, steps=args.integration_steps, seed=seed))
                started = time.perf_counter()

                def at_level(model, share, criterion=criterion, seed=seed, name=name, split=split):
                    after = evaluate(model, test.images, test.labels)
                    tuned = copy.deepcopy(model)
                    finetune(
                        tuned,
                        train.images,
                        train.labels,
                        args.budget,
                        torch.Generator().manual_seed(1000 + seed),
                    )
                    level = min(LEVELS, key=lambda x: abs(x - share))  # the milestone it landed on
                    rows.append({"model": name, "split": split, "criterion": criterion, "seed": seed, "level": level, "reached": round(share, 4),
                                 "accuracy_pruned": after, "accuracy_finetuned": evaluate(tuned, test.images, test.labels)})  # fmt: skip

                prune_head(
                    loaded.module, loaded.input_shape, split, timed, train.images, train.labels,
                    target_flops=LEVELS[-1], milestones=list(LEVELS[:-1]), on_milestone=at_level,
                    finetune_steps=args.entwined, relevance_samples=args.samples, seed=seed,
                )  # fmt: skip
                for r in rows[-len(LEVELS) :]:
                    r["scoring_s"] = timed.seconds
                    r["total_s"] = time.perf_counter() - started
                print(
                    f"{name} seed {seed} {criterion}: "
                    + ", ".join(
                        f"{r['level']:.0%} {r['accuracy_pruned']:.3f}/{r['accuracy_finetuned']:.3f}"
                        for r in rows[-len(LEVELS) :]
                    )
                    + f" (scoring {timed.seconds:.1f} s)",
                    flush=True,
                )
        for r in rows:
            r.setdefault("base_accuracy", base)
    table = pd.DataFrame(rows)
    RESULTS.mkdir(parents=True, exist_ok=True)
    table.to_csv(RESULTS / "pruning_criteria_runs.csv", index=False, float_format="%.6g")
    summarize(table, {k: v for k, v in vars(args).items() if k != "from_runs"})


def summarize(table: pd.DataFrame, settings: dict) -> None:
    """Per model: each criterion's accuracy per level, area under the curve, Wilcoxon tests."""
    summary = {}
    for (name, split), group in table.groupby(["model", "split"], sort=False):
        base = float(group["base_accuracy"].iloc[0])
        model_out = {"split": split, "base_accuracy": base, "criteria": {}, "wilcoxon_singe_vs": {}}
        for criterion, g in group.groupby("criterion", sort=False):
            per_level = {}
            for level, gl in g.groupby("level"):
                per_level[f"{level:.0%}"] = {
                    k: {"mean": float(gl[k].mean()), "ci95": ci95(gl[k])}
                    for k in ("accuracy_pruned", "accuracy_finetuned")
                }
            aucs = {}
            for k in ("accuracy_pruned", "accuracy_finetuned"):
                per_seed = []
                for _, gs in g.groupby("seed"):
                    xs = [0.0, *gs.sort_values("level")["reached"]]
                    ys = [base, *gs.sort_values("level")[k]]
                    per_seed.append(np.trapezoid(ys, xs) / xs[-1])
                aucs[k] = {"mean": float(np.mean(per_seed)), "ci95": ci95(per_seed)}
            model_out["criteria"][criterion] = {
                "levels": per_level,
                "area_under_accuracy_vs_flops_removed": aucs,
                "scoring_seconds_per_run": float(g.groupby("seed")["scoring_s"].first().mean()),
            }
        s = group[group["criterion"] == "singe"].sort_values(["seed", "level"])
        for other in CRITERIA[1:]:
            o = group[group["criterion"] == other].sort_values(["seed", "level"])
            out = {}
            for k in ("accuracy_pruned", "accuracy_finetuned"):
                diff = s[k].to_numpy() - o[k].to_numpy()
                if np.allclose(diff, 0):
                    out[k] = {"statistic": None, "p_value": None, "mean_difference": 0.0}
                else:
                    w = stats.wilcoxon(s[k].to_numpy(), o[k].to_numpy())
                    out[k] = {
                        "statistic": float(w.statistic),
                        "p_value": float(w.pvalue),
                        "mean_difference": float(diff.mean()),
                    }
            model_out["wilcoxon_singe_vs"][other] = out
        summary[name] = model_out
    write("pruning_criteria", {"models": summary, "settings": settings, "machine": machine()})


if __name__ == "__main__":
    main()
