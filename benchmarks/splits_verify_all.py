"""`sei splits --verify` on every torchvision classifier: tail(head(x)) == model(x) at
every split point, random weights, batch 2. Convolutional models at 3x64x64
(inception_v3 at 96x96), transformers at the 224x224 they require. Models verified
before the one-pass check was written (their records have no ``check`` key) ran every
generated head and tail; ``check: one-pass`` marks the others.

Resumable: models already in the result file are skipped, so the work can be spread
over several runs and machines (the file records where each model ran).

    python benchmarks/splits_verify_all.py [--workers 2] [--skip vit_h_14 ...] [--only resnet18 ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

RESULT = Path(__file__).resolve().parent / "results" / "splits_verify_all.json"
_FIXED = ("vit", "swin", "maxvit")


def verify(name: str, threads: int) -> dict:
    import torch

    from splitetimpera.models.graph import verify_splits
    from splitetimpera.models.zoo import build_architecture

    torch.set_num_threads(threads)
    shape = (
        (3, 224, 224)
        if name.startswith(_FIXED)
        else ((3, 96, 96) if name == "inception_v3" else (3, 64, 64))
    )
    started = time.time()
    where = f"{platform.node() or 'host'} ({os.cpu_count()} cores)"
    try:
        diffs = verify_splits(build_architecture(name).eval(), shape)
        return {"model": name, "input": list(shape), "splits": len(diffs), "max_abs_diff": max(diffs.values()),
                "seconds": time.time() - started, "machine": where, "check": "one-pass"}  # fmt: skip
    except Exception as exc:  # a failure is a result here, not a crash
        return {"model": name, "input": list(shape), "error": f"{type(exc).__name__}: {exc}"[:300],
                "seconds": time.time() - started, "machine": where}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip", nargs="*", default=[])
    parser.add_argument("--only", nargs="*", default=None, help="verify just these models")
    args = parser.parse_args()
    import torchvision.models as tvm
    from torchvision.models import list_models

    done = json.loads(RESULT.read_text()) if RESULT.is_file() else []
    seen = {r["model"] for r in done}
    names = list_models(module=tvm) if args.only is None else args.only
    todo = [n for n in names if n not in seen and n not in args.skip]
    print(f"{len(seen)} already verified, {len(todo)} to go", flush=True)
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        futures = [pool.submit(verify, n, args.threads) for n in todo]
        for future in as_completed(futures):
            r = future.result()
            done.append(r)
            RESULT.parent.mkdir(parents=True, exist_ok=True)
            RESULT.write_text(json.dumps(sorted(done, key=lambda x: x["model"]), indent=1) + "\n")
            print(json.dumps(r), flush=True)
    failed = [r["model"] for r in done if "error" in r or r["max_abs_diff"] > 1e-5]
    print(f"{len(done)} models verified; failures: {failed or 'none'}")


if __name__ == "__main__":
    main()
