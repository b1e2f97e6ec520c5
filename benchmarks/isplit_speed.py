"""I-SPLIT speed: the one-pass implementation against the O(L^2) per-image recomputation.

Same model (VGG16 at 224x224, random weights: timing does not depend on them), same
images, same CPU, one run. The slow method is the reference code's way, used as the
exactness oracle in tests/test_isplit.py: for every image and every layer, run the head,
make its output a leaf, run the tail and differentiate. The fast one takes one batched
forward and one backward per batch with tensor hooks.

    python benchmarks/isplit_speed.py [--fast-images 32] [--slow-images 2]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import machine, write  # noqa: E402
from splitetimpera.data.datasets import ImageData  # noqa: E402
from splitetimpera.interpret.isplit import cui_sums  # noqa: E402
from splitetimpera.models.zoo import load_model  # noqa: E402
from splitetimpera.ranking import cui_curve  # noqa: E402
from tests.test_isplit import _scores_slow_by_splitting  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="vgg16")
    parser.add_argument("--fast-images", type=int, default=32)
    parser.add_argument("--slow-images", type=int, default=2)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
    loaded = load_model(args.model, weights="none")
    shape = loaded.input_shape
    gen = torch.Generator().manual_seed(0)
    images = torch.randn(args.fast_images, *shape, generator=gen)
    labels = torch.zeros(args.fast_images, dtype=torch.int64)
    data = ImageData(images, labels, ["0"], "random")

    t0 = time.perf_counter()
    sums = cui_sums(loaded.module, data, shape, batch_size=args.batch)
    fast_s = time.perf_counter() - t0
    fast_ips = args.fast_images / fast_s

    t0 = time.perf_counter()
    slow = _scores_slow_by_splitting(loaded.module, images[: args.slow_images], shape)
    slow_s = time.perf_counter() - t0
    slow_ips = args.slow_images / slow_s

    # the same numbers on the images both saw
    few = ImageData(images[: args.slow_images], labels[: args.slow_images], ["0"], "random")
    fast_few = cui_curve(cui_sums(loaded.module, few, shape)).set_index("split")["cui"]
    rel = max(abs(fast_few[k] - v.mean()) / max(abs(v.mean()), 1e-30) for k, v in slow.items())
    result = {
        "model": args.model,
        "input": list(shape),
        "layers": int(sums["split"].nunique()),
        "fast": {
            "images": args.fast_images,
            "batch": args.batch,
            "seconds": fast_s,
            "images_per_s": fast_ips,
        },
        "slow": {"images": args.slow_images, "seconds": slow_s, "images_per_s": slow_ips},
        "speedup": fast_ips / slow_ips,
        "max_relative_cui_difference": rel,
        "machine": machine(),
    }
    print(
        f"{args.model}: one pass {fast_ips:.3g} images/s, per-layer recomputation {slow_ips:.3g} images/s, "
        f"ratio {fast_ips / slow_ips:.1f}x; largest relative CUI difference {rel:.1e}"
    )
    write("isplit_speed", result)


if __name__ == "__main__":
    main()
