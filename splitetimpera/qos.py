"""QoS matching: which configuration meets the constraints, which breaks what, which wins.

Given the per-configuration summary of a simulation and the scenario's ``qos`` section,
:func:`match` returns every configuration with a feasible flag, each constraint it breaks
and by how much, the Pareto front over (latency at the QoS percentile, accuracy, bytes on
air per frame, and energy per frame where the scenario has power models), and the
configuration the objective chooses among the feasible ones.
When none is feasible it names the configuration closest to feasibility (smallest summed
relative violation) so that a caller can say what change would make it feasible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .units import format_energy, format_fraction, format_lifetime, format_time

__all__ = [
    "Constraint",
    "CONSTRAINTS",
    "Violation",
    "QosResult",
    "match",
    "pareto_front",
    "describe_limits",
    "Uncertain",
]


@dataclass(frozen=True)
class Constraint:
    """One QoS constraint: a summary column bounded above or below by a ``qos`` key."""

    key: str  # the qos key holding the limit
    column: str  # the summary column it bounds
    upper: bool  # True: value must be <= limit; False: value must be >= limit
    label: str
    kind: str  # how to format values: time, fraction, rate, energy, lifetime

    def show(self, value: float) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "unknown"
        if self.kind == "time":
            return format_time(value)
        if self.kind == "fraction":
            return format_fraction(value)
        if self.kind == "energy":
            return format_energy(value)
        if self.kind == "lifetime":
            return format_lifetime(value)
        return f"{value:.4g} fps"


CONSTRAINTS: tuple[Constraint, ...] = (
    Constraint("min_accuracy", "accuracy", False, "accuracy", "fraction"),
    Constraint("max_latency", "latency_qos", True, "latency", "time"),
    Constraint("max_deadline_miss", "deadline_miss", True, "deadline misses", "fraction"),
    Constraint("min_throughput", "throughput", False, "throughput", "rate"),
    Constraint("max_device_utilization", "device_util", True, "device utilisation", "fraction"),
    Constraint("max_energy", "energy_per_frame", True, "energy per frame", "energy"),
    Constraint("min_battery_life", "battery_life", False, "battery life", "lifetime"),
)


@dataclass(frozen=True)
class Violation:
    """A constraint broken by a configuration.

    Attributes:
        constraint: the qos key (e.g. ``max_latency``).
        value: the configuration's figure.
        limit: the bound.
        excess: relative distance to the bound (0.5 = 50 % past it; inf when unknown).
        text: one line, e.g. ``p95 latency 212 ms > 100 ms``.
    """

    constraint: str
    value: float
    limit: float
    excess: float
    text: str


@dataclass(frozen=True)
class Uncertain:
    """A constraint whose verdict hangs on a confidence interval that straddles its limit.

    Attributes:
        constraint: the qos key.
        value, lo, hi: the estimate and its 95 % interval.
        limit: the bound.
        factor: about how many times the frames would settle it (None: no run length,
            the estimate sits on the limit).
        text: one line, e.g. ``p95 latency 39.1 ms [35.2, 43.0] straddles 40 ms``.
    """

    constraint: str
    value: float
    lo: float
    hi: float
    limit: float
    factor: float | None
    text: str


@dataclass
class QosResult:
    """The matcher's answer.

    Attributes:
        table: the summary with ``feasible``, ``violations`` (text), ``excess`` (summed
            relative violation), ``pareto`` and ``chosen`` columns.
        chosen: id of the chosen configuration, or None when nothing is feasible.
        closest: when nothing is feasible, the configuration nearest to feasibility.
        violations: config id to its violations.
        objective: the objective used.
        explanation: one paragraph a person can read.
        uncertain: config id to the constraints whose verdict hangs on an interval.
        warnings: what a person should know about the choice (its verdict hangs on an
            interval; its p99 misses the deadline).
    """

    table: pd.DataFrame
    chosen: str | None
    closest: str | None
    violations: dict[str, list[Violation]] = field(default_factory=dict)
    objective: str = "latency"
    explanation: str = ""
    uncertain: dict[str, list[Uncertain]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            **{
                key: getattr(self, key) for key in ("chosen", "closest", "objective", "explanation")
            },
            "feasible": [c for c, v in self.violations.items() if not v],
            "warnings": self.warnings,
            "uncertain": {
                c: [
                    {
                        "constraint": u.constraint,
                        "value": _clean(u.value),
                        "interval": [_clean(u.lo), _clean(u.hi)],
                        "limit": u.limit,
                        "frames_factor": _clean(u.factor),
                        "text": u.text,
                    }
                    for u in us
                ]
                for c, us in self.uncertain.items()
                if us
            },
            "pareto": self.table.loc[self.table["pareto"], "config"].tolist(),
            "violations": {
                c: [
                    {
                        "constraint": v.constraint,
                        "value": _clean(v.value),
                        "limit": v.limit,
                        "excess": _clean(v.excess),
                        "text": v.text,
                    }
                    for v in vs
                ]
                for c, vs in self.violations.items()
            },
        }


def _clean(x: float):
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else x


def _label(constraint: Constraint, percentile: float) -> str:
    if constraint.key == "max_latency":
        return f"p{percentile:g} latency"
    return constraint.label


def _violations(row: pd.Series, qos) -> list[Violation]:
    out: list[Violation] = []
    for c in CONSTRAINTS:
        limit = getattr(qos, c.key)
        if limit is None:
            continue
        value = float(row[c.column])
        label = _label(c, qos.percentile)
        if math.isnan(value):
            out.append(Violation(c.key, value, limit, math.inf, f"{label} unknown"))
            continue
        broken = value > limit + 1e-12 if c.upper else value < limit - 1e-12
        if not broken:
            continue
        scale = abs(limit) if limit else 1.0
        excess = (value - limit) / scale if c.upper else (limit - value) / scale
        sign = ">" if c.upper else "<"
        out.append(
            Violation(
                c.key, value, limit, excess, f"{label} {c.show(value)} {sign} {c.show(limit)}"
            )
        )
    return out


def _uncertain(row: pd.Series, qos) -> list[Uncertain]:
    """The constraints whose interval (``<column>_lo``/``_hi`` in the summary) straddles
    the limit, so that a longer run could change the verdict."""
    out = []
    for c in CONSTRAINTS:
        limit = getattr(qos, c.key)
        lo_col, hi_col = f"{c.column}_lo", f"{c.column}_hi"
        if limit is None or lo_col not in row or hi_col not in row:
            continue
        value, lo, hi = float(row[c.column]), float(row[lo_col]), float(row[hi_col])
        if any(math.isnan(x) for x in (value, lo, hi)) or not lo <= limit <= hi or lo == hi:
            continue
        half = max(hi - value, value - lo)
        distance = abs(value - limit)
        factor = (half / distance) ** 2 if distance > 0 else None
        label = _label(c, qos.percentile)
        text = f"{label} {c.show(value)} [{c.show(lo)}, {c.show(hi)}] straddles {c.show(limit)}"
        out.append(Uncertain(c.key, value, lo, hi, limit, factor, text))
    return out


def describe_limits(qos) -> list[str]:
    """The scenario's constraints as short phrases: ``p95 latency ≤ 40 ms``."""
    out = []
    for c in CONSTRAINTS:
        limit = getattr(qos, c.key)
        if limit is not None:
            out.append(f"{_label(c, qos.percentile)} {'≤' if c.upper else '≥'} {c.show(limit)}")
    return out


