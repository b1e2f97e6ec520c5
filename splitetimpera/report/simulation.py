"""The report of one simulation: verdict, table, trade-off, stage breakdown, latency CDFs,
energy (breakdown per configuration, latency against energy), links over time."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..sim.frames import STAGES
from ..suggest import headroom_sentence
from ..units import format_energy, format_fraction, format_time
from .page import PALETTE, accuracy_range, accuracy_ticks, captioned, page, table_html
from .rate import rate_accuracy
from .timeline import policies_table, timeline

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
        xaxis_title="milliseconds",
        xaxis=dict(range=[0, span]),
        height=max(320, 24 * len(order) + 160),
        margin=dict(l=10, r=10, t=20, b=40),
        legend=dict(orientation="h", y=-0.12),
        yaxis=dict(autorange="reversed", automargin=True),
    )
    return fig


def _cdfs(frames: pd.DataFrame, order: list[str], shown: set[str], chosen: str | None) -> go.Figure:
    """Latency CDFs; configurations outside ``shown`` are listed but hidden until clicked."""
    fig = go.Figure()
    answered = frames.loc[frames["status"] != "lost", "latency"].to_numpy(float) * 1e3
    answered = answered[answered > 0]
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
            visible=True if config in shown else "legendonly",
            line=dict(width=3 if config == chosen else 1.5, color=PALETTE[i % len(PALETTE)]),
        )
    fig.update_layout(
        xaxis_title="end-to-end latency (ms)",
        yaxis_title="share of frames answered",
        xaxis_type="log",
        height=440,
        margin=dict(l=10, r=10, t=20, b=40),
    )
    if answered.size:
        # one range for every curve, hidden ones included: a single constant curve shown
        # alone would leave a log axis with nothing to span
        lo, hi = np.log10(answered.min() / 1.3), np.log10(answered.max() * 1.3)
        fig.update_xaxes(range=[lo, hi])
    return fig


def _links(links: pd.DataFrame, order: list[str], focus: str | None) -> go.Figure | None:
    """Each configuration's uplink use and queue over time, one at a time (a menu picks)."""
    configs = [c for c in order if c in set(links["config"])]
    if not configs:
        return None
    focus = focus if focus in configs else configs[0]
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
        subplot_titles=("link use (share of each interval spent sending)", "bottleneck queue (packets, most in each interval)"),
    )  # fmt: skip
    traces_per = []
    for config in configs:
        count = 0
        for direction, color in (("up", PALETTE[0]), ("down", PALETTE[1])):
            part = links[(links["config"] == config) & (links["direction"] == direction)]
            if part.empty:
                continue
            visible = config == focus
            fig.add_scatter(
                x=part["t"], y=part["utilisation"] * 100, mode="lines", name=f"{direction}link",
                line=dict(color=color), visible=visible, row=1, col=1,
                hovertemplate="%{x:.2f} s: %{y:.1f}%<extra>" + direction + "link</extra>",
            )  # fmt: skip
            fig.add_scatter(
                x=part["t"], y=part["queue_max"], mode="lines", name=f"{direction}link queue",
                line=dict(color=color, dash="dot"), visible=visible, row=2, col=1, showlegend=False,
                hovertemplate="%{x:.2f} s: %{y} packets<extra>" + direction + "link</extra>",
            )  # fmt: skip
            count += 2
        traces_per.append(count)
    buttons = []
    start = 0
    total = sum(traces_per)
    for config, count in zip(configs, traces_per):
        visible = [start <= i < start + count for i in range(total)]
        buttons.append(dict(label=config, method="update", args=[{"visible": visible}]))
        start += count
    fig.update_layout(
        height=520,
        margin=dict(l=10, r=10, t=60, b=40),
        updatemenus=[
            dict(
                buttons=buttons,
                active=configs.index(focus),
                x=0,
                y=1.16,
                xanchor="left",
                yanchor="top",
            )
        ],
        legend=dict(orientation="h", y=-0.12),
    )
    fig.update_yaxes(title_text="%", range=[0, 100], row=1, col=1)
    fig.update_yaxes(title_text="packets", rangemode="tozero", row=2, col=1)
    fig.update_xaxes(title_text="simulated time (s)", row=2, col=1)
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
        xaxis_title=f"p{percentile:g} latency (ms, log scale)",
        xaxis_type="log",
        yaxis_title=ytitle,
        height=460,
        showlegend=False,
        margin=dict(l=10, r=10, t=20, b=40),
    )
    if known:
        fig.update_yaxes(tickformat=accuracy_ticks(y), range=accuracy_range(y))
    return fig


