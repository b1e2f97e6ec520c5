"""`sei splits --verify` speed: the one-pass cut check against running every head and tail.

Same model, same random input, same process, one after the other: the one-pass check
(the default of ``verify_splits``) and the generated head and tail modules of every split
(``modules=True``, the check's earlier form). Both must report the same difference at
every split.

    python benchmarks/verify_speed.py [--models densenet121:3x64x64 resnet50:3x224x224]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import machine, write  # noqa: E402
from splitetimpera.models.graph import ModelGraph, verify_graph  # noqa: E402
from splitetimpera.models.zoo import build_architecture  # noqa: E402
from splitetimpera.scenario import parse_shape  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["densenet121:3x64x64"])
    args = parser.parse_args()
    rows = []
    for spec in args.models:
        name, shape = spec.split(":")
        graph = ModelGraph(build_architecture(name).eval(), parse_shape(shape))
        t0 = time.perf_counter()
        fast = verify_graph(graph)
        fast_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        modules = verify_graph(graph, modules=True)
        modules_s = time.perf_counter() - t0
        row = {
            "model": name,
            "input": shape,
            "splits": len(fast),
            "one_pass_s": fast_s,
            "every_head_and_tail_s": modules_s,
            "speedup": modules_s / fast_s,
            "same_differences": fast == modules,
            "max_abs_diff": max(fast.values()),
        }
        rows.append(row)
        print(row, flush=True)
    write("verify_speed", {"models": rows, "machine": machine()})


if __name__ == "__main__":
    main()
