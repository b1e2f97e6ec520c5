"""The report of a sweep: heatmaps of the chosen configuration and its latency over each
pair of swept keys, and line plots along each key."""

from __future__ import annotations

import html
import itertools
import math

import pandas as pd
import plotly.graph_objects as go

from ..qos import describe_limits
from ..units import format_fraction, format_time
from .page import PALETTE, figure_html, page, study_columns, table_html

__all__ = ["sweep_report"]

_NONE = "none feasible"


def _discrete_colorscale(n: int, colors: list[str]) -> list:
    scale = []
    for i in range(n):
        scale.append([i / n, colors[i]])
        scale.append([(i + 1) / n, colors[i]])
    return scale


def _fixed(table: pd.DataFrame, axes, keep: set[str]) -> tuple[pd.DataFrame, str]:
    """Rows where every axis not in ``keep`` is at its first value, and a note saying so."""
    out = table
    notes = []
    for a in axes:
        if a.key in keep:
            continue
        first = str(a.values[0])
        out = out[out[a.key].astype(str) == first]
        notes.append(f"{a.key} = {first}")
    return out, ("other keys at " + ", ".join(notes)) if notes else ""


def _grid(table: pd.DataFrame, ax_x, ax_y, axes):
    """(xs, ys, cell, note): ``cell(x, y)`` is the point's row there, or None."""
    sub, note = _fixed(table, axes, {ax_x.key, ax_y.key})
    by = {(str(r[ax_x.key]), str(r[ax_y.key])): r for _, r in sub.iterrows()}
    return (
        [str(v) for v in ax_x.values],
        [str(v) for v in ax_y.values],
        lambda x, y: by.get((x, y)),
        note,
    )


def _heatmap_layout(fig: go.Figure, title: str, ax_x, ax_y, rows: int) -> go.Figure:
    fig.update_layout(
        title=title, xaxis_title=ax_x.key, yaxis_title=ax_y.key, height=max(360, 70 * rows + 160),
        xaxis=dict(type="category"), yaxis=dict(type="category"), margin=dict(l=10, r=10, t=60, b=40),
    )  # fmt: skip
    return fig


def _chosen_heatmap(
    table: pd.DataFrame, ax_x, ax_y, axes, category_colors: dict[str, str]
) -> go.Figure:
    xs, ys, cell, note = _grid(table, ax_x, ax_y, axes)
    cats = list(category_colors)
    z, text, hover = [], [], []
    for y in ys:
        zrow, trow, hrow = [], [], []
        for x in xs:
            r = cell(x, y)
            if r is None or r["status"] != "ok":
                zrow.append(None)
                trow.append("" if r is None else "failed")
                hrow.append("missing" if r is None else str(r["error"]))
                continue
            name = r["chosen"] if r["feasible"] else _NONE
            zrow.append(cats.index(name))
            trow.append(name if r["feasible"] else f"none<br>(closest {r['closest']})")
            hrow.append(
                f"{name}: p-latency {format_time(r['latency_qos'])}, accuracy {format_fraction(r['accuracy'])}"
            )
        z.append(zrow)
        text.append(trow)
        hover.append(hrow)
    n = len(cats)
    fig = go.Figure(
        go.Heatmap(
            z=z, x=xs, y=ys, text=text, customdata=hover, texttemplate="%{text}",
            hovertemplate=f"{ax_x.key}=%{{x}}<br>{ax_y.key}=%{{y}}<br>%{{customdata}}<extra></extra>",
            colorscale=_discrete_colorscale(n, [category_colors[c] for c in cats]),
            zmin=-0.5, zmax=n - 0.5, xgap=2, ygap=2,
            colorbar=dict(tickvals=list(range(n)), ticktext=cats, title="chosen"),
        )
    )  # fmt: skip
    title = f"Chosen configuration over {ax_x.key} and {ax_y.key}" + (f" ({note})" if note else "")
    return _heatmap_layout(fig, title, ax_x, ax_y, len(ys))


def _latency_heatmap(table: pd.DataFrame, ax_x, ax_y, axes, percentile: float) -> go.Figure:
    xs, ys, cell, note = _grid(table, ax_x, ax_y, axes)
    z, text = [], []
    for y in ys:
        zrow, trow = [], []
        for x in xs:
            r = cell(x, y)
            value = float(r["latency_qos"]) * 1e3 if r is not None and r["status"] == "ok" else None
            zrow.append(value)
            trow.append(f"{value:.3g} ms" if value is not None and not math.isnan(value) else "")
        z.append(zrow)
        text.append(trow)
    fig = go.Figure(
        go.Heatmap(
            z=z, x=xs, y=ys, text=text, texttemplate="%{text}", colorscale="Viridis", xgap=2, ygap=2,
            colorbar=dict(title="ms"), hovertemplate=f"{ax_x.key}=%{{x}}<br>{ax_y.key}=%{{y}}<br>%{{z:.3g}} ms<extra></extra>",
        )
    )  # fmt: skip
    title = f"p{percentile:g} latency of the chosen (or closest) configuration" + (
        f" ({note})" if note else ""
    )
    return _heatmap_layout(fig, title, ax_x, ax_y, len(ys))


