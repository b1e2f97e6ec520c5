"""The report of an I-SPLIT ranking: log10 CUI over the layers with the candidates marked,
per-class curves on demand, and the payload on a second axis."""

from __future__ import annotations

import html

import pandas as pd
from plotly.subplots import make_subplots

from .page import captioned, figure_html, page
from .rate import rate_accuracy

__all__ = ["rank_report"]


def _figure(table: pd.DataFrame, per_class_curves: dict[str, pd.DataFrame], title: str):
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


def rank_report(result) -> str:
    """The HTML page of a :class:`~splitetimpera.pipeline.rank.RankResult`."""
    s = result.scenario
    m = s.model
    fig = _figure(
        result.table,
        result.per_class_curves,
        f"I-SPLIT: log10 CUI over the layers of {m.name} (classes: {result.classes}; "
        f"layers: {s.splits.layers}; candidates: {s.splits.candidates})",
    )
    notes = "".join(f"<p class='warn'>{html.escape(n)}</p>" for n in result.notes)
    subtitle = html.escape(
        f"{m.name}, {m.resolved_weights} weights, {int(result.table['images'].max())} held-out "
        f"images, classes {result.classes}"
    )
    sections = [f"<div class='card'>{figure_html(fig, True)}{notes}</div>"]
    measured = result.accuracy
    if measured is not None and (measured["payload_bytes"] > 0).any():
        sections += [
            "<h2>Rate and accuracy</h2>",
            captioned(
                "Bytes per frame against accuracy for every measured split and codec (RC: "
                "the input image); the dotted line joins those no other beats on both. "
                "Measured on the held-out test images, each frame through the real codec.",
                rate_accuracy(measured[measured["payload_bytes"] > 0]),
                False,
            ),
        ]
    return page(f"sei rank: {s.name}", subtitle, sections)
