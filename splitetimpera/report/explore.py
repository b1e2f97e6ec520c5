"""The report of a design-space exploration: parallel coordinates, a scatter of the designs,
the Pareto-optimal ones and every design."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .page import STUDY_COLUMNS, accuracy_ticks, figure_html, page, table_html

__all__ = ["explore_report"]


def _parallel(table: pd.DataFrame, dims: list[str], percentile: float) -> go.Figure:
    ok = table[table["status"] == "ok"].reset_index(drop=True)
    axes = []
    for d in dims:
        values = list(dict.fromkeys(ok[d].astype(str)))
        codes = ok[d].astype(str).map({v: i for i, v in enumerate(values)})
        axes.append(dict(label=d, values=codes, tickvals=list(range(len(values))), ticktext=values))
    axes.append(dict(label=f"p{percentile:g} latency (ms)", values=ok["latency_qos"] * 1e3))
    if ok["accuracy"].notna().any():
        acc = ok["accuracy"].fillna(0.0)
        axes.append(dict(label="accuracy", values=acc, tickformat=accuracy_ticks(acc)))
    axes.append(dict(label="bytes/frame", values=ok["bytes_per_frame"]))
    colour = np.where(ok["pareto"], 2, np.where(ok["feasible"], 1, 0))
    fig = go.Figure(
        go.Parcoords(
            line=dict(
                color=colour,
                colorscale=[[0, "#E45756"], [0.5, "#9ecae9"], [1, "#2f7d32"]],
                cmin=0,
                cmax=2,
            ),
            dimensions=axes,
        )
    )
    fig.update_layout(
        title="Every design (green: Pareto-optimal, blue: meets the QoS, red: does not); drag on an axis to filter",
        height=520, margin=dict(l=80, r=80, t=80, b=40),
    )  # fmt: skip
    return fig


def _design_scatter(table: pd.DataFrame, dims: list[str], percentile: float) -> go.Figure:
    ok = table[table["status"] == "ok"]
    label = (
        ok[dims].astype(str).apply(lambda r: ", ".join(f"{k}={v}" for k, v in r.items()), axis=1)
    )
    known = ok["accuracy"].notna().any()
    y = ok["accuracy"] if known else ok["bytes_per_frame"]
    fig = go.Figure()
    fig.add_scatter(
        x=ok["latency_qos"] * 1e3, y=y, mode="markers", text=label,
        marker=dict(size=np.where(ok["pareto"], 14, 8), color=np.where(ok["feasible"], "#54A24B", "#E45756"),
                    symbol=np.where(ok["pareto"], "star", "circle"), line=dict(width=1, color="#333")),
        hovertemplate="%{text}<br>%{x:.3g} ms<extra></extra>",
    )  # fmt: skip
    fig.update_layout(
        title="Designs: latency against " + ("accuracy" if known else "bytes per frame") + " (stars: Pareto-optimal)",
        xaxis_title=f"p{percentile:g} latency (ms)", yaxis_title="accuracy" if known else "bytes per frame",
        xaxis_type="log", height=460, showlegend=False, margin=dict(l=10, r=10, t=60, b=40),
    )  # fmt: skip
    if known:
        fig.update_yaxes(tickformat=accuracy_ticks(y))
    return fig


def _left_out(invalid: list[dict], dims: list[str]) -> str:
    """A line saying which combinations were no valid scenario (empty when none)."""
    if not invalid:
        return ""
    first = invalid[0]
    which = ", ".join(f"{d}={first.get(d)}" for d in dims)
    return (
        f"<br>{len(invalid)} combination(s) left out as no valid scenario, e.g. "
        f"{html.escape(which)}: {html.escape(str(first.get('error', '')))}"
    )


def explore_report(spec, base, table: pd.DataFrame, invalid: list[dict] | None = None) -> str:
    """The HTML report of a design-space exploration (``invalid``: combinations left out)."""
    dims = list(spec.dimensions)
    percentile = base.qos.percentile
    ok = table[table["status"] == "ok"]
    sections = []
    n_pareto = int(table["pareto"].sum()) if "pareto" in table else 0
    n_feasible = int(ok["feasible"].sum()) if "feasible" in ok else 0
    sections.append(
        f"<div class='card verdict{'' if n_feasible else ' none'}'><b>{len(ok)} of {len(table)} designs simulated "
        f"(space: {spec.size}); {n_feasible} meet the QoS; {n_pareto} are Pareto-optimal.</b>"
        + _left_out(invalid or [], dims)
        + "</div>"
    )
    if not ok.empty:
        sections.append(
            f"<div class='card'>{figure_html(_parallel(table, dims, percentile), True)}</div>"
        )
        sections.append(
            f"<div class='card'>{figure_html(_design_scatter(table, dims, percentile), False)}</div>"
        )
    columns = [*dims, "feasible", *STUDY_COLUMNS, "status", "error"]
    columns = [c for c in columns if c in table.columns]
    labels = {"latency_qos": f"latency p{percentile:g}", "chosen": "configuration"}
    pareto = table[table["pareto"]] if "pareto" in table else table.iloc[0:0]
    sections.append("<h2>Pareto-optimal designs</h2>")
    sections.append(
        f"<div class='card'>{table_html(pareto.sort_values('latency_qos'), columns, labels)}</div>"
    )
    sections.append("<h2>All designs</h2>")
    sections.append(
        f"<div class='card'>{table_html(table, columns, labels, row_class=lambda r: 'chosen' if r.get('pareto') else ('' if r.get('feasible') else 'infeasible'))}</div>"
    )
    subtitle = html.escape(
        f"spec {spec.source or spec.name}; base scenario {spec.base}; dimensions: {', '.join(dims)}"
    )
    return page(f"sei explore: {spec.name}", subtitle, sections)
