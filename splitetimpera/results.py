"""Results on disk: writing a simulation's folder, and reading it back for ``sei report``.

A results folder holds ``frames.parquet`` (:data:`~splitetimpera.sim.frames.FRAME_COLUMNS`),
``summary.csv`` (:data:`~splitetimpera.sim.engine.SUMMARY_COLUMNS` plus the QoS columns),
``run.json`` (resolved scenario, seed, versions, wall time, profiles, QoS verdict, and the
meaning of every column) and ``report.html``. Files are written to a temporary name and
renamed, so an interrupted write never leaves half a file behind or spoils an older one.
"""

from __future__ import annotations

import json
import math
import os
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from .errors import SeiError

__all__ = ["write_result", "read_result", "atomic_write_text", "write_csv", "QOS_COLUMNS"]

QOS_COLUMNS: dict[str, str] = {
    "feasible": "True when the configuration meets every QoS constraint",
    "violations": "the constraints it breaks, and by how much",
    "excess": "summed relative violation (0 when feasible)",
    "pareto": "True when no configuration is better on latency, accuracy and bytes at once",
    "score": "the objective's value (lower is better)",
    "chosen": "True for the configuration the matcher chooses",
}


def atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """CSV with a fixed float format, so equal results give byte-identical files."""
    tmp = path.with_name(f".{path.name}.tmp")
    frame.to_csv(tmp, index=False, float_format="%.9g", lineterminator="\n")
    os.replace(tmp, path)


def _jsonable(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def write_result(result, folder: Path, report: bool = True) -> Path:
    """Write a :class:`~splitetimpera.sim.engine.Result` into ``folder``."""
    from .sim.engine import SUMMARY_COLUMNS
    from .sim.frames import FRAME_COLUMNS

    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / ".frames.parquet.tmp"
    result.frames.to_parquet(tmp, index=False)
    os.replace(tmp, folder / "frames.parquet")
    write_csv(result.summary, folder / "summary.csv")
    run = {
        "scenario": result.scenario.model_dump(mode="json"),
        "source": result.scenario.source,
        **result.meta,
        "qos": result.qos.to_dict(),
        "written_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "columns": {
            "frames.parquet": FRAME_COLUMNS,
            "summary.csv": {**SUMMARY_COLUMNS, **QOS_COLUMNS},
        },
    }
    atomic_write_text(folder / "run.json", json.dumps(_jsonable(run), indent=2) + "\n")
    if report:
        from .report import simulation_report

        atomic_write_text(folder / "report.html", simulation_report(result))
    return folder


def read_result(folder: str | Path):
    """Read a results folder back into a Result (for ``sei report``)."""
    from .qos import match
    from .scenario import scenario_from_dict
    from .sim.engine import Configuration, Result

    folder = Path(folder)
    needed = ["summary.csv", "run.json", "frames.parquet"]
    if not folder.is_dir():
        raise SeiError(f"{folder}: no such results folder")
    missing = [n for n in needed if not (folder / n).is_file()]
    if missing:
        raise SeiError(
            f"{folder}: not a simulation results folder (missing {', '.join(missing)}); "
            "`sei simulate SCENARIO` writes one"
        )
    try:
        run = json.loads((folder / "run.json").read_text())
        scenario = scenario_from_dict(run["scenario"], str(folder / "run.json"))
    except (json.JSONDecodeError, KeyError) as exc:
        raise SeiError(f"{folder / 'run.json'}: unreadable ({exc})") from None
    summary = pd.read_csv(folder / "summary.csv")
    frames = pd.read_parquet(folder / "frames.parquet")
    from .sim.engine import SUMMARY_COLUMNS

    base = summary[[c for c in SUMMARY_COLUMNS if c in summary.columns]]
    qos = match(base, scenario.qos)
    configs = [
        Configuration(
            mode=r["mode"],
            split=r["split"],
            compression=r["compression"],
            payload_bytes=int(r["payload_bytes"]),
            accuracy=float(r["accuracy"]),
        )
        for _, r in base.iterrows()
    ]
    meta = {k: v for k, v in run.items() if k not in ("scenario", "qos", "columns", "source")}
    return Result(scenario, configs, frames, qos.table, qos, meta)
