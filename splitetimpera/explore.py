"""``sei explore``: design-space exploration over alternatives per dimension.

A spec (YAML) names a base scenario and, per dimension, its alternatives::

    name: wifi-designs
    base: scenarios/wifi.yaml
    samples: 24          # optional: a seeded random sample of the combinations
    seed: 0
    frames: 100          # optional: frames per device at every design
    dimensions:
      device.slowdown: [5, 10, 20]                 # one key, several values
      splits.compression: [[none], [int8], [bottleneck]]
      network:                                     # named alternatives setting several keys
        wifi: {network.bandwidth: "40 Mbit/s", network.delay: "2 ms"}
        lte: {network.bandwidth: "8 Mbit/s", network.delay: "20 ms", network.loss: "1%"}

Each design (a combination) is a full simulation whose QoS matcher picks a configuration;
a design's figures are those of its chosen configuration (or the closest one when none is
feasible). The Pareto-optimal designs over (latency at the QoS percentile, accuracy, bytes
on air per frame) are reported, with a parallel-coordinates plot of every design.
Designs are points of a :mod:`splitetimpera.study`: resumable and parallel, locally or on
Dask.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import ScenarioError
from .pipeline import SUMMARY_COLUMNS, load_scenario, scenario_from_dict
from .qos import pareto_front
from .report import explore_report
from .results import (
    QOS_COLUMNS,
    check,
    prepare_folder,
    read_table,
    run_header,
    write_report,
    write_study,
)
from .scenario import apply_overrides, check_key, read_yaml
from .store import records
from .study import Point, code_version, run_points
from .sweep import POINT_COLUMNS

__all__ = [
    "ExploreSpec",
    "CostSpec",
    "load_spec",
    "designs",
    "run_explore",
    "ExploreResult",
    "pareto_groups",
    "rewrite_report",
]


class CostSpec(BaseModel):
    """A cost of each design to minimise beside latency, accuracy and bytes: the sum over
    dimensions of its alternatives' costs (board price, energy, ...)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: What it is, with its unit, for tables and axes (``board price (USD)``).
    name: str = "cost"
    #: Per dimension, each alternative's cost (by the label the report shows).
    per: dict[str, dict[str, float]]

    @field_validator("per", mode="before")
    @classmethod
    def _labels(cls, value):
        # alternatives such as device.slowdown: [5, 10] are labelled "5", "10"
        if isinstance(value, dict):
            return {
                str(dim): {str(k): v for k, v in costs.items()}
                if isinstance(costs, dict)
                else costs
                for dim, costs in value.items()
            }
        return value


class ExploreSpec(BaseModel):
    """A design space: a base scenario and alternatives per dimension."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    base: str
    dimensions: dict[str, list[Any] | dict[str, dict[str, Any]]]
    samples: int | None = Field(default=None, gt=0)
    seed: int = Field(default=0, ge=0)
    frames: int | None = Field(default=None, gt=0)
    cost: CostSpec | None = None
    source: str | None = Field(default=None, exclude=True)

    def design_cost(self, label: dict) -> float:
        """A design's cost (0 without a ``cost`` section)."""
        if self.cost is None:
            return 0.0
        return float(sum(self.cost.per.get(dim, {}).get(str(label[dim]), 0.0) for dim in label))

    @field_validator("dimensions")
    @classmethod
    def _nonempty(cls, value):
        if not value:
            raise ValueError("name at least one dimension")
        for key, alternatives in value.items():
            if not alternatives:
                raise ValueError(f"{key}: give at least one alternative")
        return value

    def alternatives(self) -> list[tuple[str, list[tuple[str, dict]]]]:
        """Per dimension: (name, [(label, overrides)])."""
        out = []
        for key, alts in self.dimensions.items():
            if isinstance(alts, dict):
                out.append((key, [(str(label), dict(sets)) for label, sets in alts.items()]))
            else:
                out.append((key, [(_label(v), {key: v}) for v in alts]))
        return out

    @property
    def size(self) -> int:
        return math.prod(len(a) for _, a in self.alternatives())


def _label(value) -> str:
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, str) and value.endswith(".pt"):
        return Path(value).stem  # a saved (e.g. pruned) model, by its file name
    return str(value)


def load_spec(path: str | Path) -> ExploreSpec:
    """Read and check a spec: every key and every alternative against the base scenario."""
    path = Path(path)
    data = read_yaml(path)
    source = str(path)
    try:
        spec = ExploreSpec.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        key = ".".join(str(p) for p in err.get("loc", ()))
        msg = err.get("msg", "").removeprefix("Value error, ")
        if err.get("type") == "extra_forbidden":
            msg = "unknown key; allowed: name, base, dimensions, samples, seed, frames, cost"
        raise ScenarioError(source, key or None, msg) from None
    spec = spec.model_copy(update={"source": source})
    _check_cost(spec, source)
    base = Path(spec.base)
    if not base.is_file():
        raise ScenarioError(source, "base", f"no scenario at {spec.base!r}")
    load_scenario(base)
    raw = read_yaml(base)
    for dim, alts in spec.alternatives():
        for label, sets in alts:
            for key in sets:
                check_key(key, source)
            try:
                scenario_from_dict(apply_overrides(raw, sets), str(base))
            except ScenarioError as exc:
                # an alternative may need another dimension's (a pruned model, the
                # hardware that has its profile): it is wrong only if it fits no design
                if not _fits_some_design(spec, base, raw, dim, label):
                    raise ScenarioError(
                        source, f"dimensions.{dim}", f"{label}: {exc.key}: {exc.message}"
                    ) from None
    return spec


