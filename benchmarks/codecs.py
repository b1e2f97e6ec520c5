"""What each codec sends per frame, what accuracy it keeps, and what it costs, measured.

For each model, split and codec: median and p95 bytes per frame, the ratio to the raw fp32
tensor at that split (what sei sent before codecs: for remote computing, the fp32 input
tensor), the top-1 accuracy on decoded frames, and the median encode and decode times on
this host. Every frame goes through the very encoder and decoder ``sei simulate`` draws
its sizes from (:func:`splitetimpera.interpret.payloads.measure_codec`).

* digits models (trained, built-in weights): the 360 held-out digits at 3x32x32;
* torchvision models at 224x224 (no weights can be downloaded here, so random weights:
  accuracy not measured): 40 real photographs (:mod:`splitetimpera.data.photos`).

The published range to compare the JPEG sizes with: sc2bench (Matsubara et al.) reports
ResNet-50 ImageNet inputs of about 3-10 kB per image at usable JPEG qualities.

    python benchmarks/codecs.py [--models digits_vgg,resnet50]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import machine, write  # noqa: E402
from splitetimpera.codecs import parse_codec  # noqa: E402
from splitetimpera.data.datasets import load_dataset  # noqa: E402
from splitetimpera.data.photos import photographs  # noqa: E402
from splitetimpera.interpret.payloads import measure_codec  # noqa: E402
from splitetimpera.models.graph import ModelGraph  # noqa: E402
from splitetimpera.models.zoo import load_model  # noqa: E402

#: Split points measured per model (the input is always measured too).
SPLITS = {
    "digits_vgg": ["features.6", "features.13", "classifier.0"],
    "digits_resnet": ["layer1", "layer2", "layer3"],
    "digits_mobilenet": ["features.3", "features.6", "features.13"],
    "resnet50": ["layer1", "layer2", "layer3", "layer4"],
    "vgg16": ["features.16", "features.23", "features"],
    "mobilenet_v2": ["features.3", "features.6", "features.13"],
}
INPUT_CODECS = ["none", "int8", "int8+zstd", "png", "jpeg@50", "jpeg@75", "jpeg@90",
                "webp@50", "webp@75", "webp@90"]  # fmt: skip
SPLIT_CODECS = ["none", "fp16", "int8", "fp16+zstd", "int8+zstd"]


def _row(model: str, split: str, codec: str, record: dict, raw_bytes: int, images: str) -> dict:
    sizes = np.asarray(record["sizes"], dtype=float)
    median = float(np.median(sizes))
    return {
        "model": model,
        "split": split,
        "codec": codec,
        "images": images,
        "frames": len(sizes),
        "median_bytes": median,
        "p95_bytes": float(np.percentile(sizes, 95)),
        "raw_fp32_bytes": raw_bytes,
        "ratio_to_raw": median / raw_bytes,
        "accuracy": None if math.isnan(record["accuracy"]) else record["accuracy"],
        "encode_ms": record["encode_s"] * 1e3,
        "decode_ms": record["decode_s"] * 1e3,
    }


def measure(model: str) -> list[dict]:
    trained = model.startswith("digits")
    loaded = load_model(model, weights="builtin" if trained else "none")
    graph = ModelGraph(loaded.module, loaded.input_shape)
    if trained:
        data, images = load_dataset("digits", "test", loaded.input_shape), "digits test"
    else:
        data, images = photographs(tuple(loaded.input_shape)), "photographs"
    rows = []
    for split in ["input", *SPLITS[model]]:
        raw = graph.point(split).payload(4)
        for codec in INPUT_CODECS if split == "input" else SPLIT_CODECS:
            started = time.perf_counter()
            record = measure_codec(graph, split, parse_codec(codec), data, labelled=trained)
            rows.append(_row(model, split, codec, record, raw, images))
            r = rows[-1]
            acc = "not measured" if r["accuracy"] is None else f"{r['accuracy']:.2%}"
            print(
                f"{model:16s} {split:13s} {codec:10s} median {r['median_bytes']:>10,.0f} B "
                f"p95 {r['p95_bytes']:>10,.0f} B  x{r['ratio_to_raw']:.4f} of raw  {acc:>12s}  "
                f"enc {r['encode_ms']:.3f} ms dec {r['decode_ms']:.3f} ms "
                f"({time.perf_counter() - started:.1f} s)",
                flush=True,
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(SPLITS), help="comma-separated")
    args = parser.parse_args()
    rows = []
    for model in args.models.split(","):
        rows.extend(measure(model))
    jpeg = [r for r in rows if r["model"] == "resnet50" and r["codec"].startswith("jpeg")]
    write(
        "codecs",
        {
            "machine": machine(),
            "rows": rows,
            "resnet50_jpeg_median_bytes": {r["codec"]: r["median_bytes"] for r in jpeg},
            "published_range": "sc2bench: ResNet-50 ImageNet JPEG inputs ~3-10 kB per image",
        },
    )


if __name__ == "__main__":
    main()
