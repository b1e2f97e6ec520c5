"""I-SPLIT tables, measured accuracy rows and payload measurements on disk: their keys,
where they are, reading them.

The key of an I-SPLIT table is (model, a hash of the weights file, dataset and its path,
samples, classes, target, input shape, method version); an accuracy row's key adds the
split, the compression, the seed and the training epochs. Tables computed for the shipped
scenarios ship beside the reference weights (``models/weights/isplit/``), so the main job
needs no ranking pass; anything else is computed by :mod:`splitetimpera.interpret.tables`
on first use and kept in the cache folder. A payload measurement (what a codec whose size
depends on the data sends, frame by frame, with the accuracy and the codec times it gives)
is keyed by the same identity and the images it was measured on. This module never
imports torch.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pandas as pd

from .catalog import weights_dir
from .store import atomic_write_text, cache_dir, cache_key, file_hash, write_csv

__all__ = [
    "ISPLIT_VERSION",
    "weights_identity",
    "data_identity",
    "isplit_key",
    "find_isplit_table",
    "store_isplit_table",
    "shipped_isplit_path",
    "accuracy_key",
    "find_accuracy_row",
    "store_accuracy_row",
    "payload_images",
    "payload_key",
    "find_payload",
    "store_payload",
]

ISPLIT_VERSION = 3  # 2: float64 on small inputs; 3: a kind column, float64 channel sums


def weights_identity(model: str, weights: str) -> str:
    """A short identity of the weights: ``none``, or a hash of the checkpoint's bytes."""
    if weights == "none":
        return "none"
    if weights == "builtin":
        path = weights_dir() / f"{model}.pt"
    elif weights == "saved":
        path = Path(model)
    else:
        path = Path(weights)
    if not path.is_file():
        return f"missing:{path}"
    return file_hash(path)


def _classes_key(classes) -> str | list[str]:
    return "all" if classes in (None, "all") else sorted(str(c) for c in classes)


def data_identity(scenario) -> dict:
    """What a table measured on: model, weights (by hash), input, dataset, classes."""
    m, d = scenario.model, scenario.dataset
    return {
        "model": m.name,
        "weights": weights_identity(m.name, m.resolved_weights),
        "input": list(m.resolved_input),
        "dataset": d.name,
        "path": str(Path(d.path).resolve()) if d.path else None,
        "classes": _classes_key(d.classes),
    }


def isplit_key(scenario) -> str:
    """The cache key of a scenario's I-SPLIT table."""
    return cache_key(
        {
            "v": ISPLIT_VERSION,
            **data_identity(scenario),
            "samples": scenario.dataset.samples,
            "target": scenario.splits.target,
        }
    )


def shipped_isplit_path(key: str) -> Path:
    """Where a shipped I-SPLIT table of ``key`` lives."""
    return weights_dir() / "isplit" / f"{key}.csv"


def _cached_isplit_path(key: str) -> Path:
    return cache_dir("isplit") / f"{key}.csv"


def find_isplit_table(scenario) -> pd.DataFrame | None:
    """The scenario's I-SPLIT table if shipped or cached, else None."""
    key = isplit_key(scenario)
    for path in (shipped_isplit_path(key), _cached_isplit_path(key)):
        if path.is_file():
            return pd.read_csv(path, dtype={"split": str, "label": str})
    return None


def store_isplit_table(scenario, table: pd.DataFrame) -> Path:
    """Keep a computed I-SPLIT table in the cache; returns its path."""
    path = _cached_isplit_path(isplit_key(scenario))
    write_csv(table, path, float_format="%.17g")
    return path


def accuracy_key(scenario, split: str, compression: str, seed: int, epochs: int) -> str:
    """The cache key of one measured accuracy row."""
    return cache_key(
        {
            "v": 1,
            **data_identity(scenario),
            "split": split,
            "compression": compression,
            "seed": seed,
            "epochs": epochs,
        }
    )


def find_accuracy_row(key: str) -> dict | None:
    """A measured accuracy row, shipped or cached, else None."""
    for path in (weights_dir() / "accuracy" / f"{key}.json", cache_dir("accuracy") / f"{key}.json"):
        if path.is_file():
            return json.loads(path.read_text())
    return None


def store_accuracy_row(key: str, row: dict) -> None:
    """Keep a measured accuracy row in the cache."""
    atomic_write_text(cache_dir("accuracy") / f"{key}.json", json.dumps(row))


def payload_images(scenario) -> str:
    """What a scenario's payloads are measured on: its dataset's held-out images, or, for a
    model without trained weights (whose accuracy means nothing), real photographs that
    ship with scikit-learn and scikit-image (:mod:`splitetimpera.data.photos`)."""
    return "photos" if scenario.model.resolved_weights == "none" else "dataset"


def payload_key(scenario) -> str:
    """The key of a scenario's payload measurements."""
    identity = data_identity(scenario)
    if payload_images(scenario) == "photos":
        identity = {**identity, "dataset": "photos", "path": None, "classes": "all"}
    return cache_key({"v": 1, "payloads": True, **identity})


def _payload_name(split: str, compression: str) -> str:
    return cache_key({"split": split, "compression": compression}, 16) + ".json"


@lru_cache(maxsize=8)
def _shipped_payloads(path: str, mtime: float) -> dict[tuple[str, str], dict]:
    return {(r["split"], r["compression"]): r for r in json.loads(Path(path).read_text())}


def find_payload(scenario, split: str, compression: str) -> dict | None:
    """A payload measurement (``sizes`` per frame in bytes, ``accuracy``, ``encode_s``,
    ``decode_s``, ``images``), shipped or cached, else None."""
    key = payload_key(scenario)
    shipped = weights_dir() / "payloads" / f"{key}.json"
    if shipped.is_file():
        found = _shipped_payloads(str(shipped), shipped.stat().st_mtime).get((split, compression))
        if found is not None:
            return found
    path = cache_dir("payloads") / key / _payload_name(split, compression)
    return json.loads(path.read_text()) if path.is_file() else None


def store_payload(scenario, record: dict) -> None:
    """Keep a payload measurement in the cache."""
    folder = cache_dir("payloads") / payload_key(scenario)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(
        folder / _payload_name(record["split"], record["compression"]), json.dumps(record)
    )
