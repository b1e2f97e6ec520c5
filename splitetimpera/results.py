"""Results folders: the one place that writes them and reads them back.

Every results folder has a ``run.json`` of one schema: ``kind`` (``simulate``, ``sweep``
or ``explore``), the sei and Python versions, when it was written, the wall time, the
source and the resolved scenario (loadable again), the meaning of every column of its
tables, and what is particular to its kind:

* ``simulate`` (``sei simulate``, and every point of a study): ``frames.parquet``
  (:data:`~splitetimpera.sim.frames.FRAME_COLUMNS`), ``links.parquet`` (each
  configuration's links over time), ``summary.csv``
  (:data:`~splitetimpera.pipeline.SUMMARY_COLUMNS` plus :data:`QOS_COLUMNS`),
  ``report.html``; run.json adds the seed, the profiles used and how they were scaled,
  and the QoS verdict. A study's point also has ``point.json``, written last as the mark
  of a finished point.
* ``sweep`` and ``explore``: their tables (``points.csv``/``sweep.csv``,
  ``designs.csv``/``explore.csv``), ``report.html`` and ``points/``; run.json adds the
  axes or the spec and the counts.
* ``sei rank`` writes ``isplit.csv``, ``isplit.html``, ``isplit.json`` (and
  ``accuracy.csv``) into the scenario's folder; ``sei prune`` a model file with its
  accuracy table and record.

Files are written to a temporary name and renamed (:mod:`splitetimpera.store`), so an
interrupted write never leaves half a file behind or spoils an older one.
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from . import __version__
from .accuracy import ACCURACY_COLUMNS
from .errors import SeiError
from .pipeline import (
    LAYER_COLUMNS,
    LINK_COLUMNS,
    SUMMARY_COLUMNS,
    Configuration,
    Result,
    bounds,
    scenario_from_dict,
)
from .qos import match
from .sim.frames import FRAME_COLUMNS
from .store import atomic_write_text, file_hash, write_csv, write_json, write_parquet
from .tables import data_identity

__all__ = [
    "QOS_COLUMNS",
    "RUN_KINDS",
    "run_header",
    "write_result",
    "FramesWriter",
    "read_result",
    "read_run",
    "write_report",
    "point_info",
    "point_done",
    "point_status",
    "prepare_folder",
    "check",
    "write_point",
    "read_point_summary",
    "write_study",
    "read_table",
    "write_rank",
    "write_pruned",
    "record_profile",
]

RUN_KINDS = ("simulate", "sweep", "explore")

QOS_COLUMNS: dict[str, str] = {
    "feasible": "True when the configuration meets every QoS constraint",
    "violations": "the constraints it breaks, and by how much",
    "excess": "summed relative violation (0 when feasible)",
    "pareto": "True when no configuration is better on latency, accuracy and bytes at once",
    "score": "the objective's value (lower is better)",
    "chosen": "True for the configuration the matcher chooses",
    "uncertain": "the constraints whose verdict hangs on a confidence interval that "
    "straddles the limit (a longer run could change it)",
}


def run_header(kind: str, scenario, wall_time_s: float | None) -> dict:
    """The fields every ``run.json`` starts with."""
    if kind not in RUN_KINDS:
        raise ValueError(f"unknown run kind {kind!r}; known: {', '.join(RUN_KINDS)}")
    return {
        "kind": kind,
        "sei_version": __version__,
        "python": platform.python_version(),
        "written_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "wall_time_s": wall_time_s,
        "source": scenario.source,
        "scenario": scenario.model_dump(mode="json"),
    }


def prepare_folder(folder: str | Path) -> Path:
    """Make sure results can be written to ``folder`` before any work is done.

    Raises:
        SeiError: one line naming the folder and why it cannot be written.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".sei-write-check-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise SeiError(
            f"{folder}: cannot write results there ({reason}); choose another folder with -o"
        ) from None
    return folder


def _manifest(folder: Path, rows: dict[str, int]) -> dict:
    """Size, checksum and row count of each written table: what ``check`` compares."""
    out = {}
    for name, count in rows.items():
        path = folder / name
        if path.is_file():
            out[name] = {"bytes": path.stat().st_size, "sha256": file_hash(path, 64), "rows": count}
    return out


