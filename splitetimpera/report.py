"""Interactive HTML reports (plotly): one self-contained file that opens offline.

:func:`simulation_report` shows one simulation: the QoS verdict, the summary table, the
latency breakdown by stage per configuration, latency CDFs, and latency against accuracy
with the Pareto front. The sweep and exploration reports (:mod:`splitetimpera.sweep`,
:mod:`splitetimpera.explore`) reuse :func:`page` and :func:`table_html`.
"""

from __future__ import annotations

import html
import itertools
import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .qos import describe_limits
from .sim.frames import STAGES
from .units import format_fraction, format_rate, format_size, format_time

__all__ = [
    "page",
    "figure_html",
    "table_html",
    "simulation_report",
    "sweep_report",
    "explore_report",
    "PALETTE",
]

PALETTE = [
    "#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#EECA3B",
    "#B279A2", "#FF9DA6", "#9D755D", "#BAB0AC",
]  # fmt: skip

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2733;background:#f6f7f9}
main{max-width:1200px;margin:0 auto;padding:24px}
h1{font-size:1.6em;margin:0 0 4px} h2{font-size:1.2em;margin:28px 0 8px}
.sub{color:#5b6675;margin-bottom:16px}
.card{background:#fff;border-radius:8px;padding:16px 20px;margin:12px 0;box-shadow:0 1px 3px rgba(0,0,0,.08)}
.verdict{border-left:6px solid #54A24B} .verdict.none{border-left-color:#E45756}
.facts{display:grid;grid-template-columns:repeat(auto-fit,minmax(220px,1fr));gap:8px 24px}
.facts div span{color:#5b6675;display:block;font-size:.85em}
table.data{border-collapse:collapse;width:100%;font-size:.88em}
table.data th{background:#eef1f5;text-align:left;padding:6px 8px;position:sticky;top:0}
table.data td{padding:5px 8px;border-top:1px solid #e6e9ee;white-space:nowrap}
table.data tr.chosen td{background:#e8f5e9;font-weight:600}
table.data tr.infeasible td{color:#8a94a3}
.scroll{overflow-x:auto;max-height:520px;overflow-y:auto}
.warn{color:#b35c00}
footer{color:#8a94a3;font-size:.8em;margin-top:32px}
"""


def figure_html(fig: go.Figure, first: bool) -> str:
    """A figure as an HTML fragment; the first one of a page carries plotly.js."""
    return fig.to_html(
        full_html=False,
        include_plotlyjs=True if first else False,
        config={"displaylogo": False, "responsive": True},
    )


def page(title: str, subtitle: str, sections: list[str]) -> str:
    """A whole HTML page around the given fragments."""
    from . import __version__

    body = "\n".join(sections)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body><main>"
        f"<h1>{html.escape(title)}</h1><div class='sub'>{subtitle}</div>{body}"
        f"<footer>splitetimpera {__version__}</footer></main></body></html>"
    )


def _cell(value, column: str) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if column.startswith("latency") or column.endswith("_s"):
        return format_time(float(value))
    if column in ("accuracy", "deadline_miss", "frame_loss", "device_util", "server_util"):
        return format_fraction(float(value))
    if column in ("payload_bytes", "bytes_on_air", "bytes_per_frame"):
        return format_size(float(value))
    if column == "throughput":
        return f"{float(value):.4g} fps"
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape(str(value))


def table_html(
    frame: pd.DataFrame, columns: list[str], labels: dict[str, str] | None = None, row_class=None
) -> str:
    """A formatted HTML table of ``columns`` of ``frame``."""
    labels = labels or {}
    head = "".join(f"<th>{html.escape(labels.get(c, c))}</th>" for c in columns)
    rows = []
    for _, row in frame.iterrows():
        cls = row_class(row) if row_class else ""
        cells = "".join(f"<td>{_cell(row[c], c)}</td>" for c in columns)
        rows.append(f"<tr class='{cls}'>{cells}</tr>")
    return f"<div class='scroll'><table class='data'><tr>{head}</tr>{''.join(rows)}</table></div>"


def _stage_breakdown(frames: pd.DataFrame, order: list[str], limit: float | None) -> go.Figure:
    done = frames[frames["status"] != "lost"]
    fig = go.Figure()
    totals = (done["t_done"] - done["t_gen"]).groupby(done["config"]).mean().reindex(order) * 1e3
    for i, (stage, start, end) in enumerate(STAGES):
        durations = (done[end] - done[start]).clip(lower=0)
        means = durations.groupby(done["config"]).mean().reindex(order).fillna(0.0)
        fig.add_bar(
            y=order,
            x=means.to_numpy() * 1e3,
            name=stage,
            orientation="h",
            marker_color=PALETTE[i % len(PALETTE)],
            hovertemplate=f"{stage}: %{{x:.3f}} ms<extra>%{{y}}</extra>",
        )
    finite = totals.dropna()
    # one overloaded configuration must not squash the others: clip, and say by how much
    span = float(finite.median() * 4) if len(finite) else 1.0
    if limit is not None:
        span = max(span, limit * 1e3 * 1.5)
    span = min(span, float(finite.max()) * 1.05) if len(finite) else span
    clipped = [(c, t) for c, t in finite.items() if t > span]
    for config, total in clipped:
        fig.add_annotation(
            x=span,
            y=config,
            text=f"{format_time(total / 1e3, 3)} →",
            showarrow=False,
            xanchor="right",
            font=dict(color="white", size=11),
        )
    fig.update_layout(
        barmode="stack",
        title="Where the time goes: mean latency by stage (answered frames)"
        + (f"; {len(clipped)} bar(s) run past the axis" if clipped else ""),
        xaxis_title="milliseconds",
        xaxis=dict(range=[0, span]),
        height=max(320, 24 * len(order) + 160),
        margin=dict(l=10, r=10, t=50, b=40),
        legend=dict(orientation="h", y=-0.12),
        yaxis=dict(autorange="reversed", automargin=True),
    )
    return fig


def _cdfs(frames: pd.DataFrame, order: list[str], chosen: str | None) -> go.Figure:
    fig = go.Figure()
    for i, config in enumerate(order):
        lat = np.sort(
            frames.loc[
                (frames["config"] == config) & (frames["status"] != "lost"), "latency"
            ].to_numpy()
        )
        if lat.size == 0:
            continue
        total = int((frames["config"] == config).sum())
        y = np.arange(1, lat.size + 1) / total
        # at most ~400 points per curve keeps the page light
        step = max(1, lat.size // 400)
        fig.add_scatter(
            x=lat[::step] * 1e3,
            y=y[::step],
            mode="lines",
            name=config,
            line=dict(width=3 if config == chosen else 1.5, color=PALETTE[i % len(PALETTE)]),
        )
    fig.update_layout(
        title="Latency CDF (lost frames never reach 1)",
        xaxis_title="end-to-end latency (ms)",
        yaxis_title="share of frames answered",
        xaxis_type="log",
        height=440,
        margin=dict(l=10, r=10, t=50, b=40),
    )
    return fig


def _tradeoff(summary: pd.DataFrame, qos, percentile: float) -> go.Figure:
    fig = go.Figure()
    known = summary["accuracy"].notna().any()
    y = summary["accuracy"] if known else summary["bytes_per_frame"]
    ytitle = "accuracy" if known else "bytes on air per frame"
    colors = ["#54A24B" if f else "#E45756" for f in summary["feasible"]]
    labels = [
        c if (p or ch) else ""
        for c, p, ch in zip(summary["config"], summary["pareto"], summary["chosen"])
    ]
    fig.add_scatter(
        x=summary["latency_qos"] * 1e3,
        y=y,
        mode="markers+text",
        text=labels,
        customdata=summary["config"],
        textposition="top center",
        marker=dict(
            size=12,
            color=colors,
            symbol=["star" if c else "circle" for c in summary["chosen"]],
            line=dict(width=[3 if p else 1 for p in summary["pareto"]], color="#222"),
        ),
        name="configurations",
        hovertemplate="%{customdata}<br>latency %{x:.3g} ms<br>" + ytitle + " %{y}<extra></extra>",
    )
    # limits drawn as traces: shapes on a log axis would need log10 coordinates
    ys = y.dropna()
    if qos.max_latency is not None and len(ys):
        fig.add_scatter(
            x=[qos.max_latency * 1e3] * 2,
            y=[ys.min(), ys.max()],
            mode="lines+text",
            text=["", "max latency"],
            textposition="top left",
            line=dict(dash="dash", color="#E45756"),
            hoverinfo="skip",
        )
    lat = summary["latency_qos"].dropna()
    if known and qos.min_accuracy is not None and len(lat):
        fig.add_scatter(
            x=[lat.min() * 1e3, lat.max() * 1e3],
            y=[qos.min_accuracy] * 2,
            mode="lines+text",
            text=["min accuracy", ""],
            textposition="bottom right",
            line=dict(dash="dash", color="#E45756"),
            hoverinfo="skip",
        )
    fig.update_layout(
        title=f"Trade-off: p{percentile:g} latency against {ytitle} (green: meets the QoS, star: chosen; labelled with a thick outline: Pareto-optimal on latency, accuracy and bytes)",
        xaxis_title=f"p{percentile:g} latency (ms, log scale)",
        xaxis_type="log",
        yaxis_title=ytitle,
        height=460,
        showlegend=False,
        margin=dict(l=10, r=10, t=50, b=40),
    )
    if known:
        fig.update_yaxes(tickformat=_accuracy_ticks(y))
    return fig


def _facts(result) -> str:
    s = result.scenario
    meta = result.meta
    net = s.network
    loss = (
        net.loss
        if isinstance(net.loss, float)
        else f"Gilbert-Elliott (mean {format_fraction(net.loss.mean_loss)})"
    )
    loss = format_fraction(loss) if isinstance(loss, float) else loss

    def prof(key: str, spec) -> str:
        info = meta.get(key, {})
        text = html.escape(str(info.get("hardware", spec.profile)))
        if spec.slowdown != 1.0:
            text += f" <span class='warn'>scaled ×{spec.slowdown:g} (measured profile slowed down)</span>"
        return text

    items = {
        "model": f"{s.model.name} ({s.model.resolved_weights} weights)",
        "device": f"{s.device.count} × " + prof("device_profile", s.device),
        "server": f"{s.server.workers} worker(s), " + prof("server_profile", s.server),
        "network": f"{net.protocol.upper()} {format_rate(net.uplink_rate)} up / "
        f"{format_rate(net.downlink_rate)} down, {format_time(net.delay)} one-way, loss {loss}",
        "workload": f"{s.workload.arrival} {s.workload.rate or ''} fps, "
        f"{meta.get('frames_per_device', s.workload.frames)} frames/device"
        + (f", deadline {format_time(s.workload.deadline)}" if s.workload.deadline else ""),
        "splits": f"{s.splits.method if isinstance(s.splits.method, str) else 'listed'}: "
        + (", ".join(meta.get("splits", [])) or "none"),
        "fidelity": f"{net.fidelity}, seed {s.seed}",
        "accuracy from": html.escape(str(meta.get("accuracy_source", ""))),
    }
    inner = "".join(f"<div><span>{k}</span>{v}</div>" for k, v in items.items())
    return f"<div class='card facts'>{inner}</div>"


def simulation_report(result) -> str:
    """The HTML report of one simulation."""
    summary = result.summary
    scenario = result.scenario
    qos = scenario.qos
    chosen = result.qos.chosen
    feasible = summary[summary["feasible"]].sort_values(["score", "config"])
    others = summary[~summary["feasible"]].sort_values(["excess", "score", "config"])
    order = [*feasible["config"], *others["config"]]
    verdict_cls = "verdict" if chosen else "verdict none"
    verdict = (
        f"<div class='card {verdict_cls}'><b>{'Chosen: ' + html.escape(chosen) if chosen else 'No configuration meets the QoS'}</b>"
        f"<br>{html.escape(result.qos.explanation)}</div>"
    )
    columns = [
        "config", "feasible", "accuracy", "latency_p50", "latency_qos", "latency_p99",
        "deadline_miss", "frame_loss", "throughput", "payload_bytes", "bytes_per_frame",
        "device_util", "server_util", "violations",
    ]  # fmt: skip
    labels = {
        "latency_qos": f"latency p{qos.percentile:g}",
        "latency_p50": "latency p50",
        "latency_p99": "latency p99",
        "bytes_per_frame": "bytes/frame",
    }
    ordered = summary.set_index("config").loc[order].reset_index()
    table = table_html(
        ordered,
        columns,
        labels,
        row_class=lambda r: "chosen" if r["chosen"] else ("" if r["feasible"] else "infeasible"),
    )
    sections = [
        _facts(result),
        verdict,
        "<h2>Configurations</h2>",
        f"<div class='card'>{table}</div>",
        "<h2>Trade-off</h2>",
        f"<div class='card'>{figure_html(_tradeoff(summary, qos, qos.percentile), True)}</div>",
        "<h2>Latency breakdown</h2>",
        f"<div class='card'>{figure_html(_stage_breakdown(result.frames, order, qos.max_latency), False)}</div>",
        "<h2>Latency distribution</h2>",
        f"<div class='card'>{figure_html(_cdfs(result.frames, order, chosen), False)}</div>",
    ]
    subtitle = html.escape(f"scenario {scenario.source or scenario.name}")
    return page(f"sei simulate: {scenario.name}", subtitle, sections)


# --------------------------------------------------------------------------- sweeps

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


# What a sweep point or a design is judged by, in the tables of their reports.
_STUDY_COLUMNS = (
    "chosen",
    "closest",
    "latency_qos",
    "accuracy",
    "bytes_per_frame",
    "deadline_miss",
)


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
    columns = [a.key for a in axes] + ["status", *_STUDY_COLUMNS, "error"]
    columns = [c for c in columns if c in table.columns]
    sections = [summary]
    for i, fig in enumerate(figures):
        sections.append(f"<div class='card'>{figure_html(fig, i == 0)}</div>")
    sections.append("<h2>Points</h2>")
    sections.append(
        f"<div class='card'>{table_html(table, columns, {'latency_qos': f'latency p{percentile:g}'})}</div>"
    )
    qos = base.qos
    limits = describe_limits(qos)
    subtitle = html.escape(
        f"scenario {base.source or base.name}; swept: {', '.join(a.key for a in axes)}; QoS: {'; '.join(limits) or 'none'}"
    )
    return page(f"sei sweep: {base.name}", subtitle, sections)


# --------------------------------------------------------------------------- exploration


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
        axes.append(dict(label="accuracy", values=acc, tickformat=_accuracy_ticks(acc)))
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
        fig.update_yaxes(tickformat=_accuracy_ticks(y))
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


def _accuracy_ticks(values) -> str:
    """A percent tick format fine enough to tell the plotted accuracies apart."""
    values = pd.Series(values, dtype=float).dropna()
    spread = float(values.max() - values.min()) if len(values) else 1.0
    return ".2%" if spread < 0.02 else ".1%"


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
    columns = [*dims, "feasible", *_STUDY_COLUMNS, "status", "error"]
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
