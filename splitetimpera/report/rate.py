"""The rate-accuracy view (as in sc2bench, Matsubara et al.): what each split and codec sends
per frame against the accuracy it keeps, with the frontier no other pair beats on both."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .page import PALETTE, accuracy_range, accuracy_ticks

__all__ = ["rate_accuracy", "rate_frontier"]


def rate_frontier(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows no other row beats on both fewer bytes and higher accuracy, fewest bytes
    first (rows with an unknown accuracy are left out)."""
    known = rows.dropna(subset=["accuracy"]).sort_values(["payload_bytes", "accuracy"])
    keep, best = [], -np.inf
    for index, row in known.iterrows():
        if row["accuracy"] > best:
            keep.append(index)
            best = row["accuracy"]
    return known.loc[keep]


def _label(row) -> str:
    where = "RC (input)" if row["split"] == "input" else row["split"]
    return f"{where} · {row['compression']}"


def rate_accuracy(rows: pd.DataFrame, marked: str | None = None) -> go.Figure:
    """Bytes per frame (log) against accuracy, one colour per codec.

    Args:
        rows: ``split``, ``compression``, ``payload_bytes`` (mean per frame) and
            ``accuracy`` (NaN when not measured); optionally ``config`` (a name to show).
        marked: the ``config`` (or split · codec label) to mark with a star.

    Without any measured accuracy (models without trained weights) the figure shows the
    bytes per frame of each split instead, and says so on its axis.
    """
    rows = rows.copy()
    rows["label"] = rows["config"] if "config" in rows else rows.apply(_label, axis=1)
    known = rows["accuracy"].notna().any()
    fig = go.Figure()
    for k, (codec, group) in enumerate(rows.groupby("compression", sort=False)):
        y = group["accuracy"] if known else group["split"]
        fig.add_scatter(
            x=group["payload_bytes"], y=y, mode="markers", name=codec,
            marker=dict(size=11, color=PALETTE[k % len(PALETTE)], line=dict(width=1, color="#222")),
            customdata=group["label"],
            hovertemplate="%{customdata}<br>%{x:,.0f} B per frame"
            + ("<br>accuracy %{y:.2%}" if known else "") + "<extra></extra>",
        )  # fmt: skip
    if known:
        front = rate_frontier(rows)
        if len(front) > 1:
            fig.add_scatter(
                x=front["payload_bytes"], y=front["accuracy"], mode="lines", name="frontier",
                line=dict(shape="hv", dash="dot", color="#555"), hoverinfo="skip",
            )  # fmt: skip
    if marked is not None and marked in set(rows["label"]):
        row = rows[rows["label"] == marked].iloc[0]
        fig.add_scatter(
            x=[row["payload_bytes"]], y=[row["accuracy"] if known else row["split"]],
            mode="markers", name="chosen", hoverinfo="skip",
            marker=dict(symbol="star", size=20, color="rgba(0,0,0,0)", line=dict(width=2, color="#111")),
        )  # fmt: skip
    fig.update_layout(
        height=440, margin=dict(l=10, r=10, t=20, b=40), legend=dict(title="codec"),
        xaxis_title="bytes per frame (mean over the measured frames, log scale)", xaxis_type="log",
        yaxis_title="accuracy" if known else "split (accuracy not measured)",
    )  # fmt: skip
    if known:
        fig.update_yaxes(tickformat=accuracy_ticks(rows["accuracy"]),
                         range=accuracy_range(rows["accuracy"]))  # fmt: skip
    return fig
