"""The report of one simulation: verdict, table, trade-off, stage breakdown, latency CDFs."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..sim.frames import STAGES
from ..units import format_fraction, format_rate, format_time
from .page import PALETTE, accuracy_ticks, figure_html, page, table_html

__all__ = ["simulation_report"]


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
        fig.update_yaxes(tickformat=accuracy_ticks(y))
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
        text = html.escape(str(info.get("described", info.get("hardware", spec.profile))))
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
        "accuracy from": html.escape(str(meta.get("accuracy_source", "")))
        + "".join(
            f"<br><span class='warn'>{html.escape(n)}</span>"
            for n in meta.get("accuracy_notes", [])
        ),
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