#: The parts of energy_per_frame, in stacking order, and their legend names.
_ENERGY_PARTS = {
    "energy_compute": "compute",
    "energy_radio": "radio transfer",
    "energy_tail": "radio tail and promotion",
    "energy_idle": "idle (board and radio)",
}


def _energy_breakdown(summary: pd.DataFrame, order: list[str]) -> go.Figure:
    """Energy per frame by part, one stacked bar per configuration."""
    rows = summary.set_index("config").reindex(order)
    fig = go.Figure()
    for i, (column, name) in enumerate(_ENERGY_PARTS.items()):
        fig.add_bar(
            y=order,
            x=rows[column].to_numpy(float) * 1e3,
            name=name,
            orientation="h",
            marker_color=PALETTE[i % len(PALETTE)],
            hovertemplate=f"{name}: %{{x:.4g}} mJ<extra>%{{y}}</extra>",
        )
    height = max(320, 24 * len(order) + 160)
    fig.update_layout(
        barmode="stack",
        xaxis_title="millijoules per frame",
        height=height,
        margin=dict(l=10, r=10, t=20, b=80),
        # just under the axis title, in pixels: a fraction of a tall plot leaves a gap
        legend=dict(orientation="h", y=-50 / (height - 100), yanchor="top", traceorder="normal"),
        yaxis=dict(autorange="reversed", automargin=True),
    )
    return fig


