"""Cached I-SPLIT tables and accuracies, keyed by everything that changes them.

The key of an I-SPLIT table is (model, a hash of the weights file, dataset and its path,
samples, classes, target, input shape, method version). Tables computed for the shipped
scenarios also ship (``models/weights/isplit/``), so the main job needs no training or
ranking pass; anything else is computed on first use and kept in the cache folder.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import pandas as pd

from ..accuracy import weights_dir
from ..cache import cache_dir

__all__ = [
    "isplit_key",
    "isplit_table",
    "accuracy_key",
    "cached_rows",
    "store_rows",
    "weights_identity",
]

log = logging.getLogger(__name__)

ISPLIT_VERSION = 2  # 2: float64 on small inputs


@lru_cache(maxsize=32)
def _file_hash(path: str, mtime: float) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def weights_identity(model: str, weights: str) -> str:
    """A short identity of the weights: ``none``, or a hash of the checkpoint's bytes."""
    if weights == "none":
        return "none"
    if weights == "builtin":
        path = weights_dir() / f"{model}.pt"  # models.zoo.weights_path, without importing torch
    elif weights == "saved":
        path = Path(model)
    else:
        path = Path(weights)
    if not path.is_file():
        return f"missing:{path}"
    return _file_hash(str(path), path.stat().st_mtime)


def _classes_key(classes) -> str | list[str]:
    return "all" if classes in (None, "all") else sorted(str(c) for c in classes)


def isplit_key(scenario) -> str:
    """The cache key of a scenario's I-SPLIT table."""
    m, d = scenario.model, scenario.dataset
    text = json.dumps(
        {
            "v": ISPLIT_VERSION,
            "model": m.name,
            "weights": weights_identity(m.name, m.resolved_weights),
            "input": list(m.resolved_input),
            "dataset": d.name,
            "path": str(Path(d.path).resolve()) if d.path else None,
            "samples": d.samples,
            "classes": _classes_key(d.classes),
            "target": scenario.splits.target,
        },
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _shipped(key: str) -> Path:
    return weights_dir() / "isplit" / f"{key}.csv"


def isplit_table(scenario, progress: Callable[[int, int, str], None] | None = None) -> pd.DataFrame:
    """The scenario's I-SPLIT table: shipped, cached, or computed now (and cached)."""
    key = isplit_key(scenario)
    for path in (_shipped(key), cache_dir("isplit") / f"{key}.csv"):
        if path.is_file():
            return pd.read_csv(path, dtype={"split": str, "label": str})
    from .rank_command import compute_isplit

    table = compute_isplit(scenario, progress=progress)
    path = cache_dir("isplit") / f"{key}.csv"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    table.to_csv(tmp, index=False, float_format="%.17g")
    os.replace(tmp, path)
    return table


def accuracy_key(scenario, split: str, compression: str, seed: int, epochs: int) -> str:
    m, d = scenario.model, scenario.dataset
    text = json.dumps(
        {
            "v": 1,
            "model": m.name,
            "weights": weights_identity(m.name, m.resolved_weights),
            "input": list(m.resolved_input),
            "dataset": d.name,
            "path": str(Path(d.path).resolve()) if d.path else None,
            "classes": _classes_key(d.classes),
            "split": split,
            "compression": compression,
            "seed": seed,
            "epochs": epochs,
        },
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def cached_rows(key: str) -> dict | None:
    for path in (weights_dir() / "accuracy" / f"{key}.json", cache_dir("accuracy") / f"{key}.json"):
        if path.is_file():
            return json.loads(path.read_text())
    return None


def store_rows(key: str, row: dict) -> None:
    path = cache_dir("accuracy") / f"{key}.json"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(row))
    os.replace(tmp, path)
