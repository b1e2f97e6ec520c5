"""``sei sweep``: how the best configuration moves as the network (or any key) changes.

The grid is a cross product of scenario keys and their values, e.g.
``--grid network.bandwidth="1 Mbit/s,10 Mbit/s" --grid network.loss="0%,1%,3%"``. Every
point is a full simulation (see :mod:`splitetimpera.study`: resumable, parallel). The
sweep folder gets ``points.csv`` (one row per point: the chosen configuration and its
figures), ``sweep.csv`` (one row per point and configuration), ``sweep.json`` and
``report.html``: heatmaps of the chosen configuration and of its latency over each pair of
swept keys, and line plots along each key.
"""

from __future__ import annotations

import difflib
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import BaseModel

from .errors import ScenarioError, SeiError
from .results import atomic_write_text, write_csv
from .scenario import (
    Scenario,
    _model_in,
    apply_overrides,
    load_scenario,
    read_raw,
    scenario_from_dict,
)
from .study import Point, code_version, run_points

__all__ = ["Axis", "parse_grid", "check_key", "run_sweep", "SweepResult", "rewrite_report"]


@dataclass(frozen=True)
class Axis:
    """A swept key and its values, in the order given."""

    key: str
    values: tuple


def check_key(key: str, source: str | None = None) -> None:
    """Raise a one-line ScenarioError unless ``key`` is a dotted path of the scenario format."""
    model: Any = Scenario
    walked = []
    for part in key.split("."):
        fields = {n: f for n, f in model.model_fields.items() if not f.exclude}
        if part not in fields:
            close = difflib.get_close_matches(part, list(fields), n=1)
            hint = f"; did you mean {'.'.join([*walked, close[0]])!r}?" if close else ""
            where = ".".join(walked) or "the top level"
            raise ScenarioError(
                source, key, f"unknown key{hint} ({where} has: {', '.join(fields)})"
            )
        walked.append(part)
        inner = _model_in(fields[part].annotation)
        if inner is None or not (isinstance(inner, type) and issubclass(inner, BaseModel)):
            if part != key.split(".")[-1]:
                raise ScenarioError(source, key, f"{'.'.join(walked)!r} is a value, not a section")
            return
        model = inner


def _values(text: str) -> tuple:
    parts = [p.strip().strip("'\"") for p in text.split(",")]
    if not parts or any(p == "" for p in parts):
        raise ValueError("empty value")
    out = []
    for p in parts:
        parsed = yaml.safe_load(p)
        out.append(
            parsed if isinstance(parsed, (int, float, bool)) and not isinstance(parsed, str) else p
        )
    return tuple(out)


def parse_grid(specs: list[str], scenario: Path) -> list[Axis]:
    """``key=v1,v2`` strings to axes, each key and value validated against the scenario.

    Raises:
        ScenarioError: an unknown key, an empty value list, or a value the scenario
            format refuses (the message names the key and the value).
    """
    if not specs:
        raise SeiError(
            '--grid: give at least one swept key, e.g. --grid network.bandwidth="1 Mbit/s,10 Mbit/s"'
        )
    axes: list[Axis] = []
    for spec in specs:
        if "=" not in spec:
            raise SeiError(
                f"--grid {spec!r}: write it as key=value1,value2 (e.g. network.loss=0%,1%)"
            )
        key, text = spec.split("=", 1)
        key = key.strip()
        check_key(key, "--grid")
        if key in {a.key for a in axes}:
            raise SeiError(f"--grid {key}: the key is swept twice")
        try:
            values = _values(text)
        except ValueError:
            raise SeiError(
                f"--grid {key}: give values separated by commas, e.g. {key}=a,b"
            ) from None
        if len(set(map(str, values))) != len(values):
            raise SeiError(f"--grid {key}: a value is repeated")
        for value in values:
            try:
                load_scenario(scenario, {key: value})
            except ScenarioError as exc:
                raise ScenarioError(f"--grid {key}={value}", exc.key, exc.message) from None
        axes.append(Axis(key, values))
    return axes