def pareto_front(table: pd.DataFrame, minimise: tuple[str, ...] = ()) -> np.ndarray:
    """Mask of rows no other beats on latency, accuracy, bytes and energy (and
    ``minimise``) at once.

    Lower latency (at the QoS percentile), higher accuracy, fewer bytes per frame and less
    energy per frame are better; unknown accuracy counts as the worst, unknown latency (all
    frames lost) too. Energy counts where the table has it for some row (a scenario with
    power models); a row whose energy is unknown counts as the worst. ``minimise`` names
    more columns where lower is better (a design's cost).
    """
    lat = table["latency_qos"].fillna(np.inf).to_numpy(dtype=float)
    acc = -table["accuracy"].fillna(-1.0).to_numpy(dtype=float)
    byt = table["bytes_per_frame"].fillna(np.inf).to_numpy(dtype=float)
    if "energy_per_frame" in table and table["energy_per_frame"].notna().any():
        minimise = ("energy_per_frame", *[c for c in minimise if c != "energy_per_frame"])
    extra = [table[c].fillna(np.inf).to_numpy(dtype=float) for c in minimise]
    if "energy_per_frame" in minimise:
        # to the nanojoule: configurations whose radio draws a flat power spend the same
        # energy, and the last bits of a float sum must not decide which one dominates
        extra[0] = np.round(extra[0], 9)
    points = np.stack([lat, acc, byt, *extra], axis=1)
    n = len(points)
    keep = np.ones(n, dtype=bool)
    for i in range(n):
        others = np.delete(points, i, axis=0)
        dominated = np.all(others <= points[i], axis=1) & np.any(others < points[i], axis=1)
        keep[i] = not dominated.any()
    return keep


