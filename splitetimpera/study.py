"""Studies (sweeps and design-space explorations): many simulations, resumable, in parallel.

A study is a list of points; each point is a scenario with some keys overridden. Each point
is a full simulation with its own folder ``points/<key>/``, written by
:mod:`splitetimpera.results` like any simulation's (summary.csv, frames.parquet, run.json),
and ``point.json`` written last, atomically, as the mark of a finished point.
The key hashes the resolved scenario, the seed, the frames per device and the code
version, so a point already done is not recomputed, and an interrupted study (Ctrl-C or
kill) loses no finished point: re-running it completes the rest. A point that fails is
recorded with its error and the study goes on; a re-run retries it.

Executors are found by name (:data:`EXECUTORS`): ``local`` (processes on this machine) and
``dask`` (``dask.distributed``: a LocalCluster, or an existing cluster at ``--scheduler``).
Workers simulate and return results; only this process writes files.
"""

from __future__ import annotations

import json
import logging
import time
import traceback
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import Interrupted, SeiError
from .pipeline import Result, isplit_for, simulate
from .results import point_info, point_status, read_point_summary, write_point
from .scenario import Scenario
from .selectors import needs_isplit
from .store import Registry, cache_key, jsonable, source_version
from .tables import isplit_key

__all__ = [
    "Point",
    "PointResult",
    "Executor",
    "EXECUTORS",
    "make_executor",
    "code_version",
    "evaluate_point",
    "run_points",
]

log = logging.getLogger(__name__)


def code_version() -> str:
    """A hash of the package's source: a point simulated by other code is not reused."""
    return source_version()


@dataclass(frozen=True, eq=False)
class Point:
    """One simulation of a study.

    Attributes:
        label: the study's coordinates of this point, e.g. ``{"network.bandwidth": "10 Mbit/s"}``.
        scenario: the resolved scenario.
        frames: frames per device, or None for the scenario's own.
    """

    label: dict
    scenario: Scenario
    frames: int | None = None

    @property
    def key(self) -> str:
        """Hash of the resolved scenario, the frames and the code version."""
        return cache_key(
            {
                "scenario": self.scenario.model_dump(mode="json"),
                "frames": self.frames,
                "code": code_version(),
            },
            16,
        )


@dataclass
class PointResult:
    """What a worker sends back for one point: the simulation, or the error as text."""

    key: str
    result: Result | None = None
    error: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.result is not None


def evaluate_point(scenario: Scenario, frames: int | None, key: str) -> PointResult:
    """Simulate one point (runs in a worker). Errors come back as text, not exceptions."""
    started = time.perf_counter()
    try:
        result = simulate(scenario, frames=frames)
        return PointResult(key=key, result=result, seconds=time.perf_counter() - started)
    except SeiError as exc:
        return PointResult(key=key, error=str(exc), seconds=time.perf_counter() - started)
    except Exception as exc:  # a bug at one point must not stop the study
        detail = traceback.format_exc(limit=3).strip().splitlines()[-1]
        return PointResult(
            key=key,
            error=f"{type(exc).__name__}: {exc} ({detail})",
            seconds=time.perf_counter() - started,
        )


class Executor(ABC):
    """Runs :func:`evaluate_point` for many points; yields results as they finish."""

    name = "abstract"

    def __init__(self, workers: int = 1, scheduler: str | None = None):
        self.workers = workers
        self.scheduler = scheduler

    @abstractmethod
    def map(self, points: list[Point]) -> Iterator[PointResult]:
        """Results in completion order."""

    def close(self) -> None:
        """Release workers."""


#: Executors by name; ``@EXECUTORS.register`` adds one.
EXECUTORS: Registry[type[Executor]] = Registry("executor")


@EXECUTORS.register
class LocalExecutor(Executor):
    """In this process (one worker) or in a pool of spawned processes."""

    name = "local"

    def map(self, points):
        if self.workers <= 1:
            for p in points:
                yield evaluate_point(p.scenario, p.frames, p.key)
            return
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        # workers ignore Ctrl-C: this process stops them at once and keeps what finished
        self._pool = context.Pool(self.workers, initializer=_ignore_interrupt)
        jobs = [(p.scenario, p.frames, p.key) for p in points]
        yield from self._pool.imap_unordered(_evaluate, jobs)
        self._pool.close()

    def close(self):
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.terminate()  # points in flight are dropped; finished ones are written
            pool.join()


def _ignore_interrupt() -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _evaluate(job: tuple) -> PointResult:
    return evaluate_point(*job)


