"""Accuracy per (split, compression): where the tables live and how they read (no torch).

An accuracy table is a CSV with the columns of :data:`ACCURACY_COLUMNS`, one row per
(split, compression, seed). ``sei rank --accuracy`` writes one for a scenario (with
``accuracy.json``, the record of what it measured); the built-in reference models ship
theirs beside their weights. The row ``split=output, compression=none`` holds the full
model's own accuracy: a split without compression does not change the result, so it is
also the accuracy of LC, RC and every uncompressed split.

A table ``sei rank`` wrote for the scenario's model, weights, data and classes is laid
over the shipped one: its rows replace the same (split, compression) rows, and every
other row still comes from the shipped table, so measuring two candidates never makes the
others unknown. The :attr:`AccuracyTable.source` says what was used.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .catalog import weights_dir
from .errors import SeiError
from .tables import data_identity

__all__ = ["ACCURACY_COLUMNS", "AccuracyTable", "load_accuracy", "empty_table"]

ACCURACY_COLUMNS: dict[str, str] = {
    "split": "split point name ('output' with compression none: the whole model)",
    "compression": "the codec (`sei codecs` lists them)",
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
        source: where it was read from (for the console and reports).
        notes: what a user should know about the sources.
    """

    base: float
    table: pd.DataFrame
    source: str
    #: What a user should know about the sources (a table ignored, a subset mismatch).
    notes: tuple[str, ...] = ()

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


def _rows(frame: pd.DataFrame) -> pd.DataFrame:
    numeric = [c for c in ("accuracy", "payload_bytes", "encode_s", "decode_s") if c in frame]
    return frame.groupby(["split", "compression"], sort=False)[numeric].mean()


def _full_model(frame: pd.DataFrame, default: float) -> float:
    full = frame[(frame["split"] == "output") & (frame["compression"] == "none")]
    return float(full["accuracy"].mean()) if not full.empty else default


def _empty(base: float, source: str, notes: tuple[str, ...] = ()) -> AccuracyTable:
    return AccuracyTable(base, empty_table().set_index(["split", "compression"]), source, notes)


def _from_file(path: Path, base: float, label: str) -> AccuracyTable:
    frame = _read(path)
    return AccuracyTable(_full_model(frame, base), _rows(frame), label)


def _underlying(scenario) -> AccuracyTable:
    """The table that ships with the model (or sits beside a saved one), if any."""
    model = scenario.model
    if model.saved:
        beside = Path(model.name).with_suffix(".accuracy.csv")
        if beside.is_file():
            return _from_file(beside, math.nan, str(beside))
        return _empty(math.nan, "none (a saved model without its accuracy table)")
    if model.resolved_weights != "builtin":
        return _empty(math.nan, "none (weights without an accuracy table)")
    meta_path = weights_dir() / f"{model.name}.json"
    base = math.nan
    if meta_path.is_file():
        base = float(json.loads(meta_path.read_text()).get("test_accuracy", math.nan))
    shipped = weights_dir() / f"{model.name}.accuracy.csv"
    label = f"shipped {shipped.name} (built-in weights, all classes)"
    notes: tuple[str, ...] = ()
    if scenario.dataset.classes != "all":
        notes = (
            f"the shipped accuracies are for all classes, not this scenario's "
            f"{scenario.dataset.classes}; `sei rank --accuracy` measures them for the subset",
        )
    if not shipped.is_file():
        return _empty(base, label, notes)
    table = _from_file(shipped, base, label)
    return AccuracyTable(table.base, table.table, label, notes)


def _ranked(scenario) -> tuple[pd.DataFrame | None, str]:
    """The table ``sei rank --accuracy`` wrote for this scenario, or None and why not."""
    path = scenario.results_dir / "accuracy.csv"
    if not path.is_file():
        return None, ""
    record = path.with_suffix(".json")
    if not record.is_file():
        return None, (
            f"{path} ignored: no record of what it measured beside it (written by an older "
            "sei; run `sei rank --accuracy` again)"
        )
    try:
        measured = json.loads(record.read_text()).get("identity")
    except json.JSONDecodeError:
        measured = None
    if measured != data_identity(scenario):
        return None, (
            f"{path} ignored: measured for another model, weights, data or class subset "
            "than this scenario's"
        )
    return _read(path), ""


def load_accuracy(scenario) -> AccuracyTable:
    """The accuracy table for a scenario's model, weights and classes.

    ``model.accuracy`` (a path) is used alone when given. Otherwise the table that ships
    with the model (or sits beside a saved one) is used, with the rows ``sei rank
    --accuracy`` measured for this scenario laid over it. With neither, every accuracy is
    unknown (NaN).
    """
    explicit = scenario.model.accuracy
    if explicit:
        return _from_file(Path(explicit), math.nan, str(explicit))
    under = _underlying(scenario)
    ranked, why_not = _ranked(scenario)
    notes = under.notes + ((why_not,) if why_not else ())
    if ranked is None:
        return AccuracyTable(under.base, under.table, under.source, notes)
    rows = _rows(ranked)
    merged = pd.concat([rows, under.table[~under.table.index.isin(rows.index)]])
    path = scenario.results_dir / "accuracy.csv"
    source = f"{path} (sei rank, {len(rows)} rows) over {under.source}"
    subset_note = tuple(n for n in notes if not n.startswith("the shipped accuracies"))
    return AccuracyTable(_full_model(ranked, under.base), merged, source, subset_note)