def _scores(table: pd.DataFrame, qos) -> pd.Series:
    lat = table["latency_qos"].fillna(np.inf)
    acc = table["accuracy"].fillna(-1.0)
    byt = table["bytes_per_frame"].fillna(np.inf)
    if qos.objective == "latency":
        return lat + 1e-9 * (1 - acc)
    if qos.objective == "accuracy":
        # ties on accuracy broken by latency (scaled far below one accuracy point)
        return -acc + 1e-6 * lat.clip(upper=1e6) / 1e6
    if qos.objective == "bytes":
        return byt + 1e-9 * lat
    energy = (
        table["energy_per_frame"].fillna(np.inf)
        if "energy_per_frame" in table
        else pd.Series(np.inf, index=table.index)
    )
    if qos.objective == "energy":
        # ties broken by latency, scaled far below a microjoule
        return energy + 1e-9 * lat.clip(upper=1e3) / 1e3
    weights = qos.weights or {}

    def norm(s: pd.Series) -> pd.Series:
        finite = s[np.isfinite(s)]
        if finite.empty:
            return pd.Series(1.0, index=s.index)
        lo, hi = finite.min(), finite.max()
        span = hi - lo if hi > lo else 1.0
        return ((s - lo) / span).where(np.isfinite(s), 1.0)

    return (
        weights.get("latency", 0.0) * norm(lat)
        + weights.get("accuracy", 0.0) * norm(1 - acc)
        + weights.get("bytes", 0.0) * norm(byt)
        + (weights.get("energy", 0.0) * norm(energy) if weights.get("energy") else 0.0)
    )


