"""``rank(scenario)``: the I-SPLIT ranking of a scenario's model and, optionally, the accuracy
of its candidates under each configured compression. Returns data; writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from ..errors import SeiError
from ..profiles import load_profile
from ..ranking import (
    best_by_class,
    cde_candidates,
    cui_curve,
    isplit_candidates,
    select_layers,
)
from ..store import records
from .simulate import isplit_for

__all__ = ["RankResult", "rank", "LAYER_COLUMNS"]

#: Columns of isplit.csv (one row per layer, forward order).
LAYER_COLUMNS = {
    "split": "split point (layer) name",
    "depth": "position in forward order",
    "kind": "conv, pool or block (the reference layer set), classifier or other",
    "cui": "cumulative importance of the layer for the scenario's classes",
    "log10_cui": "log10 of cui (the I-SPLIT curve)",
    "rank": "1 = highest CUI",
    "payload_bytes": "bytes crossing the split at fp32, batch 1",
    "n_tensors": "tensors crossing the split",
    "local_max": "local maximum of log10 CUI under the scenario's candidate rule",
    "top_k": "among the top-k by CUI (the top-k rule only)",
    "isplit_candidate": "I-SPLIT candidate (local maximum, or top-k under the top-k rule)",
    "cde_candidate": "size-based baseline candidate (payload below every earlier one)",
    "images": "images the CUI averages over",
}


@dataclass
class RankResult:
    """What ``sei rank`` found.

    Attributes:
        scenario: the resolved scenario.
        table: one row per layer (:data:`LAYER_COLUMNS`).
        candidates: I-SPLIT candidates, best first.
        cde: the size-based baseline's candidates.
        per_class: the best split of each class alone.
        per_class_curves: each class's CUI curve.
        classes: the class subset ranked for.
        accuracy: measured accuracy of the candidates, when asked for.
        notes: things a user should know (class-dependent best split, random weights).
    """

    scenario: object
    table: pd.DataFrame
    candidates: list[str]
    cde: list[str]
    per_class: pd.DataFrame
    per_class_curves: dict[str, pd.DataFrame]
    classes: object
    accuracy: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def best(self) -> str:
        return str(self.table.loc[self.table["rank"] == 1, "split"].iloc[0])

    def to_dict(self) -> dict:
        return {
            "scenario": self.scenario.name,
            "model": self.scenario.model.name,
            "classes": self.classes,
            "layer_set": self.scenario.splits.layers,
            "candidate_rule": self.scenario.splits.candidates,
            "candidates": self.candidates,
            "cde": self.cde,
            "best": self.best,
            "best_per_class": dict(
                zip(self.per_class["label"].astype(str), self.per_class["best_split"])
            ),
            "layers": records(self.table),
            "accuracy": records(self.accuracy) if self.accuracy is not None else None,
            "notes": self.notes,
        }


def _geometry(scenario, layers: set[str]) -> pd.DataFrame:
    """Payload and tensor count per split, in forward order.

    From the device's measured profile when it lists every layer (so that a cached ranking
    needs no torch), else from the traced model.
    """
    m = scenario.model
    table = load_profile(scenario.device.profile, m.profile_name).table
    if layers <= set(table.index):
        return table[["payload_fp32", "n_tensors"]]
    from ..models.graph import ModelGraph
    from ..models.zoo import load_model

    loaded = load_model(m.name, weights=m.resolved_weights, input_shape=m.resolved_input)
    points = ModelGraph(loaded.module, loaded.input_shape).points
    table = pd.DataFrame([p.as_dict() for p in points]).set_index("split")
    return table[["payload_fp32", "n_tensors"]]


def rank(
    scenario,
    *,
    with_accuracy: bool = False,
    top: int | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> RankResult:
    """Rank the scenario's split points by CUI; measure the candidates' accuracy if asked."""
    sums = isplit_for(scenario, progress=progress)
    if sums.empty:
        raise SeiError(
            f"{scenario.source}: no layer of {scenario.model.name} gave an I-SPLIT score"
        )
    m, splits = scenario.model, scenario.splits
    sums = select_layers(sums, splits.layers, scenario.source)
    geometry = _geometry(scenario, set(sums["split"]))
    curve = isplit_candidates(cui_curve(sums), splits.top_k, splits.candidates)
    curve["payload_bytes"] = geometry.loc[curve["split"], "payload_fp32"].to_numpy()
    curve["n_tensors"] = geometry.loc[curve["split"], "n_tensors"].to_numpy()
    order = [s for s in geometry.index if s != "output"]
    cde = cde_candidates(geometry.loc[order, "payload_fp32"], order)
    curve["cde_candidate"] = curve["split"].isin(cde)
    curve = curve.rename(columns={"candidate": "isplit_candidate"})[list(LAYER_COLUMNS)]
    candidates = curve.loc[curve["isplit_candidate"]].sort_values("rank")["split"].tolist()
    per_class = best_by_class(sums, splits.top_k)
    notes = []
    peak = curve.loc[curve["rank"] == 1, "split"].iloc[0]
    overall_best = candidates[0] if candidates else peak
    if not candidates:  # only the local-maxima rule can leave none: top-k keeps one
        notes.append(
            f"No candidate: log10 CUI never falls, and the local-maxima rule never picks the "
            f"last layer ({peak}); the isplit method simulates no split for this scenario."
        )
    differing = per_class[per_class["best_split"] != overall_best]
    if len(differing):
        shown = ", ".join(f"{r.label}: {r.best_split}" for r in differing.itertuples())
        notes.append(
            f"The best split depends on the classes: overall {overall_best}, but for class {shown}."
        )
    if m.resolved_weights == "none":
        notes.append(f"{m.name} has random weights: this ranking says nothing about accuracy.")
    curves = {
        str(label): cui_curve(sums, [label]) for label in sorted(sums["label"].unique(), key=str)
    }
    accuracy = None
    if with_accuracy:
        from ..interpret.tables import accuracy_table

        chosen = candidates[:top] if top else candidates
        accuracy = accuracy_table(scenario, chosen, seed=scenario.seed, progress=progress)
    return RankResult(
        scenario, curve, candidates, cde, per_class, curves, scenario.dataset.classes,
        accuracy, notes,
    )  # fmt: skip
