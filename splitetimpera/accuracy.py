"""Accuracy per (split, compression): where the tables live and how they read (no torch).

An accuracy table is a CSV with the columns of :data:`ACCURACY_COLUMNS`, one row per
(split, compression, seed). ``sei rank --accuracy`` writes one; the built-in reference
models ship theirs beside their weights. The row ``split=output, compression=none`` holds
the full model's own accuracy: a split without compression does not change the result,
so it is also the accuracy of LC, RC and every uncompressed split.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .catalog import weights_dir
from .errors import SeiError

__all__ = ["ACCURACY_COLUMNS", "AccuracyTable", "load_accuracy", "empty_table"]

ACCURACY_COLUMNS: dict[str, str] = {
    "split": "split point name ('output' with compression none: the whole model)",
    "compression": "none, fp16, int8 or bottleneck",
    "payload_bytes": "bytes sent at batch 1 with this compression",
    "accuracy": "top-1 accuracy on held-out data (fraction)",
    "samples": "held-out images the accuracy was measured on",
    "seed": "seed of the bottleneck training and data order",
    "encode_s": "median time to encode on the profiling host (s)",
    "decode_s": "median time to decode on the profiling host (s)",
}


def empty_table() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in ACCURACY_COLUMNS})


@dataclass(frozen=True)
class AccuracyTable:
    """Measured accuracies of one model's splits.

    Attributes:
        base: the full model's accuracy (NaN when unknown, e.g. random weights).
        table: the rows, averaged over seeds, indexed by (split, compression).
        source: where it was read from (for reports).
    """

    base: float
    table: pd.DataFrame
    source: str

    def lookup(self, split: str, compression: str) -> float:
        """Accuracy of a split with a compression (NaN when not measured)."""
        if compression == "none":
            return self.base
        try:
            return float(self.table.loc[(split, compression), "accuracy"])
        except KeyError:
            return math.nan

    def codec_time(self, split: str, compression: str) -> tuple[float, float]:
        """(encode, decode) seconds measured on the profiling host; zeros if unknown."""
        if compression == "none":
            return 0.0, 0.0
        try:
            row = self.table.loc[(split, compression)]
        except KeyError:
            return 0.0, 0.0
        enc = float(row.get("encode_s", 0.0))
        dec = float(row.get("decode_s", 0.0))
        return (0.0 if math.isnan(enc) else enc), (0.0 if math.isnan(dec) else dec)


def _read(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype={"split": str, "compression": str})
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SeiError(f"{path}: cannot read the accuracy table ({exc})") from None
    missing = [c for c in ("split", "compression", "accuracy") if c not in frame.columns]
    if missing:
        raise SeiError(f"{path}: the accuracy table lacks columns {', '.join(missing)}")
    return frame


def _summarise(frame: pd.DataFrame, base: float, source: str) -> AccuracyTable:
    numeric = [c for c in ("accuracy", "payload_bytes", "encode_s", "decode_s") if c in frame]
    grouped = frame.groupby(["split", "compression"], sort=False)[numeric].mean()
    full = frame[(frame["split"] == "output") & (frame["compression"] == "none")]
    if not full.empty:
        base = float(full["accuracy"].mean())
    return AccuracyTable(base=base, table=grouped, source=source)


def load_accuracy(scenario) -> AccuracyTable:
    """The accuracy table for a scenario's model and weights.

    Looks, in order, at ``model.accuracy``, the scenario's results folder
    (``accuracy.csv`` written by ``sei rank --accuracy``), and the tables shipped with the
    built-in weights. With none of them, every accuracy is unknown (NaN).
    """
    model = scenario.model
    explicit = Path(model.accuracy) if model.accuracy else None
    if explicit is not None:
        return _summarise(_read(explicit), math.nan, str(explicit))
    if model.saved:
        beside = Path(model.name).with_suffix(".accuracy.csv")
        if beside.is_file():
            return _summarise(_read(beside), math.nan, str(beside))
    produced = scenario.results_dir / "accuracy.csv"
    if produced.is_file():
        return _summarise(_read(produced), math.nan, str(produced))
    if model.resolved_weights == "builtin":
        meta_path = weights_dir() / f"{model.name}.json"
        base = math.nan
        if meta_path.is_file():
            base = float(json.loads(meta_path.read_text()).get("test_accuracy", math.nan))
        shipped = weights_dir() / f"{model.name}.accuracy.csv"
        label = f"measured with the built-in weights ({shipped.name})"
        if shipped.is_file():
            return _summarise(_read(shipped), base, label)
        return AccuracyTable(
            base=base,
            table=empty_table().set_index(["split", "compression"]),
            source=label,
        )
    return AccuracyTable(
        base=math.nan,
        table=empty_table().set_index(["split", "compression"]),
        source="none (weights without an accuracy table)",
    )
