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
from .qos import pareto_front
from .results import atomic_write_text, write_csv
from .scenario import _read_yaml, apply_overrides, load_scenario, read_raw, scenario_from_dict
from .study import Point, code_version, run_points
from .sweep import check_key

__all__ = ["ExploreSpec", "load_spec", "designs", "run_explore", "ExploreResult", "rewrite_report"]


class ExploreSpec(BaseModel):
    """A design space: a base scenario and alternatives per dimension."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    base: str
    dimensions: dict[str, list[Any] | dict[str, dict[str, Any]]]
    samples: int | None = Field(default=None, gt=0)
    seed: int = Field(default=0, ge=0)
    frames: int | None = Field(default=None, gt=0)
    source: str | None = Field(default=None, exclude=True)

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
    data = _read_yaml(path)
    source = str(path)
    try:
        spec = ExploreSpec.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        key = ".".join(str(p) for p in err.get("loc", ()))
        msg = err.get("msg", "").removeprefix("Value error, ")
        if err.get("type") == "extra_forbidden":
            msg = "unknown key; allowed: name, base, dimensions, samples, seed, frames"
        raise ScenarioError(source, key or None, msg) from None
    spec = spec.model_copy(update={"source": source})
    base = Path(spec.base)
    if not base.is_file():
        raise ScenarioError(source, "base", f"no scenario at {spec.base!r}")
    load_scenario(base)
    for dim, alts in spec.alternatives():
        for label, sets in alts:
            for key in sets:
                check_key(key, source)
            try:
                load_scenario(base, sets)
            except ScenarioError as exc:
                # an alternative may need another dimension's (a pruned model, the
                # hardware that has its profile): it is wrong only if it fits no design
                if not _fits_some_design(spec, base, dim, label):
                    raise ScenarioError(
                        source, f"dimensions.{dim}", f"{label}: {exc.key}: {exc.message}"
                    ) from None
    return spec


def _fits_some_design(
    spec: ExploreSpec, base: Path, dim: str, label: str, tries: int = 2000
) -> bool:
    """True when some design with this alternative is a valid scenario (first ``tries``)."""
    every = designs(spec.model_copy(update={"samples": None}))
    with_it = (overrides for labels, overrides in every if labels[dim] == label)
    for _, overrides in zip(range(tries), with_it):
        try:
            load_scenario(base, overrides)
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

    def to_dict(self) -> dict:
        from .cli import records

        return {
            "folder": str(self.folder),
            "space": self.spec.size,
            "evaluated": len(self.designs),
            "counts": self.counts,
            "pareto": records(self.pareto),
            "designs": records(self.designs),
            "invalid": self.invalid,
            "seconds": self.seconds,
        }

    def print(self, console) -> None:
        from rich.table import Table

        from .units import format_fraction, format_size, format_time

        dims = list(self.spec.dimensions)
        t = Table(
            title=f"{len(self.pareto)} Pareto-optimal of {len(self.designs)} designs evaluated (space: {self.spec.size})",
            title_justify="left",
        )
        for d in dims:
            t.add_column(d)
        for col in ("QoS", "configuration", "latency", "accuracy", "bytes/frame"):
            t.add_column(col)
        for _, r in self.pareto.sort_values("latency_qos").iterrows():
            ok = "[green]met[/green]" if r["feasible"] else "[red]not met[/red]"
            t.add_row(
                *[str(r[d]) for d in dims], ok, str(r["chosen"] or r["closest"]), format_time(r["latency_qos"]),
                format_fraction(r["accuracy"]), format_size(r["bytes_per_frame"]),
            )  # fmt: skip
        console.print(t)
        if self.invalid:
            first = self.invalid[0]
            which = ", ".join(f"{d}={first[d]}" for d in dims)
            console.print(
                f"[yellow]{len(self.invalid)} design(s) left out: not valid scenarios[/yellow] "
                f"(e.g. {which}: {first['error']})"
            )
        console.print(f"Written {self.folder / 'designs.csv'} and {self.folder / 'report.html'}")


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
    raw = read_raw(base_path)
    points, invalid = [], []
    for label, overrides in designs(spec):
        try:
            resolved = scenario_from_dict(apply_overrides(raw, overrides), str(base_path))
        except ScenarioError as exc:  # a combination that is no scenario: left out, and said
            invalid.append({**label, "error": f"{exc.key}: {exc.message}"})
            continue
        points.append(
            Point(
                label=label,
                scenario=resolved.model_dump(mode="json"),
                source=str(base_path),
                frames=spec.frames,
            )  # fmt: skip
        )
    if not points:
        raise ScenarioError(
            spec.source, "dimensions", f"no design is a valid scenario: {invalid[0]['error']}"
        )
    folder = Path(output) if output else Path(base.output) / f"{spec.name}-explore"
    folder.mkdir(parents=True, exist_ok=True)
    marked: dict[str, pd.DataFrame] = {}

    def finish(table, rows, counts) -> None:
        seconds = time.perf_counter() - started
        meta = {**counts, "seconds": seconds, "invalid": invalid}
        marked["table"] = _write(folder, spec, base, table, rows, meta)

    _, _, counts = run_points(
        points, folder, executor=executor, workers=workers, scheduler=scheduler,
        progress=progress, finish=finish,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    return ExploreResult(folder, spec, marked["table"], counts, seconds, invalid)


def _mark_pareto(table: pd.DataFrame) -> pd.DataFrame:
    table = table.copy()
    table["pareto"] = False
    ok = table["status"] == "ok"
    if ok.any():
        pool = (
            table[ok & table["feasible"].astype(bool)]
            if (ok & table["feasible"].astype(bool)).any()
            else table[ok]
        )
        mask = pareto_front(pool.reset_index(drop=True))
        table.loc[pool.index[mask], "pareto"] = True
    return table


def _write(
    folder: Path, spec: ExploreSpec, base, table: pd.DataFrame, rows: pd.DataFrame, counts: dict
) -> pd.DataFrame:
    if "feasible" in table:
        table["feasible"] = table["feasible"].fillna(False).astype(bool)
    table = _mark_pareto(table) if "feasible" in table else table.assign(pareto=False)
    write_csv(table, folder / "designs.csv")
    if not rows.empty:
        write_csv(rows, folder / "explore.csv")
    meta = {
        "spec": spec.model_dump(mode="json"),
        "source": spec.source,
        "space": spec.size,
        "evaluated": len(table),
        "code": code_version(),
        **counts,
    }
    atomic_write_text(folder / "explore.json", json.dumps(meta, indent=2, default=str) + "\n")
    from .report import explore_report

    atomic_write_text(
        folder / "report.html", explore_report(spec, base, table, counts.get("invalid"))
    )
    return table


def rewrite_report(folder: Path) -> Path:
    """Re-render an exploration's report from its files (``sei report``)."""
    meta = json.loads((folder / "explore.json").read_text())
    spec = ExploreSpec.model_validate(meta["spec"]).model_copy(
        update={"source": meta.get("source")}
    )
    dims = {d: str for d in spec.dimensions}
    table = pd.read_csv(folder / "designs.csv", dtype=dims)
    base = load_scenario(spec.base)
    from .report import explore_report

    path = folder / "report.html"
    atomic_write_text(path, explore_report(spec, base, table, meta.get("invalid")))
    return path