def _front_2d(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Indices of the points no other beats on both ``x`` and ``y`` (lower is better),
    sorted by ``x``."""
    order = np.lexsort((y, x))
    front, best = [], np.inf
    for i in order:
        if y[i] < best:
            front.append(i)
            best = y[i]
    return np.asarray(front, dtype=int)


def _latency_energy(summary: pd.DataFrame, qos, percentile: float) -> go.Figure:
    """Energy per frame against latency, with the front of the two (ignoring accuracy)."""
    known = summary[summary["latency_qos"].notna() & summary["energy_per_frame"].notna()]
    x = known["latency_qos"].to_numpy(float) * 1e3
    y = known["energy_per_frame"].to_numpy(float) * 1e3
    fig = go.Figure()
    front = _front_2d(x, y)
    fig.add_scatter(
        x=x[front], y=y[front], mode="lines", line=dict(shape="hv", dash="dot", color="#555"),
        name="latency-energy front", hoverinfo="skip",
    )  # fmt: skip
    on_front = set(known["config"].iloc[front])
    # neighbours on the front take turns above and below, so close labels do not overlap
    below = set(known["config"].iloc[front[1::2]])
    fig.add_scatter(
        x=x,
        y=y,
        mode="markers+text",
        text=[
            c if (c in on_front or ch) else "" for c, ch in zip(known["config"], known["chosen"])
        ],
        customdata=known["config"],
        textposition=["bottom center" if c in below else "top center" for c in known["config"]],
        marker=dict(
            size=12,
            color=["#54A24B" if f else "#E45756" for f in known["feasible"]],
            symbol=["star" if c else "circle" for c in known["chosen"]],
            line=dict(width=[3 if c in on_front else 1 for c in known["config"]], color="#222"),
        ),
        name="configurations",
        hovertemplate="%{customdata}<br>latency %{x:.3g} ms<br>energy %{y:.4g} mJ<extra></extra>",
    )
    if qos.max_energy is not None and len(x):
        fig.add_scatter(
            x=[x.min(), x.max()], y=[qos.max_energy * 1e3] * 2, mode="lines+text",
            text=["max energy", ""], textposition="bottom right",
            line=dict(dash="dash", color="#E45756"), hoverinfo="skip",
        )  # fmt: skip
    fig.update_layout(
        xaxis_title=f"p{percentile:g} latency (ms, log scale)",
        xaxis_type="log",
        yaxis_title="energy per frame (mJ)",
        height=460,
        showlegend=False,
        margin=dict(l=10, r=10, t=20, b=40),
    )
    return fig


def _energy_sections(result, order: list[str]) -> list[str]:
    """The energy part of the report, or a line saying which power model is missing."""
    summary, scenario = result.summary, result.scenario
    if "energy_per_frame" not in summary or summary["energy_per_frame"].isna().all():
        missing = [
            key
            for key, value in (
                ("device.power", scenario.device.power),
                ("network.radio", scenario.network.radio),
            )
            if value is None
        ]
        return [
            "<h2>Energy</h2>",
            "<div class='card'><p class='caption'>No energy: the scenario names no "
            f"{' or '.join(missing) or 'power model'}.</p></div>",
        ]
    info = result.meta.get("energy", {})
    board = (info.get("device_power") or {}).get("description") or "inline model"
    radio = (info.get("radio") or {}).get("description") or "inline model"
    return [
        "<h2>Energy</h2>",
        captioned(
            "Where each device's energy goes, per frame: compute (the board's active power "
            "while it runs the head), radio transfer (packets on the air), the radio's tail "
            "and promotions, and idle (board and radio over the time between frames). LC "
            f"keeps its radio off. Board: {html.escape(board)}; radio: {html.escape(radio)}.",
            _energy_breakdown(summary, order),
            False,
        ),
        captioned(
            f"Energy per frame against p{result.scenario.qos.percentile:g} latency. Green "
            "meets the QoS, the star is the choice; the dotted steps join the configurations "
            "no other beats on both latency and energy (labelled, thick outline), accuracy "
            "aside.",
            _latency_energy(summary, scenario.qos, scenario.qos.percentile),
            False,
        ),
    ]


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
        "network": f"{net.protocol.upper()} {net.describe('up')} up / "
        f"{net.describe('down')} down, {format_time(net.delay)} one-way, loss {loss}",
        "workload": f"{s.workload.arrival} {s.workload.rate or ''} fps, "
        f"{meta.get('frames_per_device', s.workload.frames)} frames/device"
        + (f", deadline {format_time(s.workload.deadline)}" if s.workload.deadline else ""),
        "splits": f"{s.splits.method if isinstance(s.splits.method, str) else 'listed'}: "
        + (", ".join(meta.get("splits", [])) or "none"),
        "fidelity": f"{net.fidelity}, seed {s.seed}",
        "power": _power_fact(s, meta),
        "accuracy from": html.escape(str(meta.get("accuracy_source", "")))
        + "".join(
            f"<br><span class='warn'>{html.escape(n)}</span>"
            for n in meta.get("accuracy_notes", [])
        ),
    }
    inner = "".join(f"<div><span>{k}</span>{v}</div>" for k, v in items.items())
    return f"<div class='card facts'>{inner}</div>"


def _power_fact(s, meta) -> str:
    info = meta.get("energy", {})

    def name(value, key) -> str:
        if value is None:
            return "none"
        model = info.get(key) or {}
        return html.escape(model.get("name") or "inline") if isinstance(model, dict) else "?"

    text = f"board {name(s.device.power, 'device_power')}, radio {name(s.network.radio, 'radio')}"
    if s.device.battery:
        text += f", battery {format_energy(s.device.battery)}"
    measured = info.get("profile_power", "not measured")
    if isinstance(measured, dict) and measured.get("mean_w") is not None:
        text += f"; the profile's host drew {measured['mean_w']:.3g} W while measured (RAPL)"
    else:
        text += f"; the profile's host power: {html.escape(str(measured))}"
    return text


#: The table's columns and their headings.
_COLUMNS = {
    "config": "configuration",
    "feasible": "meets the QoS",
    "accuracy": "accuracy",
    "latency_p50": "p50",
    "latency_qos_ci": "p{p} [95% interval]",
    "latency_p99": "p99",
    "deadline_miss_ci": "deadline misses [95% interval]",
    "frame_loss": "frames lost",
    "throughput": "throughput",
    "bytes_per_frame": "bytes on air per frame",
    "energy_per_frame_ci": "energy per frame [95% interval]",
    "battery_life": "battery life",
    "device_util": "device busy",
    "server_util": "server busy",
    "fidelity": "network model",
    "violations": "what it breaks",
    "uncertain": "verdict hangs on",
}


def _verdict(result) -> str:
    chosen = result.qos.chosen
    meta = result.meta
    lines = [html.escape(result.qos.explanation)]
    room = meta.get("headroom")
    if room:
        lines.append(html.escape(headroom_sentence(room)))
    if meta.get("advice"):
        lines.append("What would make it feasible: " + html.escape(meta["advice"]))
    lines += [f"<span class='warn'>{html.escape(w)}</span>" for w in result.qos.warnings]
    head = f"Chosen: {html.escape(chosen)}" if chosen else "No configuration meets the QoS"
    return (
        f"<div class='card verdict{'' if chosen else ' none'}'><b>{head}</b><br>"
        + "<br>".join(lines)
        + "</div>"
    )


def _policy_caption(summary: pd.DataFrame) -> str:
    """What the table's policy rows are, when it has any."""
    names = list(summary.loc[summary["mode"] == "policy", "config"])
    if not names:
        return ""
    text = f" {', '.join(names)}: run-time policies choosing before every frame (see Policies)"
    if "oracle" in names:
        text += "; the oracle knows the link ahead, a bound that is never chosen"
    return text + "."


def _timeline_sections(result, percentile: float) -> list[str]:
    """Policies against the best static configuration, and the run's timeline."""
    out = []
    compared = policies_table(result.summary, percentile)
    if compared is not None:
        out += [
            "<h2>Policies</h2>",
            "<div class='card'><p class='caption'>Run-time policies (chosen before every "
            "frame) beside the best static configuration (one for the whole run: the QoS "
            "choice among static ones, else the lowest latency). adaptive sees only its own "
            "transfers; oracle knows the links' capacity ahead, the bound.</p>"
            f"{compared}</div>",
        ]
    figure = timeline(result)
    if figure is not None:
        out += [
            "<h2>Timeline</h2>",
            captioned(
                "The run over time: the links' capacity (traced links), the configuration "
                "each policy chose for each frame, and each frame's latency against the "
                "deadline, for the policies and the best static configuration.",
                figure,
                False,
            ),
        ]
    return out


def simulation_report(result) -> str:
    """The HTML report of one simulation."""
    summary = result.summary
    scenario = result.scenario
    qos = scenario.qos
    p = f"{qos.percentile:g}"
    chosen = result.qos.chosen
    feasible = summary[summary["feasible"]].sort_values(["score", "config"])
    others = summary[~summary["feasible"]].sort_values(["excess", "score", "config"])
    order = [*feasible["config"], *others["config"]]
    columns = [c for c in _COLUMNS if c in summary or c.endswith("_ci")]
    if scenario.network.fidelity != "fast":
        columns.remove("fidelity")
    if "energy_per_frame" not in summary or summary["energy_per_frame"].isna().all():
        columns = [c for c in columns if c not in ("energy_per_frame_ci", "battery_life")]
    elif summary["battery_life"].isna().all():
        columns.remove("battery_life")
    labels = {c: label.format(p=p) for c, label in _COLUMNS.items()}
    ordered = summary.set_index("config").loc[order].reset_index()
    table = table_html(
        ordered,
        columns,
        labels,
        row_class=lambda r: "chosen" if r["chosen"] else ("" if r["feasible"] else "infeasible"),
    )
    # the curves worth seeing at once: the choice, the feasible Pareto-optimal ones, and
    # the closest when nothing is feasible; the rest are one click away in the legend
    shown = set(summary.loc[summary["feasible"] & summary["pareto"], "config"])
    shown |= {c for c in (chosen, result.qos.closest) if c}
    sections = [
        _facts(result),
        _verdict(result),
        "<h2>Configurations</h2>",
        f"<div class='card'><p class='caption'>Feasible first (best first), then the others "
        f"by how far they miss. Intervals: 95 % confidence over the frames simulated."
        f"{_policy_caption(summary)}</p>{table}</div>",
        "<h2>Trade-off</h2>",
        captioned(
            f"p{p} latency against accuracy (bytes on air per frame when accuracy is unknown). "
            "Green meets the QoS, the star is the choice, a thick outline marks the "
            "Pareto-optimal configurations (labelled).",
            _tradeoff(summary, qos, qos.percentile),
            True,
        ),
        "<h2>Rate and accuracy</h2>",
        captioned(
            "What each configuration sends per frame against the accuracy it keeps (one "
            "colour per codec; the dotted line joins those no other beats on both). Sizes "
            "of entropy and image codecs are measured frame by frame on real images"
            + (
                "; the accuracy of a model without trained weights is not measured."
                if summary["accuracy"].isna().all()
                else "."
            ),
            # codecs and splits: a policy's row mixes several, so it has no place here
            rate_accuracy(
                summary[(summary["payload_bytes"] > 0) & (summary["mode"] != "policy")], chosen
            ),
            False,
        ),
        "<h2>Latency breakdown</h2>",
        captioned(
            "Where the time goes: mean latency by stage over the answered frames.",
            _stage_breakdown(result.frames, order, qos.max_latency),
            False,
        ),
        "<h2>Latency distribution</h2>",
        captioned(
            f"Latency CDFs (lost frames never reach 1). Shown: {len(shown)} of {len(order)} "
            "configurations (the choice and the Pareto-optimal feasible ones); click a name "
            "in the legend to show another.",
            _cdfs(result.frames, order, shown, chosen),
            False,
        ),
    ]
    sections += _energy_sections(result, order)
    sections += _timeline_sections(result, qos.percentile)
    links = _links(result.links, order, chosen or result.qos.closest)
    if links is not None:
        sections += [
            "<h2>Network over time</h2>",
            captioned(
                "How busy the links were and how long the bottleneck queue grew, for the "
                "configuration picked in the menu (the choice first)."
                + (
                    " Fast fidelity draws whole transfers: it does not model the queue."
                    if scenario.network.fidelity == "fast"
                    else ""
                ),
                links,
                False,
            ),
        ]
    subtitle = html.escape(f"scenario {scenario.source or scenario.name}")
    return page(f"sei simulate: {scenario.name}", subtitle, sections)