def _check_cost(spec: ExploreSpec, source: str) -> None:
    """Every costed dimension and alternative exists, and every alternative of a costed
    dimension has a cost."""
    if spec.cost is None:
        return
    labels = {dim: [label for label, _ in alts] for dim, alts in spec.alternatives()}
    for dim, costs in spec.cost.per.items():
        if dim not in labels:
            raise ScenarioError(
                source, f"cost.per.{dim}", f"not a dimension; dimensions: {', '.join(labels)}"
            )
        unknown = [a for a in costs if a not in labels[dim]]
        missing = [a for a in labels[dim] if a not in costs]
        if unknown or missing:
            which = f"no alternative {unknown[0]!r}" if unknown else f"no cost for {missing[0]!r}"
            raise ScenarioError(
                source, f"cost.per.{dim}", f"{which}; its alternatives: {', '.join(labels[dim])}"
            )


def _fits_some_design(
    spec: ExploreSpec, base: Path, raw: dict, dim: str, label: str, tries: int = 2000
) -> bool:
    """True when some design with this alternative is a valid scenario (first ``tries``)."""
    every = designs(spec.model_copy(update={"samples": None}))
    with_it = (overrides for labels, overrides in every if labels[dim] == label)
    for _, overrides in zip(range(tries), with_it):
        try:
            scenario_from_dict(apply_overrides(raw, overrides), str(base))
            return True
        except ScenarioError:
            continue
    return False


def designs(spec: ExploreSpec) -> list[tuple[dict, dict]]:
    """The (label, overrides) of every design evaluated: all, or a seeded sample."""
    alts = spec.alternatives()
    sizes = [len(a) for _, a in alts]
    total = math.prod(sizes)
    if spec.samples is not None and spec.samples < total:
        rng = np.random.default_rng(spec.seed)
        indices = sorted(int(i) for i in rng.choice(total, size=spec.samples, replace=False))
    else:
        indices = list(range(total))
    out = []
    for index in indices:
        label, overrides = {}, {}
        rest = index
        for (dim, options), size in zip(reversed(alts), reversed(sizes)):
            rest, choice = divmod(rest, size)
            name, sets = options[choice]
            label[dim] = name
            overrides.update(sets)
        out.append(({d: label[d] for d, _ in alts}, overrides))
    return out


@dataclass
class ExploreResult:
    folder: Path
    spec: ExploreSpec
    designs: pd.DataFrame
    counts: dict
    seconds: float
    invalid: list[dict] = field(default_factory=list)  # combinations that are no scenario

    @property
    def pareto(self) -> pd.DataFrame:
        return self.designs[self.designs["pareto"]]

    @property
    def pareto_groups(self) -> pd.DataFrame:
        """The Pareto-optimal designs, exact ties merged (:func:`pareto_groups`)."""
        return pareto_groups(self.designs, self.spec)

    def to_dict(self) -> dict:
        return {
            "folder": str(self.folder),
            "space": self.spec.size,
            "evaluated": len(self.designs),
            "counts": self.counts,
            "pareto": records(self.pareto),
            "pareto_groups": records(self.pareto_groups),
            "designs": records(self.designs),
            "invalid": self.invalid,
            "seconds": self.seconds,
        }


