"""Profile accuracy: does head median + tail median predict the measured whole model?

Measures, in this run and on this machine, the profile of each model (head, tail and the
whole model timed in turn for every split) and reports the share of splits whose
head + tail prediction lies within +-10 % of the whole model's median (goal: >= 90 %),
with the median and worst relative error. It also lists the same figure for every
profile shipped in profiles/ (CPU and GPU), from their metadata.

    python benchmarks/profile_accuracy.py [--models digits_vgg ... ] [--repeats 10]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import machine, write  # noqa: E402
from splitetimpera.models.profile import profile_error, profile_model  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models",
        nargs="+",
        default=["digits_vgg", "digits_resnet", "digits_mobilenet", "mobilenet_v2", "resnet50"],
    )
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    measured = {}
    with tempfile.TemporaryDirectory() as folder:
        for name in args.models:
            result = profile_model(
                name, repeats=args.repeats, warmup=3, folder=Path(folder), hardware="bench"
            )
            t = result.table
            error = profile_error(t)
            measured[name] = {
                "splits": len(t),
                "within_10pct": float((error.abs() <= 0.1).mean()),
                "median_abs_error": float(error.abs().median()),
                "max_abs_error": float(error.abs().max()),
                "full_median_s": result.meta["full_median_s"],
            }
            print(f"{name}: {measured[name]['within_10pct']:.0%} of {len(t)} splits within ±10% "
                  f"(median |error| {measured[name]['median_abs_error']:.1%}, worst {measured[name]['max_abs_error']:.1%})", flush=True)  # fmt: skip
    shipped = {}
    for meta_path in sorted((ROOT / "profiles").glob("*/*.json")):
        meta = json.loads(meta_path.read_text())
        shipped[f"{meta_path.parent.name}/{meta_path.stem}"] = {
            "within_10pct": meta["within_10pct"], "splits": meta["splits"], "device": meta["device"],
            "cpu": meta.get("cpu"), "gpu": meta.get("gpu"),
        }  # fmt: skip
    shares = [v["within_10pct"] for v in measured.values()]
    write(
        "profile_accuracy",
        {
            "measured": measured,
            "median_share": float(np.median(shares)),
            "shipped": shipped,
            "machine": machine(),
        },
    )


if __name__ == "__main__":
    main()
