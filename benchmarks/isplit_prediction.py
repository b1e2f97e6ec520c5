"""How well does I-SPLIT's CUI predict the accuracy of a split with a bottleneck?

For each reference model and every split point (or only single-tensor ones with
``--splits single``), a bottleneck autoencoder (1/64 of the activation) is trained with
the backbone frozen for each of ``--seeds`` seeds and its top-1 accuracy measured on the
held-out test digits. CUI is computed as `sei rank` does, on the validation digits.

Reported per model: Spearman's rho between each predictor and accuracy (per seed, and on
the seed-averaged accuracy with a bootstrap 95 % CI over split points), for CUI and for
two naive predictors: split depth and minus payload size.

    python benchmarks/isplit_prediction.py [--models digits_vgg digits_resnet] [--seeds 5]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import RESULTS, machine, write  # noqa: E402
from splitetimpera.data.datasets import load_dataset  # noqa: E402
from splitetimpera.interpret.compression import measure_accuracy  # noqa: E402
from splitetimpera.interpret.isplit import cui_sums  # noqa: E402
from splitetimpera.models.graph import ModelGraph  # noqa: E402
from splitetimpera.models.zoo import load_model  # noqa: E402
from splitetimpera.ranking import cui_curve  # noqa: E402


def rho(x, y) -> float:
    value = spearmanr(x, y).statistic
    return float(value) if np.isfinite(value) else float("nan")


def bootstrap(x: np.ndarray, y: np.ndarray, reps: int = 2000, seed: int = 0) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    n = len(x)
    values = []
    for _ in range(reps):
        idx = rng.integers(0, n, n)
        if len(set(idx)) > 2:
            values.append(rho(x[idx], y[idx]))
    values = np.array([v for v in values if np.isfinite(v)])
    return float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))


def study(name: str, seeds: int, epochs: int, splits: str) -> tuple[dict, pd.DataFrame]:
    loaded = load_model(name)
    shape = loaded.input_shape
    graph = ModelGraph(loaded.module, shape)
    val = load_dataset("digits", "val", shape)
    train = load_dataset("digits", "train", shape)
    test = load_dataset("digits", "test", shape)
    curve = cui_curve(cui_sums(loaded.module, val, shape)).set_index("split")
    points = [
        p for p in graph.points if p.name in curve.index and (splits == "all" or p.n_tensors == 1)
    ]
    rows = []
    started = time.perf_counter()
    for p in points:
        for seed in range(seeds):
            r = measure_accuracy(graph, p.name, "bottleneck", train, test, seed=seed, epochs=epochs)
            rows.append({"model": name, "split": p.name, "depth": p.depth, "payload_bytes": p.payload(4),
                         "cui": float(curve.loc[p.name, "cui"]), "seed": seed, "accuracy": r["accuracy"]})  # fmt: skip
        mean_acc = np.mean([r["accuracy"] for r in rows[-seeds:]])
        elapsed = time.perf_counter() - started
        print(f"  {name} {p.name}: {mean_acc:.3f}  ({elapsed:.0f} s)", flush=True)
    table = pd.DataFrame(rows)
    mean = table.groupby("split", sort=False).agg(
        depth=("depth", "first"),
        payload=("payload_bytes", "first"),
        cui=("cui", "first"),
        accuracy=("accuracy", "mean"),
    )
    predictors = {
        "cui": mean["cui"].to_numpy(),
        "depth": mean["depth"].to_numpy(float),
        "minus_payload": -mean["payload"].to_numpy(float),
    }
    acc = mean["accuracy"].to_numpy()
    out = {
        "splits": len(points),
        "seeds": seeds,
        "epochs": epochs,
        "seconds": time.perf_counter() - started,
    }
    for key, x in predictors.items():
        per_seed = [
            rho(
                x,
                table[table["seed"] == s]
                .groupby("split", sort=False)["accuracy"]
                .mean()
                .to_numpy(),
            )
            for s in range(seeds)
        ]
        lo, hi = bootstrap(x, acc)
        out[key] = {"rho_mean_accuracy": rho(x, acc), "ci95": [lo, hi], "rho_per_seed": per_seed,
                    "rho_per_seed_mean": float(np.nanmean(per_seed))}  # fmt: skip
    return out, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models", nargs="+", default=["digits_vgg", "digits_resnet", "digits_mobilenet"]
    )
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--splits", choices=["all", "single"], default="all")
    parser.add_argument("--single-for", nargs="*", default=["digits_mobilenet"],
                        help="models studied at single-tensor splits only (time)")  # fmt: skip
    args = parser.parse_args()
    # Each model's figures are written as soon as it finishes (merged with earlier runs),
    # so an interrupted run keeps what it finished.
    path = RESULTS / "isplit_prediction.json"
    results = json.loads(path.read_text())["models"] if path.exists() else {}
    csv = RESULTS / "isplit_prediction_accuracy.csv"
    for name in args.models:
        splits = "single" if name in args.single_for else args.splits
        print(f"{name} ({splits} split points, {args.seeds} seeds)", flush=True)
        results[name], table = study(name, args.seeds, args.epochs, splits)
        results[name]["split_points"] = splits
        if csv.exists():
            earlier = pd.read_csv(csv)
            table = pd.concat([earlier[earlier["model"] != name], table])
        RESULTS.mkdir(parents=True, exist_ok=True)
        table.to_csv(csv, index=False, float_format="%.6g")
        write("isplit_prediction", {"models": results, "machine": machine()})
        r = results[name]
        for key in ("cui", "depth", "minus_payload"):
            lo, hi = r[key]["ci95"]
            print(
                f"  rho({key}, accuracy) = {r[key]['rho_mean_accuracy']:+.2f}  95% CI [{lo:+.2f}, {hi:+.2f}]"
            )


if __name__ == "__main__":
    main()
