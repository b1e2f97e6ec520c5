"""The torch side of the tables: computing a scenario's I-SPLIT table and accuracy rows.

:func:`isplit_table` returns the shipped or cached table (:mod:`splitetimpera.tables`
finds it without torch) or computes it now and caches it. :func:`accuracy_table`
measures each split under each configured codec (cached row by row).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import pandas as pd

from ..accuracy import ACCURACY_COLUMNS
from ..codecs import parse_codec
from ..errors import SeiError
from ..tables import (
    accuracy_key,
    find_accuracy_row,
    find_isplit_table,
    find_payload,
    store_accuracy_row,
    store_isplit_table,
    store_payload,
)

__all__ = ["compute_isplit", "isplit_table", "accuracy_table", "full_model_row"]

log = logging.getLogger(__name__)


def _model_and_data(scenario, split: str, need_weights: bool):
    from ..data.datasets import load_dataset
    from ..models.zoo import load_model

    m, d = scenario.model, scenario.dataset
    loaded = load_model(m.name, weights=m.resolved_weights, input_shape=m.resolved_input)
    if need_weights and not loaded.trained:
        raise SeiError(
            f"{scenario.source}: model.weights: accuracy needs trained weights, but {m.name} "
            "has none; give a checkpoint path (or use a reference model with 'builtin')"
        )
    data = load_dataset(d.name, split, loaded.input_shape, d.path)
    return loaded, data


def compute_isplit(
    scenario, progress: Callable[[int, int, str], None] | None = None
) -> pd.DataFrame:
    """The per-(layer, class) I-SPLIT sums for a scenario (no cache: see :func:`isplit_table`)."""
    from .isplit import cui_sums

    loaded, val = _model_and_data(scenario, "val", need_weights=False)
    if not loaded.trained:
        log.warning(
            "%s has random weights: its I-SPLIT ranking says nothing about accuracy", loaded.name
        )
    d = scenario.dataset
    images = val.subset(d.classes, d.samples, seed=scenario.seed)
    if len(images) == 0:
        raise SeiError(
            f"{scenario.source}: dataset.classes: no held-out image of classes {d.classes}"
        )
    return cui_sums(
        loaded.module, images, loaded.input_shape, target=scenario.splits.target, progress=progress
    )


def isplit_table(scenario, progress: Callable[[int, int, str], None] | None = None) -> pd.DataFrame:
    """The scenario's I-SPLIT table: shipped, cached, or computed now (and cached)."""
    found = find_isplit_table(scenario)
    if found is not None:
        return found
    table = compute_isplit(scenario, progress=progress)
    store_isplit_table(scenario, table)
    return table


def full_model_row(module, test, seed: int) -> dict:
    """The accuracy row of the whole model (split ``output``, no compression)."""
    from ..models.train import evaluate

    return {
        "split": "output", "compression": "none", "payload_bytes": 0,
        "accuracy": evaluate(module, test.images, test.labels),
        "samples": len(test), "seed": seed, "encode_s": 0.0, "decode_s": 0.0,
    }  # fmt: skip


def _accuracy_jobs(scenario, splits: list[str]) -> list[tuple[str, str]]:
    """(split, codec) of every row to measure: the full model, remote computing's input under
    each codec that applies to it, and each split under each split codec (``none`` at a
    split is the full model's accuracy, so it is not measured again)."""
    from ..codecs import applicable

    codecs = scenario.splits.compression
    jobs = [("output", "none")]
    if "RC" in scenario.modes:
        jobs += [("input", c) for c in applicable(codecs, "RC") if c != "none"]
    jobs += [(s, c) for s in splits for c in applicable(codecs, "SC") if c != "none"]
    return jobs


def accuracy_table(
    scenario,
    splits: list[str],
    *,
    seed: int = 0,
    epochs: int = 12,
    progress: Callable[[int, int, str], None] | None = None,
) -> pd.DataFrame:
    """Accuracy of ``splits`` under each configured codec (and of remote computing's input
    under its codecs), plus the full model.

    Bottlenecks train on the training split of the scenario's classes; everything is
    measured on the test split of those classes, each frame through the real codec. Rows
    are cached; so are the per-frame sizes (:mod:`splitetimpera.tables`), which ``sei
    simulate`` then draws from.
    """
    from ..data.datasets import load_dataset
    from ..models.graph import ModelGraph
    from .compression import measure_accuracy
    from .payloads import accuracy_row, measure_codec

    loaded, train = _model_and_data(scenario, "train", need_weights=True)
    d = scenario.dataset
    test = load_dataset(d.name, "test", loaded.input_shape, d.path).subset(d.classes)
    train = train.subset(d.classes)
    graph = ModelGraph(loaded.module, loaded.input_shape)
    jobs = _accuracy_jobs(scenario, splits)
    rows = []
    for i, (split, compression) in enumerate(jobs):
        key = accuracy_key(scenario, split, compression, seed, epochs)
        row = find_accuracy_row(key)
        if row is None:
            if split == "output":
                row = full_model_row(loaded.module, test, seed)
            elif compression == "bottleneck":
                row = measure_accuracy(
                    graph, split, compression, train, test, seed=seed, epochs=epochs
                )
            else:
                record = find_payload(scenario, split, compression)
                if record is None:
                    record = measure_codec(graph, split, parse_codec(compression), test, True)
                    record["images"] = "held-out test images"
                    store_payload(scenario, record)
                row = accuracy_row(record, seed)
            store_accuracy_row(key, row)
        rows.append(row)
        if progress is not None:
            progress(i + 1, len(jobs), f"{split} {compression}")
    return pd.DataFrame(rows, columns=list(ACCURACY_COLUMNS))