def check(folder: str | Path, run: dict | None = None) -> dict:
    """A results folder's ``run.json``, with every file of its manifest as it was written.

    Raises:
        SeiError: one line naming the file that is missing, truncated or changed.
    """
    folder = Path(folder)
    run = run if run is not None else read_run(folder)
    for name, expected in run.get("files", {}).items():
        path = folder / name
        if not path.is_file():
            raise SeiError(f"{path}: missing (run.json lists it); run the command again")
        if path.stat().st_size != expected["bytes"] or file_hash(path, 64) != expected["sha256"]:
            raise SeiError(
                f"{path}: truncated or changed since it was written (it does not match "
                "run.json's manifest); run the command again"
            )
    return run


def _simulation_run(result: Result, extra: dict | None = None) -> dict:
    meta = dict(result.meta)
    run = run_header("simulate", result.scenario, meta.pop("wall_time_s", None))
    run.update(meta)
    run.update(extra or {})
    run["qos"] = result.qos.to_dict()
    run["columns"] = {
        "frames.parquet": FRAME_COLUMNS,
        "summary.csv": {**SUMMARY_COLUMNS, **QOS_COLUMNS},
        "links.parquet": LINK_COLUMNS,
    }
    return run


class FramesWriter:
    """Streams a simulation's frames to ``frames.parquet`` as each configuration ends.

    Use as ``with FramesWriter(folder) as sink: simulate(scenario, on_frames=sink)``: the
    tables go to a temporary file, renamed into place when the block ends well and removed
    when it does not, so an interrupted run leaves no half file behind.
    """

    def __init__(self, folder: Path):
        self.path = Path(folder) / "frames.parquet"
        self._tmp = self.path.with_name(f".frames.parquet.{os.getpid()}.tmp")
        self._writer = None
        self._schema = None
        self.rows = 0

    def __call__(self, table: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self._writer is None:
            self._schema = pa.Schema.from_pandas(table, preserve_index=False)
            self._writer = pq.ParquetWriter(self._tmp, self._schema)
        self._writer.write_table(
            pa.Table.from_pandas(table, schema=self._schema, preserve_index=False)
        )
        self.rows += len(table)

    def __enter__(self) -> FramesWriter:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if self._writer is not None:
            self._writer.close()
        if kind is None and self._writer is not None:
            os.replace(self._tmp, self.path)
        else:
            self._tmp.unlink(missing_ok=True)


#: Frames per configuration a report plots at most (a longer run is sampled evenly).
REPORT_FRAMES = 20_000


def _report_frames(path: Path) -> pd.DataFrame:
    """A streamed run's frames for its report: all of them, or an even sample of each
    configuration's when the run is long."""
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    per_config: dict[str, int] = {}
    kept = []
    total = parquet.metadata.num_rows
    configs = max(1, parquet.metadata.num_row_groups)
    stride = max(1, total // (configs * REPORT_FRAMES))
    for batch in parquet.iter_batches():
        table = batch.to_pandas()
        if stride > 1:
            for config, group in table.groupby("config", sort=False):
                offset = per_config.get(config, 0)
                kept.append(group.iloc[(-offset) % stride :: stride])
                per_config[config] = offset + len(group)
        else:
            kept.append(table)
    return pd.concat(kept, ignore_index=True) if kept else pd.DataFrame(columns=list(FRAME_COLUMNS))


def write_result(
    result: Result, folder: str | Path, report: bool = True, frames: FramesWriter | None = None
) -> Path:
    """Write a simulation's folder: frames.parquet, summary.csv, run.json, report.html.

    Args:
        frames: the writer that already streamed the frames (``result.frames`` is then
            empty), or None to write ``result.frames`` now.
    """
    folder = prepare_folder(folder)
    _write_simulation(folder, result, frames=frames)
    if report:
        from .report import simulation_report

        shown = result
        if frames is not None:
            shown = replace(result, frames=_report_frames(frames.path))
        write_report(folder, simulation_report(shown))
    return folder


def _write_simulation(
    folder: Path, result: Result, extra: dict | None = None, frames: FramesWriter | None = None
) -> None:
    """frames.parquet (unless streamed) and summary.csv, then run.json with their manifest
    (written last: a folder with a run.json is complete)."""
    rows = frames.rows if frames is not None else len(result.frames)
    if frames is None:
        write_parquet(result.frames, folder / "frames.parquet")
    write_parquet(result.links, folder / "links.parquet")
    write_csv(result.summary, folder / "summary.csv")
    run = _simulation_run(result, extra)
    run["files"] = _manifest(
        folder,
        {
            "frames.parquet": rows,
            "links.parquet": len(result.links),
            "summary.csv": len(result.summary),
        },
    )
    write_json(folder / "run.json", run)


def write_report(folder: Path, html: str) -> Path:
    """Write (or rewrite) a folder's ``report.html``; returns its path."""
    path = Path(folder) / "report.html"
    atomic_write_text(path, html)
    return path


def read_run(folder: str | Path) -> dict:
    """A results folder's ``run.json``.

    Raises:
        SeiError: one line when the folder or its run.json is missing or unreadable.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise SeiError(f"{folder}: no such results folder")
    path = folder / "run.json"
    if not path.is_file():
        raise SeiError(
            f"{folder}: not a results folder (no run.json); `sei simulate`, `sei sweep` "
            "and `sei explore` write one"
        )
    try:
        run = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SeiError(f"{path}: unreadable ({exc})") from None
    kind = run.get("kind") if isinstance(run, dict) else None
    if kind not in RUN_KINDS:
        raise SeiError(
            f"{path}: 'kind' is {kind!r}, not one of {', '.join(RUN_KINDS)} (written by an "
            "older sei? run the command again)"
        )
    return run


def read_result(folder: str | Path) -> Result:
    """Read a simulation's folder back into a :class:`~splitetimpera.pipeline.Result`."""
    folder = Path(folder)
    run = check(folder)
    if run["kind"] != "simulate":
        raise SeiError(f"{folder}: a {run['kind']} folder, not a simulation's")
    missing = [n for n in ("summary.csv", "frames.parquet") if not (folder / n).is_file()]
    if missing:
        raise SeiError(
            f"{folder}: not a simulation results folder (missing {', '.join(missing)}); "
            "`sei simulate SCENARIO` writes one"
        )
    try:
        scenario = scenario_from_dict(run["scenario"], str(folder / "run.json"))
    except KeyError as exc:
        raise SeiError(f"{folder / 'run.json'}: unreadable (no {exc})") from None
    summary = _read(folder / "summary.csv", pd.read_csv)
    frames = _read(folder / "frames.parquet", pd.read_parquet)
    links_path = folder / "links.parquet"
    links = _read(links_path, pd.read_parquet) if links_path.is_file() else None
    base = summary[[c for c in SUMMARY_COLUMNS if c in summary.columns]]
    qos = match(base, scenario.qos, scenario.workload.deadline, bounds(base))
    configs = [
        Configuration(
            mode=r["mode"],
            split=r["split"],
            compression=r["compression"],
            payload_bytes=int(r["payload_bytes"]),
            accuracy=float(r["accuracy"]),
            name=r["config"] if r["mode"] == "policy" else "",
        )
        for _, r in base.iterrows()
    ]
    skip = ("scenario", "qos", "columns", "source", "kind")
    meta = {k: v for k, v in run.items() if k not in skip}
    result = Result(scenario, configs, frames, qos.table, qos, meta)
    return result if links is None else replace(result, links=links)


def _read(path: Path, reader):
    try:
        return reader(path)
    except Exception as exc:  # a damaged file is one line, whatever the parser says
        raise SeiError(
            f"{path}: unreadable ({type(exc).__name__}); run the command again"
        ) from None


# --------------------------------------------------------------------------- studies


def point_info(folder: Path) -> dict | None:
    """A study point's ``point.json`` (None when it is missing or unreadable)."""
    marker = folder / "point.json"
    if not marker.is_file():
        return None
    try:
        return json.loads(marker.read_text())
    except json.JSONDecodeError:
        return None


def point_status(folder: Path) -> str:
    """``done`` (finished, files intact), ``damaged`` (finished, but a file no longer
    matches its manifest), ``failed`` or ``missing``."""
    info = point_info(folder)
    if info is None:
        return "missing"
    if info.get("status") != "ok":
        return "failed"
    try:
        check(folder)
    except SeiError:
        return "damaged"
    return "done"


def point_done(folder: Path) -> dict | None:
    """A study point's ``point.json`` when the point finished well and its files are
    intact, else None."""
    return point_info(folder) if point_status(folder) == "done" else None


def write_point(folder: Path, info: dict, result: Result | None) -> dict:
    """Write a study point's folder (a simulation's files when it ran), then its marker.

    Args:
        folder: the point's folder.
        info: the marker's fields (key, label, status, error, seconds, code, frames).
        result: the simulation, or None when the point failed.
    """
    folder.mkdir(parents=True, exist_ok=True)
    if result is not None:
        _write_simulation(folder, result, {"label": info.get("label")})
    write_json(folder / "point.json", info)
    return info


def read_point_summary(folder: Path) -> pd.DataFrame:
    """A finished point's summary table."""
    return _read(folder / "summary.csv", pd.read_csv)


def write_study(
    folder: Path,
    run: dict,
    tables: dict[str, pd.DataFrame],
    columns: dict[str, dict],
    report_html: str,
) -> None:
    """Write a sweep's or exploration's combined files.

    Args:
        folder: the study folder.
        run: run.json's content (starting with :func:`run_header`).
        tables: CSV file name to table; empty tables are not written.
        columns: CSV file name to its column descriptions (kept in run.json).
        report_html: the report page.
    """
    written = {name: table for name, table in tables.items() if not table.empty}
    for name, table in written.items():
        write_csv(table, folder / name)
    write_report(folder, report_html)
    manifest = _manifest(folder, {name: len(table) for name, table in written.items()})
    write_json(folder / "run.json", {**run, "columns": columns, "files": manifest})


def read_table(folder: Path, name: str, dtype: dict | None = None) -> pd.DataFrame:
    """A study's CSV table (an empty table when it was not written)."""
    path = folder / name
    return _read(path, lambda p: pd.read_csv(p, dtype=dtype)) if path.is_file() else pd.DataFrame()


# --------------------------------------------------------------------------- rank, prune


def write_rank(result, folder: Path | None = None) -> dict[str, str]:
    """Write a ranking into the scenario's folder; returns ``{what: path}``.

    ``accuracy.csv`` is what ``sei simulate`` reads for this scenario afterwards.
    """
    from .report import rank_report

    s = result.scenario
    folder = Path(folder) if folder else s.results_dir
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"table": str(folder / "isplit.csv"), "figure": str(folder / "isplit.html")}
    write_csv(result.table, folder / "isplit.csv")
    atomic_write_text(folder / "isplit.html", rank_report(result))
    if result.accuracy is not None:
        write_csv(result.accuracy, folder / "accuracy.csv")
        # what it measured: sei simulate lays it over the shipped table only for the same
        write_json(
            folder / "accuracy.json",
            {
                "identity": data_identity(s),
                "rows": len(result.accuracy),
                "columns": ACCURACY_COLUMNS,
            },
        )
        paths["accuracy"] = str(folder / "accuracy.csv")
    write_json(
        folder / "isplit.json",
        {
            "scenario": s.name,
            "model": s.model.name,
            "weights": s.model.resolved_weights,
            "classes": result.classes,
            "samples": s.dataset.samples,
            "target": s.splits.target,
            "layers": s.splits.layers,
            "candidate_rule": s.splits.candidates,
            "top_k": s.splits.top_k,
            "candidates": result.candidates,
            "columns": {"isplit.csv": LAYER_COLUMNS, "accuracy.csv": ACCURACY_COLUMNS},
        },
    )
    return paths


def write_pruned(result, path: Path) -> Path:
    """Save a pruned model (loadable as a scenario's ``model.name``), its accuracy table
    (``.accuracy.csv``) and its record (``.json``) beside it; returns the model's path."""
    from .models.zoo import save_pruned

    path = Path(path)
    if path.suffix != ".pt":
        raise SeiError(f"--output: {path} must end in .pt")
    save_pruned(result.module, result.base_model, path, result.input_shape, result.meta)
    row = {
        "split": "output", "compression": "none", "payload_bytes": 0,
        "accuracy": result.summary["accuracy_after"], "samples": result.test_samples,
        "seed": result.meta["seed"], "encode_s": 0.0, "decode_s": 0.0,
    }  # fmt: skip
    write_csv(
        pd.DataFrame([row], columns=list(ACCURACY_COLUMNS)), path.with_suffix(".accuracy.csv")
    )
    write_json(path.with_suffix(".json"), {**result.summary, "path": str(path), "profile": None})
    return path


def record_profile(path: Path, profile: Path, hardware: str) -> None:
    """Add the profile measured of a pruned model to its record (``.json`` beside it)."""
    record_path = Path(path).with_suffix(".json")
    record = json.loads(record_path.read_text())
    record.update({"profile": str(profile), "hardware": hardware})
    write_json(record_path, record)
