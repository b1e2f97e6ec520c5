"""``sei sweep``: how the best configuration moves as the network (or any key) changes.

The grid is a cross product of scenario keys and their values, e.g.
``--grid network.bandwidth="1 Mbit/s,10 Mbit/s" --grid network.loss="0%,1%,3%"``. Every
point is a full simulation (see :mod:`splitetimpera.study`: resumable, parallel). The
sweep folder gets ``points.csv`` (one row per point: the chosen configuration and its
figures), ``sweep.csv`` (one row per point and configuration), ``run.json`` and
``report.html``: heatmaps of the chosen configuration and of its latency over each pair of
swept keys, and line plots along each key.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from .errors import ScenarioError, SeiError
from .pipeline import SUMMARY_COLUMNS, load_scenario, scenario_from_dict
from .report import sweep_report
from .results import (
    QOS_COLUMNS,
    check,
    prepare_folder,
    read_table,
    run_header,
    write_report,
    write_study,
)
from .scenario import Scenario, apply_overrides, check_key, read_yaml
from .store import records
from .study import Point, code_version, run_points

__all__ = ["Axis", "parse_grid", "run_sweep", "SweepResult", "rewrite_report", "POINT_COLUMNS"]


@dataclass(frozen=True)
class Axis:
    """A swept key and its values, in the order given."""

    key: str
    values: tuple


#: Columns of points.csv (one row per point) beyond the swept keys.
POINT_COLUMNS: dict[str, str] = {
    "point": "index of the point in the grid",
    "key": "the point's folder under points/",
    "status": "ok, failed (see error) or missing (not run yet)",
    "error": "why the point failed",
    "feasible": "True when a configuration meets the QoS at this point",
    "chosen": "the configuration the QoS matcher chose",
    "closest": "when none is feasible, the configuration closest to feasibility",
    "latency_qos": "latency of the chosen (or closest) configuration at the QoS percentile (s)",
    "latency_qos_lo": "lower end of its 95 % confidence interval (s)",
    "latency_qos_hi": "upper end of its 95 % confidence interval (s)",
    "accuracy": "its accuracy",
    "bytes_per_frame": "its bytes on air per frame",
    "deadline_miss": "its share of frames late or lost",
    "deadline_miss_lo": "lower end of that share's 95 % confidence interval",
    "deadline_miss_hi": "upper end of that share's 95 % confidence interval",
    "energy_per_frame": "its device energy per frame (J; NaN without power models)",
    "battery_life": "its battery life at the workload (s; NaN without a battery)",
}


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
    """``key=v1,v2`` strings to axes, each key checked against the scenario format (the
    values are checked when the points are built, see :func:`build_points`).

    Raises:
        ScenarioError: an unknown key, an empty value list or a repeated key or value.
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
        axes.append(Axis(key, values))
    return axes


def build_points(
    scenario: Path, axes: list[Axis], frames: int | None
) -> tuple[list[Point], Scenario]:
    """Every combination of the grid as a resolved point, and the base scenario.

    Raises:
        ScenarioError: a value the scenario format refuses, named ``--grid key=value``.
    """
    base = load_scenario(scenario)
    raw = read_yaml(Path(scenario))
    points = []
    for combo in itertools.product(*(a.values for a in axes)):
        label = {a.key: v for a, v in zip(axes, combo)}
        try:
            resolved = scenario_from_dict(apply_overrides(raw, label), str(scenario))
        except ScenarioError as exc:
            culprit = exc.key if exc.key in label else None
            where = (
                f"--grid {culprit}={label[culprit]}"
                if culprit
                else "--grid " + ", ".join(f"{k}={v}" for k, v in label.items())
            )
            raise ScenarioError(where, exc.key, exc.message) from None
        points.append(Point(label=label, scenario=resolved, frames=frames))
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
        return {
            "folder": str(self.folder),
            "axes": {a.key: list(a.values) for a in self.axes},
            "counts": self.counts,
            "seconds": self.seconds,
            "points": records(self.points),
        }


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
    prepare_folder(folder)
    study = {
        "axes": {a.key: list(a.values) for a in axes},
        "frames": frames,
        "executor": executor,
        "workers": workers,
        "code": code_version(),
    }

    def finish(table, rows, counts) -> None:
        run = run_header("sweep", base, time.perf_counter() - started)
        _write(folder, {**run, **study, "counts": counts}, axes, table, rows, base)

    table, rows, counts = run_points(
        points, folder, executor=executor, workers=workers, scheduler=scheduler,
        progress=progress, finish=finish,
    )  # fmt: skip
    return SweepResult(folder, axes, table, rows, counts, time.perf_counter() - started)


def _write(
    folder: Path, run: dict, axes: list[Axis], table: pd.DataFrame, rows: pd.DataFrame, base
) -> None:
    swept = {a.key: "a swept key's value at this point" for a in axes}
    write_study(
        folder,
        run,
        {"points.csv": table, "sweep.csv": rows},
        {
            "points.csv": {**swept, **POINT_COLUMNS},
            "sweep.csv": {
                "point": POINT_COLUMNS["point"],
                **swept,
                **SUMMARY_COLUMNS,
                **QOS_COLUMNS,
            },
        },
        sweep_report(base, axes, table, rows),
    )


def rewrite_report(folder: Path) -> Path:
    """Re-render a sweep's report from its files (``sei report``)."""
    run = check(folder)
    axes = [Axis(k, tuple(v)) for k, v in run["axes"].items()]
    dtype = {a.key: str for a in axes}
    table = read_table(folder, "points.csv", dtype)
    rows = read_table(folder, "sweep.csv", dtype)
    base = scenario_from_dict(run["scenario"], run.get("source"))
    return write_report(folder, sweep_report(base, axes, table, rows))
