"""Regenerate the data shipped with the reference models (a maintainer's tool).

    python -m splitetimpera.interpret.reference

writes, beside the built-in checkpoints (``splitetimpera/models/weights/``):

* ``<model>.accuracy.csv``: measured top-1 accuracy on the digits test split of every
  split point with fp16 and int8 (the input split too: RC with an 8-bit image), and with a
  bottleneck at every single-tensor split and every I-SPLIT or CDE candidate of the
  shipped scenarios (seed 0, 12 epochs, head and tail frozen);
* ``isplit/<key>.csv``: the I-SPLIT table of every shipped scenario that ranks with it;
* ``payloads/<key>.json``: for every shipped scenario (the torchvision ones too), the
  per-frame sizes, accuracy and codec times of each codec it names whose size depends on
  the data (entropy-coded tensors at every split point, image codecs on remote computing's
  input), so that ``sei simulate`` needs no torch for them.

All come from the functions ``sei rank`` and ``sei simulate`` use, so a user gets the same
numbers.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
from pathlib import Path

import pandas as pd

from ..accuracy import ACCURACY_COLUMNS
from ..catalog import REFERENCE_MODELS, weights_dir
from ..ranking import cde_candidates, cui_curve, isplit_candidates
from ..scenario import read_scenario
from ..store import atomic_write_text, cache_dir, write_csv
from ..tables import isplit_key, payload_key
from .tables import full_model_row, isplit_table

log = logging.getLogger(__name__)

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def _shipped_scenarios(reference_only: bool = True):
    for path in sorted(SCENARIOS.glob("*.yaml")):
        scenario = read_scenario(path)
        builtin = scenario.model.resolved_weights == "builtin"
        if not reference_only or (scenario.model.name in REFERENCE_MODELS and builtin):
            yield scenario


def payload_tables() -> None:
    """Measure and ship the payloads of every shipped scenario's data-dependent codecs."""
    from ..codecs import applicable, parse_codec
    from ..models.graph import ModelGraph
    from ..models.zoo import load_model
    from .payloads import measure_payload

    target = weights_dir() / "payloads"
    target.mkdir(parents=True, exist_ok=True)
    shipped: dict[str, dict[tuple[str, str], dict]] = {}
    for scenario in _shipped_scenarios(reference_only=False):
        m = scenario.model
        codecs = [
            c for c in scenario.splits.compression if parse_codec(c).nominal_bytes([]) is None
        ]
        if not codecs:
            continue
        loaded = load_model(m.name, weights=m.resolved_weights, input_shape=m.resolved_input)
        graph = ModelGraph(loaded.module, loaded.input_shape)
        pairs = [("input", c) for c in applicable(codecs, "RC")]
        method = scenario.splits.method
        points = method if isinstance(method, list) else [p.name for p in graph.points[1:-1]]
        pairs += [(split, c) for split in points for c in applicable(codecs, "SC")]
        records = shipped.setdefault(payload_key(scenario), {})
        for split, codec in pairs:
            if (split, codec) not in records:
                records[(split, codec)] = measure_payload(scenario, split, codec, loaded, graph)
        log.info("%s: %d payload measurements", scenario.name, len(pairs))
    for key, records in shipped.items():
        atomic_write_text(target / f"{key}.json", json.dumps(list(records.values())))


def isplit_tables() -> dict[str, set[str]]:
    """Compute and ship the I-SPLIT tables; returns each model's candidate splits."""
    target = weights_dir() / "isplit"
    target.mkdir(parents=True, exist_ok=True)
    candidates: dict[str, set[str]] = {}
    for scenario in _shipped_scenarios():
        table = isplit_table(scenario)
        key = isplit_key(scenario)
        cached = cache_dir("isplit") / f"{key}.csv"
        if cached.is_file():
            shutil.copyfile(cached, target / f"{key}.csv")
        marked = isplit_candidates(
            cui_curve(table, scenario.dataset.classes), scenario.splits.top_k
        )
        candidates.setdefault(scenario.model.name, set()).update(
            marked.loc[marked["candidate"], "split"]
        )
        log.info("%s: I-SPLIT table %s", scenario.name, key)
    return candidates


def accuracy_tables(extra: dict[str, set[str]], epochs: int = 12, seed: int = 0) -> None:
    from ..data.datasets import load_dataset
    from ..models.graph import ModelGraph
    from ..models.zoo import load_model
    from .compression import measure_accuracy

    for name in REFERENCE_MODELS:
        loaded = load_model(name)
        graph = ModelGraph(loaded.module, loaded.input_shape)
        train = load_dataset("digits", "train", loaded.input_shape)
        test = load_dataset("digits", "test", loaded.input_shape)
        points = [p for p in graph.points if p.name != "output"]
        cde = set(
            cde_candidates(pd.Series([p.payload(4) for p in points]), [p.name for p in points])
        )
        bottleneck = {p.name for p in points[1:] if p.n_tensors == 1} | cde | extra.get(name, set())
        rows = [full_model_row(loaded.module, test, seed)]
        for p in points:
            for compression in ("fp16", "int8"):
                rows.append(measure_accuracy(graph, p.name, compression, train, test, seed=seed))
            if p.name in bottleneck:
                rows.append(
                    measure_accuracy(
                        graph, p.name, "bottleneck", train, test, seed=seed, epochs=epochs
                    )
                )
            log.info("%s: %s done", name, p.name)
        table = pd.DataFrame(rows, columns=list(ACCURACY_COLUMNS))
        write_csv(table, weights_dir() / f"{name}.accuracy.csv")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-accuracy", action="store_true", help="no accuracy tables")
    parser.add_argument(
        "--only-payloads", action="store_true", help="only the payload measurements"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if not args.only_payloads:
        candidates = isplit_tables()
        if not args.skip_accuracy:
            accuracy_tables(candidates)
    payload_tables()


if __name__ == "__main__":
    main()
