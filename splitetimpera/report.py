"""Interactive HTML reports (plotly): one self-contained file that opens offline.

:func:`simulation_report` shows one simulation: the QoS verdict, the summary table, the
latency breakdown by stage per configuration, latency CDFs, and latency against accuracy
with the Pareto front. The sweep and exploration reports (:mod:`splitetimpera.sweep`,
:mod:`splitetimpera.explore`) reuse :func:`page` and :func:`table_html`.
"""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .sim.frames import STAGES
from .units import format_fraction, format_rate, format_size, format_time

__all__ = ["page", "figure_html", "table_html", "simulation_report", "PALETTE"]

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


def _stage_breakdown(frames: pd.DataFrame, order: list[str]) -> go.Figure:
    done = frames[frames["status"] != "lost"]
    fig = go.Figure()
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
    fig.update_layout(
        barmode="stack",
        title="Where the time goes: mean latency by stage (answered frames)",
        xaxis_title="milliseconds",
        height=max(320, 28 * len(order) + 140),
        margin=dict(l=10, r=10, t=50, b=40),
        legend=dict(orientation="h", y=-0.15),
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
    fig.add_scatter(
        x=summary["latency_qos"] * 1e3,
        y=y,
        mode="markers+text",
        text=summary["config"],
        textposition="top center",
        marker=dict(
            size=12,
            color=colors,
            symbol=["star" if c else "circle" for c in summary["chosen"]],
            line=dict(width=1, color="#333"),
        ),
        name="configurations",
        hovertemplate="%{text}<br>latency %{x:.2f} ms<br>" + ytitle + " %{y}<extra></extra>",
    )
    front = summary[summary["pareto"]].sort_values("latency_qos")
    if len(front) > 1:
        fy = front["accuracy"] if known else front["bytes_per_frame"]
        fig.add_scatter(
            x=front["latency_qos"] * 1e3,
            y=fy,
            mode="lines",
            name="Pareto front",
            line=dict(dash="dot", color="#555"),
        )
    if qos.max_latency is not None:
        fig.add_vline(
            x=qos.max_latency * 1e3,
            line_dash="dash",
            line_color="#E45756",
            annotation_text="max latency",
        )
    if known and qos.min_accuracy is not None:
        fig.add_hline(
            y=qos.min_accuracy,
            line_dash="dash",
            line_color="#E45756",
            annotation_text="min accuracy",
        )
    fig.update_layout(
        title=f"Trade-off: p{percentile:g} latency against {ytitle} (green: meets the QoS, star: chosen)",
        xaxis_title=f"p{percentile:g} latency (ms)",
        yaxis_title=ytitle,
        height=460,
        showlegend=False,
        margin=dict(l=10, r=10, t=50, b=40),
    )
    if known:
        fig.update_yaxes(tickformat=".1%")
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
    order = summary.sort_values("latency_qos", na_position="last")["config"].tolist()
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
        f"<div class='card'>{figure_html(_stage_breakdown(result.frames, order), False)}</div>",
        "<h2>Latency distribution</h2>",
        f"<div class='card'>{figure_html(_cdfs(result.frames, order, chosen), False)}</div>",
    ]
    subtitle = html.escape(f"scenario {scenario.source or scenario.name}")
    return page(f"sei simulate: {scenario.name}", subtitle, sections)