def _lines(
    rows: pd.DataFrame, table: pd.DataFrame, axis, axes, percentile: float, colors: dict[str, str]
) -> go.Figure:
    sub, note = _fixed(rows, axes, {axis.key})
    chosen = set(table.loc[table["status"] == "ok", "chosen"]) - {""}
    keep = [c for c in dict.fromkeys(sub["config"]) if c in chosen or c in ("LC", "RC")]
    xs = [str(v) for v in axis.values]
    fig = go.Figure()
    for config in keep:
        line = (
            sub[sub["config"] == config]
            .set_index(sub[sub["config"] == config][axis.key].astype(str))
            .reindex(xs)
        )
        fig.add_scatter(
            x=xs, y=line["latency_qos"] * 1e3, mode="lines+markers", name=config,
            line=dict(color=colors.get(config, "#888")),
            marker=dict(symbol=["star" if bool(c) else "circle" for c in line["chosen"].fillna(False)], size=[13 if bool(c) else 7 for c in line["chosen"].fillna(False)]),
            hovertemplate=f"{config}<br>{axis.key}=%{{x}}<br>%{{y:.3g}} ms<extra></extra>",
        )  # fmt: skip
    fig.update_layout(
        title=f"p{percentile:g} latency along {axis.key} (stars: chosen)" + (f" ({note})" if note else ""),
        xaxis_title=axis.key, yaxis_title="milliseconds", yaxis_type="log", height=420,
        xaxis=dict(type="category"), margin=dict(l=10, r=10, t=60, b=40),
    )  # fmt: skip
    return fig


def sweep_report(base, axes, table: pd.DataFrame, rows: pd.DataFrame) -> str:
    """The HTML report of a sweep."""
    ok = table[table["status"] == "ok"] if "status" in table else table
    winners = [c for c in dict.fromkeys(ok.get("chosen", pd.Series(dtype=str))) if c]
    if "feasible" in ok and (~ok["feasible"].astype(bool)).any():
        winners.append(_NONE)
    colors = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(w for w in winners if w != _NONE)}
    if _NONE in winners:
        colors[_NONE] = "#d0d4da"
    for c in dict.fromkeys(rows.get("config", pd.Series(dtype=str))):
        colors.setdefault(c, PALETTE[len(colors) % len(PALETTE)])
    category_colors = {c: colors[c] for c in winners}
    percentile = base.qos.percentile
    figures: list[go.Figure] = []
    if category_colors:
        if len(axes) >= 2:
            for ax_x, ax_y in itertools.combinations(axes, 2):
                figures.append(_chosen_heatmap(table, ax_x, ax_y, axes, category_colors))
                figures.append(_latency_heatmap(table, ax_x, ax_y, axes, percentile))
        else:
            single = type("One", (), {"key": "_", "values": ("",)})()
            strip = table.assign(_="")
            figures.append(
                _chosen_heatmap(strip, axes[0], single, [*axes, single], category_colors)
            )
    if not rows.empty:
        for axis in axes:
            figures.append(_lines(rows, table, axis, axes, percentile, colors))
    n_ok = int((table["status"] == "ok").sum())
    n_feasible = int(ok["feasible"].astype(bool).sum()) if "feasible" in ok else 0
    summary = (
        f"<div class='card verdict{'' if n_feasible else ' none'}'><b>{n_ok} of {len(table)} points simulated; "
        f"a configuration meets the QoS at {n_feasible} of them.</b><br>"
        + "; ".join(f"{c} wins at {int((ok['chosen'] == c).sum())}" for c in winners if c != _NONE)
        + "</div>"
    )
    columns, labels = study_columns(table, [a.key for a in axes], percentile)
    sections = [summary]
    for i, fig in enumerate(figures):
        sections.append(f"<div class='card'>{figure_html(fig, i == 0)}</div>")
    sections.append("<h2>Points</h2>")
    sections.append(f"<div class='card'>{table_html(table, columns, labels)}</div>")
    qos = base.qos
    limits = describe_limits(qos)
    subtitle = html.escape(
        f"scenario {base.source or base.name}; swept: {', '.join(a.key for a in axes)}; QoS: {'; '.join(limits) or 'none'}"
    )
    return page(f"sei sweep: {base.name}", subtitle, sections)