def run_explore(
    spec: ExploreSpec,
    *,
    samples: int | None = None,
    executor: str = "local",
    workers: int = 1,
    scheduler: str | None = None,
    output: Path | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> ExploreResult:
    """Evaluate the designs (all, or ``samples`` of them) and report the Pareto-optimal ones."""
    started = time.perf_counter()
    if samples is not None:
        spec = spec.model_copy(update={"samples": samples})
    base_path = Path(spec.base)
    base = load_scenario(base_path)
    raw = read_yaml(base_path)
    points, invalid = [], []
    for label, overrides in designs(spec):
        try:
            resolved = scenario_from_dict(apply_overrides(raw, overrides), str(base_path))
        except ScenarioError as exc:  # a combination that is no scenario: left out, and said
            invalid.append({**label, "error": f"{exc.key}: {exc.message}"})
            continue
        points.append(Point(label=label, scenario=resolved, frames=spec.frames))
    if not points:
        raise ScenarioError(
            spec.source, "dimensions", f"no design is a valid scenario: {invalid[0]['error']}"
        )
    folder = Path(output) if output else Path(base.output) / f"{spec.name}-explore"
    prepare_folder(folder)
    marked: dict[str, pd.DataFrame] = {}

    def finish(table, rows, counts) -> None:
        run = run_header("explore", base, time.perf_counter() - started)
        marked["table"] = _write(folder, spec, run, base, table, rows, counts, invalid)

    _, _, counts = run_points(
        points, folder, executor=executor, workers=workers, scheduler=scheduler,
        progress=progress, finish=finish,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    return ExploreResult(folder, spec, marked["table"], counts, seconds, invalid)


def _mark_pareto(table: pd.DataFrame, costed: bool) -> pd.DataFrame:
    table = table.copy()
    table["pareto"] = False
    ok = table["status"] == "ok"
    if ok.any():
        pool = (
            table[ok & table["feasible"].astype(bool)]
            if (ok & table["feasible"].astype(bool)).any()
            else table[ok]
        )
        mask = pareto_front(pool.reset_index(drop=True), ("cost",) if costed else ())
        table.loc[pool.index[mask], "pareto"] = True
    return table


#: What makes two Pareto-optimal designs ties: the same configuration and figures.
_TIE = (
    "chosen",
    "closest",
    "latency_qos",
    "accuracy",
    "bytes_per_frame",
    "energy_per_frame",
    "cost",
)


def pareto_groups(designs: pd.DataFrame, spec: ExploreSpec) -> pd.DataFrame:
    """The Pareto-optimal designs with exact ties merged: one row per distinct outcome,
    each dimension's alternatives joined (``any`` when all of them tie), and ``designs``
    (how many designs the row stands for)."""
    pareto = designs[designs["pareto"].astype(bool)] if "pareto" in designs else designs.iloc[0:0]
    if pareto.empty:
        return pareto.assign(designs=[])
    keys = [k for k in _TIE if k in pareto]
    labels = {dim: [label for label, _ in alts] for dim, alts in spec.alternatives()}
    rows = []
    for _, group in pareto.groupby(keys, sort=False, dropna=False):
        row = group.iloc[0].to_dict()
        for dim in spec.dimensions:
            seen = list(dict.fromkeys(group[dim].astype(str)))
            row[dim] = "any" if len(seen) == len(labels[dim]) > 1 else ", ".join(seen)
        row["designs"] = len(group)
        rows.append(row)
    return pd.DataFrame(rows).sort_values("latency_qos").reset_index(drop=True)


def _write(
    folder: Path,
    spec: ExploreSpec,
    run: dict,
    base,
    table: pd.DataFrame,
    rows: pd.DataFrame,
    counts: dict,
    invalid: list[dict],
) -> pd.DataFrame:
    if "feasible" in table:
        table["feasible"] = table["feasible"].fillna(False).astype(bool)
    dims = list(spec.dimensions)
    if spec.cost is not None and len(table):
        table["cost"] = [spec.design_cost(r) for r in table[dims].to_dict(orient="records")]
    costed = spec.cost is not None
    table = _mark_pareto(table, costed) if "feasible" in table else table.assign(pareto=False)
    run = {
        **run,
        "spec": spec.model_dump(mode="json"),
        "spec_source": spec.source,
        "space": spec.size,
        "evaluated": len(table),
        "code": code_version(),
        "counts": counts,
        "invalid": invalid,
    }
    dims = {d: "the design's alternative of this dimension" for d in spec.dimensions}
    energy = "energy_per_frame" in table and table["energy_per_frame"].notna().any()
    objectives = "latency, accuracy, bytes" + (", energy" if energy else "")
    objectives += f" and {spec.cost.name}" if costed else ""
    pareto = {"pareto": f"True when no other design is better on {objectives} at once"}
    if costed:
        pareto["cost"] = f"{spec.cost.name}: the sum of the design's alternatives' costs"
    write_study(
        folder,
        run,
        {"designs.csv": table, "explore.csv": rows},
        {
            "designs.csv": {**dims, **POINT_COLUMNS, **pareto},
            "explore.csv": {
                "point": POINT_COLUMNS["point"],
                **dims,
                **SUMMARY_COLUMNS,
                **QOS_COLUMNS,
            },
        },
        explore_report(spec, base, table, invalid, pareto_groups(table, spec)),
    )
    return table


def rewrite_report(folder: Path) -> Path:
    """Re-render an exploration's report from its files (``sei report``)."""
    run = check(folder)
    spec = ExploreSpec.model_validate(run["spec"]).model_copy(
        update={"source": run.get("spec_source")}
    )
    table = read_table(folder, "designs.csv", {d: str for d in spec.dimensions})
    base = scenario_from_dict(run["scenario"], run.get("source"))
    groups = pareto_groups(table, spec)
    return write_report(folder, explore_report(spec, base, table, run.get("invalid"), groups))
