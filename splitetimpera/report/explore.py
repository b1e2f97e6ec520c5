"""The report of a design-space exploration: parallel coordinates, a scatter of the designs,
the Pareto-optimal ones and every design."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .page import accuracy_range, accuracy_ticks, captioned, page, study_columns, table_html

__all__ = ["explore_report"]


def _parallel(table: pd.DataFrame, dims: list[str], percentile: float, cost_name: str) -> go.Figure:
    ok = table[table["status"] == "ok"].reset_index(drop=True)
    axes = []
    for d in dims:
        values = list(dict.fromkeys(ok[d].astype(str)))
        codes = ok[d].astype(str).map({v: i for i, v in enumerate(values)})
        axes.append(dict(label=d, values=codes, tickvals=list(range(len(values))), ticktext=values))
    axes.append(dict(label=f"p{percentile:g} latency (ms)", values=ok["latency_qos"] * 1e3))
    if ok["accuracy"].notna().any():
        acc = ok["accuracy"].fillna(0.0)
        axes.append(
            dict(
                label="accuracy",
                values=acc,
                tickformat=accuracy_ticks(acc),
                range=accuracy_range(acc),
            )
        )
    axes.append(dict(label="bytes/frame", values=ok["bytes_per_frame"]))
    if "energy_per_frame" in ok and ok["energy_per_frame"].notna().any():
        axes.append(dict(label="energy/frame (mJ)", values=ok["energy_per_frame"] * 1e3))
    if "cost" in ok:
        axes.append(dict(label=cost_name, values=ok["cost"]))
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
    fig.update_layout(height=520, margin=dict(l=80, r=80, t=60, b=40))
    return fig


def _design_scatter(table: pd.DataFrame, dims: list[str], percentile: float) -> go.Figure:
    ok = table[table["status"] == "ok"]
    label = (
        ok[dims].astype(str).apply(lambda r: ", ".join(f"{k}={v}" for k, v in r.items()), axis=1)
    )
    known = ok["accuracy"].notna().any()
    y = ok["accuracy"] if known else ok["bytes_per_frame"]
    lat = ok["latency_qos"] * 1e3
    error = None
    if {"latency_qos_lo", "latency_qos_hi"} <= set(ok.columns):
        error = dict(
            type="data", symmetric=False, thickness=1, width=3, color="#8a94a3",
            array=(ok["latency_qos_hi"] * 1e3 - lat).clip(lower=0),
            arrayminus=(lat - ok["latency_qos_lo"] * 1e3).clip(lower=0),
        )  # fmt: skip
    fig = go.Figure()
    fig.add_scatter(
        x=lat, y=y, mode="markers", text=label, error_x=error,
        marker=dict(size=np.where(ok["pareto"], 14, 8), color=np.where(ok["feasible"], "#54A24B", "#E45756"),
                    symbol=np.where(ok["pareto"], "star", "circle"), line=dict(width=1, color="#333")),
        hovertemplate="%{text}<br>%{x:.3g} ms<extra></extra>",
    )  # fmt: skip
    fig.update_layout(
        xaxis_title=f"p{percentile:g} latency (ms, with its 95 % interval)",
        yaxis_title="accuracy" if known else "bytes per frame",
        xaxis_type="log", height=460, showlegend=False, margin=dict(l=10, r=10, t=20, b=40),
    )  # fmt: skip
    if known:
        fig.update_yaxes(tickformat=accuracy_ticks(y), range=accuracy_range(y))
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


def explore_report(
    spec, base, table: pd.DataFrame, invalid: list[dict] | None, groups: pd.DataFrame
) -> str:
    """The HTML report of a design-space exploration (``invalid``: combinations left out;
    ``groups``: the Pareto-optimal designs with exact ties merged)."""
    dims = list(spec.dimensions)
    percentile = base.qos.percentile
    cost_name = spec.cost.name if getattr(spec, "cost", None) else "cost"
    ok = table[table["status"] == "ok"]
    n_pareto = int(table["pareto"].sum()) if "pareto" in table else 0
    n_feasible = int(ok["feasible"].sum()) if "feasible" in ok else 0
    ties = f" ({len(groups)} distinct)" if len(groups) != n_pareto else ""
    sections = [
        f"<div class='card verdict{'' if n_feasible else ' none'}'><b>{len(ok)} of {len(table)} designs simulated "
        f"(space: {spec.size}); {n_feasible} meet the QoS; {n_pareto} are Pareto-optimal{ties}.</b>"
        + _left_out(invalid or [], dims)
        + "</div>"
    ]
    if not ok.empty:
        sections.append(
            captioned(
                "Every design (green: Pareto-optimal, blue: meets the QoS, red: does not); "
                "drag along an axis to filter.",
                _parallel(table, dims, percentile, cost_name),
                True,
            )
        )
        sections.append(
            captioned(
                "Designs: latency (with its 95 % interval: overlapping intervals are not a "
                "difference) against "
                + ("accuracy" if ok["accuracy"].notna().any() else "bytes per frame")
                + "; stars are Pareto-optimal.",
                _design_scatter(table, dims, percentile),
                False,
            )
        )
    more = {"designs": "designs", "cost": cost_name}
    group_columns, labels = study_columns(groups, [*dims, "designs"], percentile, more)
    all_columns, _ = study_columns(table, dims, percentile, more)

    sections.append("<h2>Pareto-optimal designs</h2>")
    sections.append(
        "<div class='card'><p class='caption'>Designs with the same outcome are merged into one "
        "row; <i>any</i> means every alternative of that dimension gives it.</p>"
        f"{table_html(groups, group_columns, labels)}</div>"
    )
    sections.append("<h2>All designs</h2>")
    sections.append(
        f"<div class='card'>{table_html(table, all_columns, labels, row_class=lambda r: 'chosen' if r.get('pareto') else ('' if r.get('feasible') else 'infeasible'))}</div>"
    )
    subtitle = html.escape(
        f"spec {spec.source or spec.name}; base scenario {spec.base}; dimensions: {', '.join(dims)}"
    )
    return page(f"sei explore: {spec.name}", subtitle, sections)
