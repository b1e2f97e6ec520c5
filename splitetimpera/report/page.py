"""The page every report shares: style, plotly embedding, formatted tables, colours."""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..units import format_energy, format_fraction, format_lifetime, format_size, format_time

__all__ = [
    "PALETTE",
    "page",
    "figure_html",
    "captioned",
    "table_html",
    "accuracy_ticks",
    "accuracy_range",
    "STUDY_COLUMNS",
    "study_columns",
]

PALETTE = [
    "#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#EECA3B",
    "#B279A2", "#FF9DA6", "#9D755D", "#BAB0AC",
]  # fmt: skip

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2733;background:#f6f7f9}
main{max-width:1360px;margin:0 auto;padding:24px}
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
.caption{color:#5b6675;margin:0 0 6px;font-size:.92em}
table.data td.wrap{white-space:normal;min-width:220px}
footer{color:#8a94a3;font-size:.8em;margin-top:32px}
"""


def figure_html(fig: go.Figure, first: bool) -> str:
    """A figure as an HTML fragment; the first one of a page carries plotly.js."""
    return fig.to_html(
        full_html=False,
        include_plotlyjs=True if first else False,
        # the toolbar shows on hover only, so that it never covers what is drawn
        config={"displaylogo": False, "responsive": True, "displayModeBar": "hover"},
    )


def captioned(caption: str, fig: go.Figure, first: bool) -> str:
    """A card holding a sentence on how to read a figure, then the figure."""
    return f"<div class='card'><p class='caption'>{caption}</p>{figure_html(fig, first)}</div>"


def page(title: str, subtitle: str, sections: list[str]) -> str:
    """A whole HTML page around the given fragments."""
    from .. import __version__

    body = "\n".join(sections)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body><main>"
        f"<h1>{html.escape(title)}</h1><div class='sub'>{subtitle}</div>{body}"
        f"<footer>splitetimpera {__version__}</footer></main></body></html>"
    )


#: Columns shown wrapped (long text) rather than on one line.
_WRAPPED = {"violations", "uncertain", "error"}


def _interval(row, column: str) -> str:
    """A row's ``<column>`` with its interval ``<column>_lo``..``_hi``, one unit for all:
    ``7.43 ms [7.31, 7.56]``, ``1.5% [0.63, 2.4]``."""
    value, lo, hi = row.get(column), row.get(f"{column}_lo"), row.get(f"{column}_hi")
    if value is None or math.isnan(value):
        return "–"
    if lo is None or hi is None or math.isnan(lo) or math.isnan(hi):
        return _cell(value, column)
    if column.startswith("latency"):
        unit, factor = ("s", 1.0) if value >= 1 else ("ms", 1e3) if value >= 1e-3 else ("us", 1e6)
    elif column.startswith("energy"):
        unit, factor = ("J", 1.0) if value >= 1 else ("mJ", 1e3) if value >= 1e-3 else ("uJ", 1e6)
    else:
        unit, factor = "%", 100.0
    spacer = "" if unit == "%" else " "
    return f"{value * factor:.3g}{spacer}{unit} [{lo * factor:.3g}, {hi * factor:.3g}]"


def _cell(value, column: str) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if column.startswith("latency") or column.endswith("_s"):
        return format_time(float(value))
    if column.startswith("energy"):
        return format_energy(float(value))
    if column == "battery_life":
        return format_lifetime(float(value))
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
    """A formatted HTML table of ``columns`` of ``frame``; a column ``<name>_ci`` shows the
    interval of ``<name>_lo`` and ``<name>_hi``."""
    labels = labels or {}
    head = "".join(f"<th>{html.escape(labels.get(c, c))}</th>" for c in columns)
    rows = []
    for _, row in frame.iterrows():
        cls = row_class(row) if row_class else ""
        cells = "".join(
            f"<td class='{'wrap' if c in _WRAPPED else ''}'>"
            + (_interval(row, c.removesuffix("_ci")) if c.endswith("_ci") else _cell(row[c], c))
            + "</td>"
            for c in columns
        )
        rows.append(f"<tr class='{cls}'>{cells}</tr>")
    return f"<div class='scroll'><table class='data'><tr>{head}</tr>{''.join(rows)}</table></div>"


def accuracy_ticks(values) -> str:
    """A percent tick format fine enough to tell the plotted accuracies apart."""
    values = pd.Series(values, dtype=float).dropna()
    spread = float(values.max() - values.min()) if len(values) else 1.0
    return ".2%" if spread < 0.02 else ".1%"


def accuracy_range(values) -> list[float]:
    """An accuracy axis with a little room, never past 100 % or below 0."""
    known = pd.Series(values, dtype=float).dropna()
    if known.empty:
        return [0.0, 1.0]
    lo, hi = float(known.min()), float(known.max())
    pad = max((hi - lo) * 0.08, 0.002)
    return [max(lo - pad, 0.0), min(hi + pad, 1.0)]


#: What a sweep point or a design is judged by, in the tables of their reports, and the
#: headings (``{p}``: the QoS percentile).
STUDY_COLUMNS = {
    "status": "status",
    "feasible": "meets the QoS",
    "chosen": "configuration",
    "closest": "closest (none feasible)",
    "latency_qos_ci": "p{p} [95% interval]",
    "accuracy": "accuracy",
    "bytes_per_frame": "bytes on air per frame",
    "deadline_miss_ci": "deadline misses [95% interval]",
    "energy_per_frame": "energy per frame",
    "battery_life": "battery life",
    "error": "error",
}


def study_columns(
    table: pd.DataFrame, first: list[str], percentile: float, more: dict | None = None
):
    """The columns a study's table shows (``first``, then :data:`STUDY_COLUMNS` and
    ``more`` where the table has them) and their headings."""
    named = {**STUDY_COLUMNS, **(more or {})}
    shown = [c for c in [*first, *named] if c in table or (c.endswith("_ci") and c[:-3] in table)]
    labels = {c: label.format(p=f"{percentile:g}") for c, label in named.items()}
    return shown, labels
