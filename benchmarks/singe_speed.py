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

Timing goes to ``results/singe_speed.json``, agreement and convergence (which do not
depend on the machine's load) to ``results/singe_accuracy.json``; ``--only`` runs one.

    python benchmarks/singe_speed.py [--models digits_vgg:none digits_resnet:none] [--repeats 3]
        [--only timing|accuracy]
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


def setup(spec: str, samples: int):
    name, split = spec.split(":")
    loaded = load_model(name)
    model, shape = loaded.module, loaded.input_shape
    train = load_dataset("digits", "train", shape)
    gen = torch.Generator().manual_seed(0)
    idx = torch.randint(0, len(train), (samples,), generator=gen)
    layers, _ = head_layers(model, shape, split)
    return name, split, model, shape, train.images[idx], train.labels[idx], layers


def timing(spec: str, args) -> dict:
    """Median scoring seconds of every criterion and of the first implementation."""
    name, split, model, shape, images, labels, layers = setup(spec, args.samples)
    runs = {c: make_criterion(c, steps=args.steps) for c in ("l1", "taylor", "random", "singe")}
    times: dict[str, list[float]] = {c: [] for c in [*runs, "singe_first_implementation"]}
    for _ in range(args.repeats):  # in turn, so that a change of load touches all alike
        for c, criterion in runs.items():
            times[c].append(timed(criterion.scores, model, layers, images, labels, shape)[0])
        seconds, _ = timed(first_implementation, model, layers, images, labels, shape, args.steps)
        times["singe_first_implementation"].append(seconds)
        print(name, {c: round(v[-1], 2) for c, v in times.items()}, flush=True)
    medians = {c: statistics.median(v) for c, v in times.items()}
    ratios = [old / new for old, new in zip(times["singe_first_implementation"], times["singe"])]
    return {
        "split": split,
        "layers": layers,
        "scoring_seconds_median": medians,
        "times": times,
        "speedup_over_first_implementation_median": statistics.median(ratios),
        "singe_over_taylor": medians["singe"] / medians["taylor"],
    }


def accuracy(spec: str, args) -> dict:
    """Agreement with the first implementation, and the error of m steps against 64."""
    name, split, model, shape, images, labels, layers = setup(spec, args.samples)
    m = args.steps
    agree = {}
    for label, dtype in (("float32", torch.float32), ("float64", torch.float64)):
        net, x = copy.deepcopy(model).to(dtype), images.to(dtype)
        agree[label] = agreement(
            SInGE(steps=m).scores(net, layers, x, labels, shape),
            first_implementation(net, layers, x, labels, shape, m),
        )
    reference = SInGE(steps=64).scores(model, layers, images, labels, shape)
    plan64 = removed(model, shape, split, layers, reference)
    convergence = {}
    for steps in STEPS:
        scores = SInGE(steps=steps).scores(model, layers, images, labels, shape)
        errors = [
            float((scores[n] - reference[n]).abs().sum() / reference[n].abs().sum()) for n in layers
        ]
        plan = removed(model, shape, split, layers, scores)
        convergence[steps] = {
            "relative_l1_error_median": statistics.median(errors),
            "relative_l1_error_max": max(errors),
            "first_round_removals_shared_with_m64": len(plan & plan64) / len(plan64),
        }
        print(name, "m =", steps, convergence[steps], flush=True)
    return {"split": split, "layers": layers, "agreement": agree, "error_against_m64": convergence}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["digits_vgg:none", "digits_resnet:none"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=4, help="m of the timed and compared runs")
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--only", choices=("timing", "accuracy"), default=None)
    args = parser.parse_args()
    settings = {"settings": vars(args), "machine": machine()}
    for part, run in (("timing", timing), ("accuracy", accuracy)):
        if args.only in (None, part):
            results = {spec.split(":")[0]: run(spec, args) for spec in args.models}
            name = "singe_speed" if part == "timing" else "singe_accuracy"
            write(name, {"models": results, **settings})


if __name__ == "__main__":
    main()