def match(
    summary: pd.DataFrame, qos, deadline: float | None = None, bounds=frozenset()
) -> QosResult:
    """Check every configuration of ``summary`` against ``qos`` and choose one.

    Args:
        summary: one row per configuration with at least the columns ``config``,
            ``accuracy``, ``latency_qos``, ``deadline_miss``, ``throughput``,
            ``device_util`` and ``bytes_per_frame`` (and, where present, the energy
            columns ``energy_per_frame`` and ``battery_life`` and the ``*_lo``/``*_hi``
            confidence intervals of latency, deadline misses and energy).
        qos: the scenario's :class:`~splitetimpera.scenario.QosSpec`.
        deadline: the workload's per-frame deadline (s), to flag a choice whose p99 misses it.
        bounds: rows that are bounds, not designs (the ``oracle`` policy): checked like
            the others, but never chosen, never the closest, and off the Pareto front.
    """
    table = summary.copy().reset_index(drop=True)
    violations: dict[str, list[Violation]] = {}
    for _, row in table.iterrows():
        violations[row["config"]] = _violations(row, qos)
    table["feasible"] = [not violations[c] for c in table["config"]]
    table["violations"] = ["; ".join(v.text for v in violations[c]) for c in table["config"]]
    table["excess"] = [sum(v.excess for v in violations[c]) for c in table["config"]]
    designs = ~table["config"].isin(set(bounds))
    table["pareto"] = False
    if designs.any():
        table.loc[designs, "pareto"] = pareto_front(table[designs].reset_index(drop=True))
    table["score"] = _scores(table, qos) if len(table) else []
    chosen = closest = None
    feasible = table[table["feasible"] & designs]
    if not feasible.empty:
        chosen = str(feasible.sort_values(["score", "config"]).iloc[0]["config"])
    elif designs.any():
        closest = str(table[designs].sort_values(["excess", "score", "config"]).iloc[0]["config"])
    table["chosen"] = table["config"] == chosen
    uncertain = {row["config"]: _uncertain(row, qos) for _, row in table.iterrows()}
    table["uncertain"] = ["; ".join(u.text for u in uncertain[c]) for c in table["config"]]
    return QosResult(
        table=table,
        chosen=chosen,
        closest=closest,
        violations=violations,
        objective=qos.objective,
        explanation=_explain(table, violations, chosen, closest, qos),
        uncertain=uncertain,
        warnings=_warnings(table, uncertain, chosen, deadline),
    )


def _warnings(table, uncertain, chosen, deadline) -> list[str]:
    """What a person should know about the verdict beyond the constraints."""
    out = []
    hanging = [c for c, us in uncertain.items() if us]
    if chosen is not None:
        row = table[table["config"] == chosen].iloc[0]
        for u in uncertain[chosen]:
            more = (
                f"about {u.factor:.1f}x the frames would settle it"
                if u.factor is not None
                else "it sits on the limit: no run length settles it"
            )
            out.append(f"the choice of {chosen} hangs on its interval: {u.text}; {more}")
        p99 = float(row.get("latency_p99", math.nan))
        if deadline is not None and p99 > deadline:
            out.append(
                f"{chosen}'s p99 latency {format_time(p99)} exceeds the {format_time(deadline)} "
                f"deadline: {format_fraction(float(row['deadline_miss']))} of its frames miss it"
            )
    others = [c for c in hanging if c != chosen]
    if others:
        shown = ", ".join(others[:4]) + (f" and {len(others) - 4} more" if len(others) > 4 else "")
        out.append(
            f"the verdict of {shown} hangs on an interval that straddles a limit (see "
            "'uncertain' in summary.csv); more frames would settle it"
        )
    return out


def _explain(table, violations, chosen, closest, qos) -> str:
    n = len(table)
    feasible = int(table["feasible"].sum()) if n else 0
    objective = {
        "latency": f"lowest p{qos.percentile:g} latency",
        "accuracy": "highest accuracy",
        "bytes": "fewest bytes on air",
        "energy": "least energy per frame",
        "weighted": "lowest weighted score",
    }[qos.objective]
    if chosen is not None:
        row = table[table["config"] == chosen].iloc[0]
        acc = (
            "accuracy unknown"
            if math.isnan(row["accuracy"])
            else f"accuracy {format_fraction(row['accuracy'])}"
        )
        energy = row.get("energy_per_frame", math.nan)
        spent = "" if pd.isna(energy) else f", {format_energy(float(energy))} per frame"
        return (
            f"{feasible} of {n} configurations meet the QoS; {chosen} has the {objective} "
            f"(p{qos.percentile:g} {format_time(row['latency_qos'])}, {acc}{spent})."
        )
    if closest is None:
        return "No configuration was simulated."
    broken = "; ".join(v.text for v in violations[closest])
    return f"None of {n} configurations meets the QoS. Closest: {closest} ({broken})."
