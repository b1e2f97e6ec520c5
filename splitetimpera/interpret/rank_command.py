"""``sei rank``: the I-SPLIT ranking of a scenario's model, its table and figure, and
optionally the accuracy of the top candidates under each configured compression."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import SeiError
from ..ranking import best_by_class, cde_candidates, cui_curve, isplit_candidates
from ..results import atomic_write_text, write_csv
from ..scenario import load_scenario

__all__ = ["compute_isplit", "run_rank", "RankResult", "LAYER_COLUMNS", "accuracy_table"]

log = logging.getLogger(__name__)

#: Columns of isplit.csv (one row per layer, forward order).
LAYER_COLUMNS = {
    "split": "split point (layer) name",
    "depth": "position in forward order",
    "cui": "cumulative importance of the layer for the scenario's classes",
    "log10_cui": "log10 of cui (the I-SPLIT curve)",
    "rank": "1 = highest CUI",
    "payload_bytes": "bytes crossing the split at fp32, batch 1",
    "n_tensors": "tensors crossing the split",
    "local_max": "interior local maximum of log10 CUI",
    "top_k": "among the top-k by CUI",
    "isplit_candidate": "I-SPLIT candidate (local maximum or top-k)",
    "cde_candidate": "size-based baseline candidate (payload below every earlier one)",
    "images": "images the CUI averages over",
}


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
    """The per-(layer, class) I-SPLIT sums for a scenario (no cache: see ``isplit_table``)."""
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


def accuracy_table(
    scenario,
    splits: list[str],
    *,
    seed: int = 0,
    epochs: int = 12,
    progress: Callable[[int, int, str], None] | None = None,
) -> pd.DataFrame:
    """Accuracy of ``splits`` under each configured compression, plus the full model.

    Bottlenecks train on the training split of the scenario's classes; accuracy is
    measured on the test split of those classes. Rows are cached.
    """
    from ..accuracy import ACCURACY_COLUMNS
    from ..models.graph import ModelGraph
    from .cache import accuracy_key, cached_rows, store_rows
    from .compression import measure_accuracy

    loaded, train = _model_and_data(scenario, "train", need_weights=True)
    from ..data.datasets import load_dataset

    d = scenario.dataset
    test = load_dataset(d.name, "test", loaded.input_shape, d.path).subset(d.classes)
    train = train.subset(d.classes)
    graph = ModelGraph(loaded.module, loaded.input_shape)
    jobs = [("output", "none")] + [
        (s, c) for s in splits for c in scenario.splits.compression if c != "none"
    ]
    rows = []
    for i, (split, compression) in enumerate(jobs):
        key = accuracy_key(scenario, split, compression, seed, epochs)
        row = cached_rows(key)
        if row is None:
            if split == "output":
                from ..models.train import evaluate

                row = {
                    "split": "output", "compression": "none", "payload_bytes": 0,
                    "accuracy": evaluate(loaded.module, test.images, test.labels),
                    "samples": len(test), "seed": seed, "encode_s": 0.0, "decode_s": 0.0,
                }  # fmt: skip
            else:
                row = measure_accuracy(
                    graph, split, compression, train, test, seed=seed, epochs=epochs
                )
            store_rows(key, row)
        rows.append(row)
        if progress is not None:
            progress(i + 1, len(jobs), f"{split} {compression}")
    return pd.DataFrame(rows, columns=list(ACCURACY_COLUMNS))


@dataclass
class RankResult:
    """What ``sei rank`` found and wrote."""

    scenario: object
    table: pd.DataFrame
    candidates: list[str]
    cde: list[str]
    per_class: pd.DataFrame
    classes: object
    folder: Path
    paths: dict[str, str]
    accuracy: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        from ..cli import records

        return {
            "scenario": self.scenario.name,
            "model": self.scenario.model.name,
            "classes": self.classes,
            "candidates": self.candidates,
            "cde": self.cde,
            "best": self.table.loc[self.table["rank"] == 1, "split"].iloc[0],
            "best_per_class": dict(
                zip(self.per_class["label"].astype(str), self.per_class["best_split"])
            ),
            "layers": records(self.table),
            "accuracy": records(self.accuracy) if self.accuracy is not None else None,
            "files": self.paths,
            "notes": self.notes,
        }

    def print(self, console) -> None:
        from rich.table import Table

        from ..units import format_fraction, format_size

        t = Table(
            title=f"I-SPLIT ranking of {self.scenario.model.name} (classes: {self.classes})",
            title_justify="left",
        )
        for col in ("rank", "split", "depth", "log10 CUI", "payload fp32", "I-SPLIT", "CDE"):
            t.add_column(col)
        for _, r in self.table.sort_values("rank").head(12).iterrows():
            t.add_row(
                str(r["rank"]), r["split"], str(r["depth"]), f"{r['log10_cui']:.3f}", format_size(r["payload_bytes"]),
                "yes" if r["isplit_candidate"] else "", "yes" if r["cde_candidate"] else "",
            )  # fmt: skip
        console.print(t)
        console.print(
            f"I-SPLIT candidates: [bold]{', '.join(self.candidates)}[/bold]; CDE: {', '.join(self.cde) or 'none'}"
        )
        for note in self.notes:
            console.print(f"[yellow]{note}[/yellow]")
        if self.accuracy is not None:
            a = Table(
                title="Accuracy at the candidates (held-out test images)", title_justify="left"
            )
            for col in ("split", "compression", "payload", "accuracy", "samples"):
                a.add_column(col)
            for _, r in self.accuracy.iterrows():
                a.add_row(
                    r["split"],
                    r["compression"],
                    format_size(r["payload_bytes"]),
                    format_fraction(r["accuracy"]),
                    str(r["samples"]),
                )
            console.print(a)
        console.print("Written: " + ", ".join(self.paths.values()))


def _figure(table: pd.DataFrame, per_class_curves: dict[str, pd.DataFrame], title: str):
    from plotly.subplots import make_subplots

    fig = make_subplots(specs=[[{"secondary_y": True}]])
    x = table["split"].tolist()
    fig.add_bar(
        x=x, y=table["payload_bytes"], name="payload (fp32 bytes)", marker_color="rgba(150,150,150,0.35)",
        hovertemplate="%{x}<br>%{y:,} B<extra>payload</extra>", secondary_y=True,
    )  # fmt: skip
    for label, curve in per_class_curves.items():
        fig.add_scatter(
            x=curve["split"], y=curve["log10_cui"], mode="lines", name=f"class {label}", visible="legendonly",
            line=dict(width=1),
        )  # fmt: skip
    fig.add_scatter(
        x=x, y=table["log10_cui"], mode="lines+markers", name="log10 CUI", line=dict(width=3, color="#4C78A8"),
        hovertemplate="%{x}<br>log10 CUI %{y:.3f}<extra></extra>",
    )  # fmt: skip
    cand = table[table["isplit_candidate"]]
    fig.add_scatter(
        x=cand["split"], y=cand["log10_cui"], mode="markers", name="I-SPLIT candidates",
        marker=dict(symbol="star", size=16, color="#E45756", line=dict(width=1, color="#333")),
    )  # fmt: skip
    cde = table[table["cde_candidate"]]
    fig.add_scatter(
        x=cde["split"], y=cde["log10_cui"], mode="markers", name="CDE (size) candidates",
        marker=dict(symbol="diamond-open", size=13, color="#54A24B", line=dict(width=2)),
    )  # fmt: skip
    fig.update_layout(
        title=title, height=560, hovermode="x unified", legend=dict(orientation="h", y=-0.35),
        margin=dict(l=10, r=10, t=60, b=10),
    )  # fmt: skip
    fig.update_xaxes(tickangle=-60, title_text="split point (forward order)")
    fig.update_yaxes(title_text="log10 CUI", secondary_y=False)
    fig.update_yaxes(title_text="payload bytes (log)", type="log", secondary_y=True, showgrid=False)
    return fig


def _geometry(scenario, layers: set[str]) -> pd.DataFrame:
    """Payload and tensor count per split, in forward order.

    From the device's measured profile when it lists every layer (so that a cached ranking
    needs no torch), else from the traced model.
    """
    from ..profiles import load_profile

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


def run_rank(
    scenario_path: Path,
    *,
    samples: int | None = None,
    classes=None,
    with_accuracy: bool = False,
    top: int | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> RankResult:
    """Rank, write ``isplit.csv`` and ``isplit.html`` (and ``accuracy.csv``) into the results folder."""
    from ..report import figure_html, page
    from .cache import isplit_table

    overrides = {}
    if samples is not None:
        overrides["dataset.samples"] = samples
    if classes is not None:
        overrides["dataset.classes"] = classes
    scenario = load_scenario(scenario_path, overrides)
    sums = isplit_table(scenario, progress=progress)
    if sums.empty:
        raise SeiError(
            f"{scenario.source}: no layer of {scenario.model.name} gave an I-SPLIT score"
        )
    m = scenario.model
    table = _geometry(scenario, set(sums["split"]))
    subset = scenario.dataset.classes
    curve = isplit_candidates(cui_curve(sums), scenario.splits.top_k)
    curve["payload_bytes"] = table.loc[curve["split"], "payload_fp32"].to_numpy()
    curve["n_tensors"] = table.loc[curve["split"], "n_tensors"].to_numpy()
    order = [s for s in table.index if s != "output"]
    cde = cde_candidates(table.loc[order, "payload_fp32"], order)
    curve["cde_candidate"] = curve["split"].isin(cde)
    curve = curve.rename(columns={"candidate": "isplit_candidate"})[list(LAYER_COLUMNS)]
    candidates = curve.loc[curve["isplit_candidate"]].sort_values("rank")["split"].tolist()
    per_class = best_by_class(sums, scenario.splits.top_k)
    notes = []
    overall_best = candidates[0] if candidates else curve["split"].iloc[0]
    differing = per_class[per_class["best_split"] != overall_best]
    if len(differing):
        shown = ", ".join(f"{r.label}: {r.best_split}" for r in differing.itertuples())
        notes.append(
            f"The best split depends on the classes: overall {overall_best}, but for class {shown}."
        )
    if m.resolved_weights == "none":
        notes.append(f"{m.name} has random weights: this ranking says nothing about accuracy.")
    folder = scenario.results_dir
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"table": str(folder / "isplit.csv"), "figure": str(folder / "isplit.html")}
    write_csv(curve, folder / "isplit.csv")
    per_class_curves = {
        str(label): cui_curve(sums, [label]) for label in sorted(sums["label"].unique(), key=str)
    }
    fig = _figure(
        curve,
        per_class_curves,
        f"I-SPLIT: log10 CUI over the layers of {m.name} (classes: {subset})",
    )
    note_html = "".join(f"<p class='warn'>{n}</p>" for n in notes)
    html = page(
        f"sei rank: {scenario.name}",
        f"{m.name}, {m.resolved_weights} weights, {int(curve['images'].max())} held-out images, classes {subset}",
        [f"<div class='card'>{figure_html(fig, True)}{note_html}</div>"],
    )
    atomic_write_text(folder / "isplit.html", html)
    accuracy = None
    if with_accuracy:
        chosen = candidates[:top] if top else candidates
        accuracy = accuracy_table(scenario, chosen, seed=scenario.seed, progress=progress)
        write_csv(accuracy, folder / "accuracy.csv")
        paths["accuracy"] = str(folder / "accuracy.csv")
    meta = {
        "scenario": scenario.name,
        "model": m.name,
        "weights": m.resolved_weights,
        "classes": subset,
        "samples": scenario.dataset.samples,
        "target": scenario.splits.target,
        "top_k": scenario.splits.top_k,
        "candidates": candidates,
    }
    atomic_write_text(folder / "isplit.json", json.dumps(meta, indent=2) + "\n")
    return RankResult(
        scenario, curve, candidates, cde, per_class, subset, folder, paths, accuracy, notes
    )
