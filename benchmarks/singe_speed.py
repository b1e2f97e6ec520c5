"""SInGE's scoring: speed against its first implementation, agreement, and how many
integration steps it needs.

On each reference model's whole head (every prunable layer, as ``sei prune --split
none`` scores them), with the 16 training images a pruning round sees:

* the scoring time of every criterion (L1, Taylor, random, SInGE) and of SInGE's first
  implementation (every copy runs the whole rest of the network; kept in
  ``tests/test_singe.py`` as the oracle), median of ``--repeats`` runs taken in turn;
* the agreement of SInGE with that implementation, in float32 and float64;
* the error of m integration steps against m = 64: the relative L1 error of each
  layer's relevance, and the share of the channels that the first pruning round (5 % of
  the channels) removes with m steps that it also removes with 64.

    python benchmarks/singe_speed.py [--models digits_vgg:none digits_resnet:none] [--repeats 3]
"""

from __future__ import annotations

import argparse
import copy
import math
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import machine, write  # noqa: E402
from splitetimpera.data.datasets import load_dataset  # noqa: E402
from splitetimpera.interpret.prune import _channels, _plan, head_layers  # noqa: E402
from splitetimpera.interpret.singe import SInGE, make_criterion  # noqa: E402
from splitetimpera.models.zoo import load_model  # noqa: E402
from tests.test_singe import singe_by_masked_copies  # noqa: E402

STEPS = (1, 2, 3, 4, 8, 16)


def first_implementation(model, layers, images, labels, shape, steps):
    return {n: singe_by_masked_copies(model, n, images, labels, shape, steps) for n in layers}


def timed(fn, *args) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t0, out


def agreement(new: dict, old: dict) -> dict:
    """Largest difference over layers, relative to each layer's largest relevance."""
    return {
        "max_diff_over_layer_max": max(
            float((new[n] - old[n]).abs().max() / old[n].abs().max()) for n in old
        ),
        "max_relative_diff": max(
            float(((new[n] - old[n]).abs() / old[n].abs()).nan_to_num(0.0).max()) for n in old
        ),
    }


def removed(model, shape, split, layers, scores) -> set[tuple[str, int]]:
    """The channels the first pruning round removes (5 % of the head's channels)."""
    work = copy.deepcopy(model)
    _, ignored = head_layers(work, shape, split)
    example = torch.randn(1, *shape, generator=torch.Generator().manual_seed(0))
    count = max(1, math.floor(0.05 * _channels(work, layers)))
    _, plan = _plan(work, example, layers, ignored, scores, count)
    names = {id(m): n for n, m in work.named_modules()}
    return {(names[id(layer)], i) for layer, _, idxs in plan for i in idxs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["digits_vgg:none", "digits_resnet:none"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=4, help="m of the timed SInGE runs")
    parser.add_argument("--samples", type=int, default=16)
    args = parser.parse_args()
    out = {}
    for spec in args.models:
        name, split = spec.split(":")
        loaded = load_model(name)
        model, shape = loaded.module, loaded.input_shape
        train = load_dataset("digits", "train", shape)
        idx = torch.randint(
            0, len(train), (args.samples,), generator=torch.Generator().manual_seed(0)
        )
        images, labels = train.images[idx], train.labels[idx]
        layers, _ = head_layers(model, shape, split)
        runs = {c: make_criterion(c, steps=args.steps) for c in ("l1", "taylor", "random", "singe")}
        times: dict[str, list[float]] = {c: [] for c in [*runs, "singe_first_implementation"]}
        for _ in range(args.repeats):  # in turn, so that a change of load touches all alike
            for c, criterion in runs.items():
                seconds, scores = timed(criterion.scores, model, layers, images, labels, shape)
                times[c].append(seconds)
                if c == "singe":
                    singe = scores
            seconds, first = timed(
                first_implementation, model, layers, images, labels, shape, args.steps
            )
            times["singe_first_implementation"].append(seconds)
            print(name, {c: round(v[-1], 2) for c, v in times.items()}, flush=True)
        medians = {c: statistics.median(v) for c, v in times.items()}
        double = copy.deepcopy(model).double()
        x64 = images.double()
        agree64 = agreement(
            SInGE(steps=args.steps).scores(double, layers, x64, labels, shape),
            first_implementation(double, layers, x64, labels, shape, args.steps),
        )
        reference = SInGE(steps=64).scores(model, layers, images, labels, shape)
        plan64 = removed(model, shape, split, layers, reference)
        convergence = {}
        for m in STEPS:
            scores = SInGE(steps=m).scores(model, layers, images, labels, shape)
            errors = [
                float((scores[n] - reference[n]).abs().sum() / reference[n].abs().sum())
                for n in layers
            ]
            plan = removed(model, shape, split, layers, scores)
            convergence[m] = {
                "relative_l1_error_median": statistics.median(errors),
                "relative_l1_error_max": max(errors),
                "first_round_removals_shared_with_m64": len(plan & plan64) / len(plan64),
            }
            print(name, "m =", m, convergence[m], flush=True)
        out[name] = {
            "split": split,
            "layers": layers,
            "scoring_seconds_median": medians,
            "times": times,
            "speedup_over_first_implementation": medians["singe_first_implementation"]
            / medians["singe"],
            "singe_over_taylor": medians["singe"] / medians["taylor"],
            "agreement_float32": agreement(singe, first),
            "agreement_float64": agree64,
            "error_against_m64": convergence,
        }
    write("singe_speed", {"models": out, "settings": vars(args), "machine": machine()})


if __name__ == "__main__":
    main()
