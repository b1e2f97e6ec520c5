"""The timeline of a run on a changing network, and run-time policies against the best static
configuration: what the links could carry, which configuration each policy chose for each
frame, and each frame's latency against the deadline."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .page import PALETTE, table_html

__all__ = ["timeline", "policies_table", "best_static"]


def best_static(summary: pd.DataFrame) -> str | None:
    """The static configuration to compare policies with: the QoS matcher's choice among
    static rows (by its score), else the one of lowest QoS-percentile latency."""
    static = summary[summary["mode"] != "policy"]
    if static.empty:
        return None
    feasible = static[static["feasible"]]
    if not feasible.empty:
        return str(feasible.sort_values(["score", "config"])["config"].iloc[0])
    ranked = static.sort_values(["latency_qos", "config"], na_position="last")
    return str(ranked["config"].iloc[0])


def policies_table(summary: pd.DataFrame, percentile: float) -> str | None:
    """Policies side by side with the best static configuration."""
    policies = summary[summary["mode"] == "policy"]
    best = best_static(summary)
    if policies.empty or best is None:
        return None
    rows = pd.concat([summary[summary["config"] == best], policies], ignore_index=True)
    rows.insert(1, "role", ["best static", *(["policy"] * len(policies))])
    columns = ["config", "role", "latency_p50", "latency_p95", "latency_qos", "deadline_miss"]
    columns += ["lost", "bytes_per_frame"]
    if "energy_per_frame" in rows and rows["energy_per_frame"].notna().any():
        columns.append("energy_per_frame")
    labels = {
        "config": "configuration",
        "role": "",
        "latency_p50": "p50",
        "latency_p95": "p95",
        "latency_qos": f"p{percentile:g}",
        "deadline_miss": "deadline miss",
        "lost": "frames lost",
        "bytes_per_frame": "bytes/frame",
        "energy_per_frame": "energy/frame",
    }
    if percentile in (50.0, 95.0):
        columns.remove("latency_qos")
    return table_html(rows, columns, labels)


def timeline(result) -> go.Figure | None:
    """Capacity over time (traced links), the configuration each policy chose per frame,
    and per-frame latency of the policies and the best static configuration."""
    frames, summary = result.frames, result.summary
    capacity = result.meta.get("capacity")
    policies = list(summary.loc[summary["mode"] == "policy", "config"])
    best = best_static(summary)
    if capacity is None and not policies:
        return None
    shown = [*policies, *([best] if best else [])]
    panels = (["capacity"] if capacity is not None else []) + (["choice"] if policies else [])
    panels.append("latency")
    titles = {
        "capacity": "what the links can carry (Mbit/s, 1 s bins)",
        "choice": "configuration chosen for each frame",
        "latency": "latency of each frame (s; lost frames at the top)",
    }
    rows = len(panels)
    fig = make_subplots(
        rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.07,
        subplot_titles=[titles[p] for p in panels],
    )  # fmt: skip
    if capacity is not None:
        for key, name, color in (
            ("up_bps", "uplink", PALETTE[0]),
            ("down_bps", "downlink", PALETTE[1]),
        ):
            fig.add_scatter(
                x=capacity["t"], y=[v / 1e6 for v in capacity[key]], mode="lines",
                line=dict(color=color, shape="hv"), name=f"{name} capacity", row=1, col=1,
                hovertemplate="%{x:.0f} s: %{y:.2f} Mbit/s<extra>" + name + "</extra>",
            )  # fmt: skip
    deadline = result.scenario.workload.deadline
    colors = {name: PALETTE[(i + 2) % len(PALETTE)] for i, name in enumerate(shown)}
    if policies:
        choices = result.meta.get("policy_choices") or sorted(
            set(frames.loc[frames["config"].isin(policies), "used_config"])
        )
        for name in policies:
            part = frames[frames["config"] == name]
            fig.add_scatter(
                x=part["t_gen"], y=part["used_config"], mode="markers", name=f"{name}: choice",
                marker=dict(color=colors[name], size=5), row=panels.index("choice") + 1, col=1,
                hovertemplate="%{x:.2f} s: %{y}<extra>" + name + "</extra>",
            )  # fmt: skip
        fig.update_yaxes(
            categoryorder="array", categoryarray=choices, row=panels.index("choice") + 1, col=1
        )
    latencies = frames.loc[frames["config"].isin(shown), "latency"]
    top = float(latencies.max()) if latencies.notna().any() else 1.0
    ceiling = max(top, deadline or 0.0) * 1.1
    for name in shown:
        part = frames[frames["config"] == name]
        latency = part["latency"].fillna(ceiling)
        label = name if name in policies else f"{name} (best static)"
        fig.add_scatter(
            x=part["t_gen"], y=latency, mode="markers", name=label, row=rows, col=1,
            marker=dict(color=colors[name], size=4, symbol="circle" if name in policies else "x"),
            hovertemplate="%{x:.2f} s: %{y:.3f} s<extra>" + name + "</extra>",
        )  # fmt: skip
    if deadline is not None and math.isfinite(deadline):
        fig.add_hline(
            y=deadline, line=dict(color="#b00", dash="dash"), row=rows, col=1,
            annotation_text="deadline", annotation_position="top left",
        )  # fmt: skip
    fig.update_yaxes(type="log", title_text="s", row=rows, col=1)
    fig.update_xaxes(title_text="simulated time (s)", row=rows, col=1)
    fig.update_layout(
        height=300 + 220 * rows, margin=dict(l=10, r=10, t=40, b=40),
        legend=dict(orientation="h", y=-0.08),
    )  # fmt: skip
    return fig