@EXECUTORS.register
class DaskExecutor(Executor):
    """``dask.distributed``: an existing scheduler, or a LocalCluster of ``workers``."""

    name = "dask"

    def map(self, points):
        try:
            from dask.distributed import Client, LocalCluster, as_completed
        except ImportError:
            raise SeiError(
                "--executor dask needs dask.distributed: pip install -e '.[dask]'"
            ) from None
        if self.scheduler:
            try:
                self._client = Client(self.scheduler, timeout="10s")
            except OSError as exc:
                raise SeiError(f"--scheduler: cannot reach {self.scheduler} ({exc})") from None
        else:
            self._cluster = LocalCluster(
                n_workers=self.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            self._client = Client(self._cluster)
        futures = [
            self._client.submit(
                evaluate_point, p.scenario, p.frames, p.key, key=f"sei-{p.key}", pure=False
            )
            for p in points
        ]
        self._futures = futures
        for future in as_completed(futures):
            yield future.result()

    def close(self):
        client = getattr(self, "_client", None)
        if client is not None:
            client.cancel(getattr(self, "_futures", []))
            client.close()
        cluster = getattr(self, "_cluster", None)
        if cluster is not None:
            cluster.close()


def make_executor(name: str, workers: int = 1, scheduler: str | None = None) -> Executor:
    """The executor called ``name``; an unknown name lists the known ones."""
    cls = EXECUTORS.get(name)
    if scheduler and name != "dask":
        raise SeiError("--scheduler needs --executor dask")
    return cls(workers=workers, scheduler=scheduler)


def _write_point(folder: Path, point: Point, outcome: PointResult) -> dict:
    info = {
        "key": point.key,
        "label": jsonable(point.label),
        "status": "ok" if outcome.ok else "failed",
        "error": outcome.error,
        "seconds": outcome.seconds,
        "code": code_version(),
        "frames": point.frames,
    }
    return write_point(folder, info, outcome.result)


def _prepare(points: list[Point]) -> None:
    """Work every point needs but should do once: I-SPLIT tables (they may need torch)."""
    seen: set[str] = set()
    for p in points:
        s = p.scenario
        if "SC" in s.modes and needs_isplit(s.splits.method) and isplit_key(s) not in seen:
            seen.add(isplit_key(s))
            isplit_for(s)  # computed once and cached on disk; workers read it


def run_points(
    points: list[Point],
    folder: Path,
    *,
    executor: str = "local",
    workers: int = 1,
    scheduler: str | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    finish: Callable[[pd.DataFrame, pd.DataFrame, dict], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Evaluate every point not already done; returns (points table, rows table, counts).

    The points table has one row per point (its label, status, chosen configuration, error);
    the rows table one row per (point, configuration) with the point's label columns.
    ``finish(points, rows, counts)`` writes the study's combined outputs; it runs after a
    Ctrl-C too, and then a one-line :class:`SeiError` says how much is kept.
    """
    keys = [p.key for p in points]
    if len(set(keys)) != len(keys):
        raise SeiError(
            "two points of the study resolve to the same scenario; drop the duplicate values"
        )
    store = folder / "points"
    store.mkdir(parents=True, exist_ok=True)
    status = {p.key: point_status(store / p.key) for p in points}
    todo = [p for p in points if status[p.key] != "done"]
    damaged = [p for p in points if status[p.key] == "damaged"]
    for p in damaged:
        log.warning("point %s: its files were damaged since it finished; recomputing", p.label)
    reused = len(points) - len(todo)
    total = len(points)
    done = reused
    if progress is not None:
        progress(done, total, f"{reused} already done" if reused else "")
    by_key = {p.key: p for p in todo}
    failed = 0
    interrupted = False
    if todo:
        _prepare(todo)
        runner = make_executor(executor, workers, scheduler)
        try:
            for result in runner.map(todo):
                info = _write_point(store / result.key, by_key[result.key], result)
                done += 1
                if info["status"] != "ok":
                    failed += 1
                    log.warning("point %s failed: %s", info["label"], info["error"])
                if progress is not None:
                    progress(done, total, _short(by_key[result.key].label))
        except KeyboardInterrupt:
            interrupted = True
        finally:
            runner.close()
    table, rows = collect(points, store)
    counts = {
        "points": total,
        "reused": reused,
        "computed": done - reused,
        "failed": failed,
        "damaged": len(damaged),
        "interrupted": interrupted,
    }
    if finish is not None:
        finish(table, rows, counts)
    if interrupted:
        kept = int((table["status"] == "ok").sum())
        raise Interrupted(
            f"interrupted: {kept} of {total} points are done and kept in {folder}; "
            "run the same command again to finish"
        )
    return table, rows, counts


def _short(label: dict) -> str:
    return ", ".join(f"{k.split('.')[-1]}={v}" for k, v in label.items())


#: The chosen (or closest) configuration's figures a study's points table keeps.
_POINT_FIGURES = (
    "latency_qos",
    "latency_qos_lo",
    "latency_qos_hi",
    "accuracy",
    "bytes_per_frame",
    "deadline_miss",
    "deadline_miss_lo",
    "deadline_miss_hi",
    "energy_per_frame",
    "battery_life",
)


def collect(points: list[Point], store: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read every point's folder into the points table and the per-configuration rows."""
    table, rows = [], []
    for index, p in enumerate(points):
        info: dict[str, Any] = point_info(store / p.key) or {"status": "missing", "error": ""}
        entry = {
            "point": index,
            "key": p.key,
            **{k: _text(v) for k, v in p.label.items()},
            "status": info["status"],
            "error": info.get("error", ""),
        }
        if info["status"] == "ok":
            summary = read_point_summary(store / p.key)
            chosen = summary[summary["chosen"]]
            best = (
                chosen.iloc[0] if len(chosen) else summary.sort_values(["excess", "score"]).iloc[0]
            )
            entry.update(
                {
                    "feasible": bool(len(chosen)),
                    "chosen": best["config"] if len(chosen) else "",
                    "closest": "" if len(chosen) else best["config"],
                    **{column: best.get(column) for column in _POINT_FIGURES},
                }
            )
            for _, r in summary.iterrows():
                rows.append(
                    {"point": index, **{k: _text(v) for k, v in p.label.items()}, **r.to_dict()}
                )
        table.append(entry)
    return pd.DataFrame(table), pd.DataFrame(rows)


def _text(value) -> str:
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)
