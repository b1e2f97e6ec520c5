"""The simulation report: what it shows, and that a real browser renders it cleanly."""

from __future__ import annotations

import json
import re

import pytest

from splitetimpera.pipeline import load_scenario, simulate
from splitetimpera.report import simulation_report
from splitetimpera.results import write_result

from .browser import console_errors, render
from .conftest import BASE_SCENARIO


def _figures(html: str) -> list[dict]:
    """The plotly figures of a page: the data and layout of each ``Plotly.newPlot`` call."""
    decoder = json.JSONDecoder()
    out = []
    for match in re.finditer(r'Plotly\.newPlot\(\s*"[^"]+",\s*', html):
        data, end = decoder.raw_decode(html, match.end())
        layout, _ = decoder.raw_decode(html, html.index("{", end))
        out.append({"data": data, "layout": layout})
    return out


@pytest.fixture
def report(write_scenario):
    text = BASE_SCENARIO.replace("protocol: udp", "protocol: tcp")
    result = simulate(load_scenario(write_scenario(text)))
    return result, simulation_report(result)


def test_only_the_choice_and_the_feasible_pareto_curves_show_at_first(report):
    result, html = report
    summary = result.summary
    expected = set(summary.loc[summary["feasible"] & summary["pareto"], "config"]) | {
        result.qos.chosen
    }
    cdf = next(
        f
        for f in _figures(html)
        if f["layout"].get("xaxis", {}).get("title", {}).get("text") == "end-to-end latency (ms)"
    )
    shown = {t["name"] for t in cdf["data"] if t.get("visible", True) is True}
    hidden = {t["name"] for t in cdf["data"] if t.get("visible") == "legendonly"}
    assert shown == expected and shown | hidden == set(summary["config"])


def test_no_figure_title_sits_under_the_toolbar(report):
    _, html = report
    for figure in _figures(html):
        assert "text" not in figure["layout"].get("title", {}), figure["layout"]["title"]


def test_the_table_reads_as_words_with_intervals(report):
    _, html = report
    heads = re.findall(r"<th>([^<]*)</th>", html)
    assert "p95 [95% interval]" in heads and "deadline misses [95% interval]" in heads
    assert not [h for h in heads if "_" in h], "raw column names"
    assert re.search(r"<td class=''>[0-9.]+ ms \[[0-9.]+, [0-9.]+\]</td>", html)


def test_links_over_time_for_every_networked_configuration(report):
    result, html = report
    assert "Network over time" in html
    links = next(f for f in _figures(html) if f["layout"].get("updatemenus"))
    labels = [b["label"] for b in links["layout"]["updatemenus"][0]["buttons"]]
    assert set(labels) == set(result.summary.loc[result.summary["mode"] != "LC", "config"])
    assert labels[0] == result.qos.chosen or result.qos.chosen == "LC"


@pytest.mark.slow
def test_the_report_renders_in_a_real_browser(report, tmp_path):
    result, _ = report
    folder = write_result(result, tmp_path / "r")
    shot = tmp_path / "report.png"
    dom, console = render(folder / "report.html")
    assert not console_errors(console), console
    assert "Configurations" in dom and "main-svg" in dom  # plotly drew its figures
    render(folder / "report.html", screenshot=shot, height=2400)
    from PIL import Image

    assert Image.open(shot).size == (1400, 2400)