def build_points(
    scenario: Path, axes: list[Axis], frames: int | None
) -> tuple[list[Point], Scenario]:
    base_raw = read_raw(scenario)
    base = load_scenario(scenario)
    points = []
    for combo in itertools.product(*(a.values for a in axes)):
        label = {a.key: v for a, v in zip(axes, combo)}
        s = scenario_from_dict(apply_overrides(base_raw, label), str(scenario))
        points.append(
            Point(
                label=label, scenario=s.model_dump(mode="json"), source=str(scenario), frames=frames
            )
        )
    return points, base


@dataclass
class SweepResult:
    """A finished (or partly finished) sweep."""

    folder: Path
    axes: list[Axis]
    points: pd.DataFrame
    rows: pd.DataFrame
    counts: dict
    seconds: float

    def to_dict(self) -> dict:
        from .cli import records

        return {
            "folder": str(self.folder),
            "axes": {a.key: list(a.values) for a in self.axes},
            "counts": self.counts,
            "seconds": self.seconds,
            "points": records(self.points),
        }

    def print(self, console) -> None:
        from rich.table import Table

        from .units import format_fraction, format_time

        t = Table(
            title=f"sweep: {self.counts['points']} points ({self.counts['reused']} reused, {self.counts['failed']} failed)",
            title_justify="left",
        )
        for a in self.axes:
            t.add_column(a.key)
        for col in ("chosen", "latency", "accuracy"):
            t.add_column(col)
        for _, r in self.points.iterrows():
            if r["status"] != "ok":
                cells = ["[red]failed[/red]", "", str(r["error"])[:60]]
            else:
                name = r["chosen"] or f"[red]none[/red] (closest {r['closest']})"
                cells = [name, format_time(r["latency_qos"]), format_fraction(r["accuracy"])]
            t.add_row(*[str(r[a.key]) for a in self.axes], *cells)
        console.print(t)
        console.print(
            f"Written {self.folder / 'points.csv'}, {self.folder / 'sweep.csv'} and {self.folder / 'report.html'}"
        )


def run_sweep(
    scenario: Path,
    axes: list[Axis],
    *,
    executor: str = "local",
    workers: int = 1,
    scheduler: str | None = None,
    frames: int | None = None,
    output: Path | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> SweepResult:
    """Run (or finish) a sweep; see the module docstring for what it writes."""
    started = time.perf_counter()
    points, base = build_points(scenario, axes, frames)
    folder = Path(output) if output else Path(base.output) / f"{base.name}-sweep"
    folder.mkdir(parents=True, exist_ok=True)
    meta = {
        "scenario": str(scenario),
        "name": base.name,
        "axes": {a.key: list(a.values) for a in axes},
        "frames": frames,
        "executor": executor,
        "workers": workers,
        "code": code_version(),
        "qos": base.qos.model_dump(mode="json"),
    }

    def finish(table, rows, counts) -> None:
        seconds = time.perf_counter() - started
        _write(folder, {**meta, "counts": counts, "seconds": seconds}, axes, table, rows, base)

    table, rows, counts = run_points(
        points, folder, executor=executor, workers=workers, scheduler=scheduler,
        progress=progress, finish=finish,
    )  # fmt: skip
    return SweepResult(folder, axes, table, rows, counts, time.perf_counter() - started)


def _write(
    folder: Path,
    meta: dict,
    axes: list[Axis],
    table: pd.DataFrame,
    rows: pd.DataFrame,
    base,
) -> None:
    write_csv(table, folder / "points.csv")
    if not rows.empty:
        write_csv(rows, folder / "sweep.csv")
    atomic_write_text(folder / "sweep.json", json.dumps(meta, indent=2, default=str) + "\n")
    from .report import sweep_report

    atomic_write_text(folder / "report.html", sweep_report(base, axes, table, rows))


def rewrite_report(folder: Path) -> Path:
    """Re-render a sweep's report from its files (``sei report``)."""
    meta = json.loads((folder / "sweep.json").read_text())
    axes = [Axis(k, tuple(v)) for k, v in meta["axes"].items()]
    table = pd.read_csv(folder / "points.csv", dtype={a.key: str for a in axes})
    rows = (
        pd.read_csv(folder / "sweep.csv", dtype={a.key: str for a in axes})
        if (folder / "sweep.csv").is_file()
        else pd.DataFrame()
    )
    base = load_scenario(meta["scenario"])
    from .report import sweep_report

    path = folder / "report.html"
    atomic_write_text(path, sweep_report(base, axes, table, rows))
    return path
