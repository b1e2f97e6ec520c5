"""Measured latency profiles: head and tail timed as separate runnable modules.

For every split point, the head and the tail are each built as one module and timed
after warm-up (a per-layer sum would be wrong: fusion, caches and framework overhead do
not add up). The full model is timed at the start and at the end; the profile's own
accuracy is the share of splits whose head median + tail median lies within +-10 % of
the full model's median. CPU timing uses ``time.perf_counter_ns``; CUDA timing uses CUDA
events with synchronisation.

For each split the head, the tail and the whole model are timed in turn, round after
round, so that drifts of a noisy machine touch all three alike; ``full_median_s`` of a row
is the whole model's median timed alongside that split.

By default the parts run back to back in the calling thread (warm caches, a busy core).
An application runs its head once per frame, in a compute thread it hands the frame to,
and idles in between, which costs more. ``pace`` times the way a frame is processed: it
sleeps that many seconds before every run (so each starts cold) and runs the part in a
worker thread, from handing the input over to getting the output back (the metadata
records it as ``pace_s``). ``benchmarks/e2e_vs_real.py`` measures the difference.

The input split's head and the output split's tail are empty (zero); the input split's
tail and the output split's head are the full model.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import queue
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .. import __version__
from ..errors import SeiError
from ..power import rapl_energy, read_rapl
from ..profiles import PROFILE_COLUMNS, guard_shipped, user_dir, write_profile
from .graph import ModelGraph
from .zoo import load_model

__all__ = [
    "ProfileResult",
    "profile_model",
    "hardware_name",
    "cpu_name",
    "time_interleaved",
]


def cpu_name() -> str:
    """The CPU's brand string."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _slug(text: str, words: int = 4) -> str:
    text = re.sub(r"\((r|tm)\)", "", text.lower())
    text = re.sub(r"@.*$", "", text)
    drop = {
        "cpu",
        "processor",
        "nvidia",
        "core",
        "with",
        "radeon",
        "graphics",
        "gb",
        "hbm3",
        "hbm3e",
        "pcie",
        "sxm",
        "sxm5",
    }
    parts = [
        p
        for p in re.split(r"[^a-z0-9]+", text)
        if p and p not in drop and not re.fullmatch(r"\d+gb", p)
    ]
    return "-".join(parts[:words]) or "unknown"


def hardware_name(device: str, threads: int) -> str:
    """A short hardware name: ``amd-epyc-2t`` for a CPU, ``h100`` for a GPU."""
    if device == "cuda":
        return _slug(torch.cuda.get_device_name(0), words=1)
    return f"{_slug(cpu_name())}-{threads}t"


class _Worker:
    """A compute thread fed through a queue, as an application hands a frame over."""

    def __init__(self):
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        self.done: queue.SimpleQueue = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        with torch.inference_mode():
            while (job := self.jobs.get()) is not None:
                module, inp = job
                self.done.put(module(inp))

    def __call__(self, module, inp):
        self.jobs.put((module, inp))
        return self.done.get()

    def close(self) -> None:
        self.jobs.put(None)
        self.thread.join()


def time_interleaved(
    parts, repeats: int, warmup: int, device: str, pace: float = 0.0
) -> dict[str, np.ndarray]:
    """Time several modules in turn, ``repeats`` rounds of one run each.

    Interleaving means slow drifts of the machine (frequency, neighbours) touch every
    part alike, so their medians stay comparable.

    Args:
        parts: (name, module, input) triples.
        pace: 0 times back-to-back runs in this thread; > 0 sleeps that many seconds
            before each run and times it through a worker thread, hand-over included
            (CPU only).
    """
    if pace > 0 and device == "cpu":
        worker = _Worker()
        try:
            return _time_paced(parts, repeats, warmup, pace, worker)
        finally:
            worker.close()
    out = {name: np.empty(repeats) for name, _, _ in parts}
    with torch.inference_mode():
        for _ in range(warmup):
            for _, module, inp in parts:
                module(inp)
        if device == "cuda":
            torch.cuda.synchronize()
        for i in range(repeats):
            for name, module, inp in parts:
                if pace > 0:
                    time.sleep(pace)
                if device == "cuda":
                    start = torch.cuda.Event(enable_timing=True)
                    end = torch.cuda.Event(enable_timing=True)
                    start.record()
                    module(inp)
                    end.record()
                    torch.cuda.synchronize()
                    out[name][i] = start.elapsed_time(end) / 1e3
                else:
                    t0 = time.perf_counter_ns()
                    module(inp)
                    out[name][i] = (time.perf_counter_ns() - t0) / 1e9
    return out


def _time_paced(parts, repeats: int, warmup: int, pace: float, worker: _Worker) -> dict:
    out = {name: np.empty(repeats) for name, _, _ in parts}
    for _ in range(warmup):
        for _, module, inp in parts:
            worker(module, inp)
    for i in range(repeats):
        for name, module, inp in parts:
            time.sleep(pace)
            t0 = time.perf_counter_ns()
            worker(module, inp)
            out[name][i] = (time.perf_counter_ns() - t0) / 1e9
    return out


@dataclass
class ProfileResult:
    """What ``sei profile`` measured: the table, the metadata and where they went."""

    table: pd.DataFrame
    meta: dict
    samples: pd.DataFrame
    path: Path


def profile_model(
    model: str,
    *,
    device: str = "cpu",
    threads: int | None = None,
    batch: int = 1,
    repeats: int = 30,
    warmup: int = 5,
    input_shape: tuple[int, int, int] | None = None,
    weights: str | None = None,
    hardware: str | None = None,
    folder: Path | None = None,
    single_only: bool = False,
    force: bool = False,
    splits: list[str] | None = None,
    pace: float = 0.0,
    progress: Callable[[int, int, str], None] | None = None,
) -> ProfileResult:
    """Measure every split of ``model`` and write ``folder/<hardware>/<model>.csv``.

    Args:
        model: a model name or a saved sei model (``.pt``).
        device: ``cpu`` or ``cuda``.
        threads: CPU threads for torch (all cores by default).
        batch: batch size.
        repeats: timed runs of each head and tail.
        warmup: untimed runs before timing.
        input_shape: (C, H, W); the model's usual input by default.
        weights: ``builtin``, ``none`` or a checkpoint (latency does not depend on it).
        hardware: the profile's hardware name (derived from the CPU/GPU by default).
        folder: the profiles folder (the user's, :func:`~splitetimpera.profiles.user_dir`,
            by default).
        single_only: only splits where one tensor crosses (plus input and output).
        force: replace a shipped profile of the same hardware and model.
        splits: only these split points (all by default).
        pace: seconds of idleness before every timed run, each run handed to a worker
            thread and back, as an application processes a frame (0: back to back, warm).
        progress: called as ``progress(done, total, split)``.
    """
    if device == "cuda" and not torch.cuda.is_available():
        raise SeiError("--device cuda: no CUDA device is available on this machine")
    if batch <= 0 or repeats <= 0 or warmup < 0 or pace < 0:
        raise SeiError("batch and repeats must be > 0, warmup and pace >= 0")
    if threads is not None:
        torch.set_num_threads(threads)
    used_threads = torch.get_num_threads()
    loaded = load_model(model, weights=weights, input_shape=input_shape)
    name = Path(model).stem if model.endswith(".pt") else loaded.name
    hw = hardware or hardware_name(device, used_threads)
    target = Path(folder) if folder is not None else user_dir()
    guard_shipped(target / hw, name, force)  # before minutes of measuring, not after
    graph = ModelGraph(loaded.module, loaded.input_shape)
    points = [
        p
        for p in graph.points
        if not single_only or p.n_tensors == 1 or p.name in ("input", "output")
        if splits is None or p.name in splits
    ]
    if splits is not None and len(points) < len(set(splits)):
        unknown = sorted(set(splits) - {p.name for p in points})
        raise SeiError(f"{model} has no split {', '.join(unknown)}")
    dev = torch.device(device)
    graph.gm.to(dev)
    loaded.module.to(dev)
    x = torch.randn(batch, *loaded.input_shape, device=dev)
    total = len(points)
    done = 0

    def tick(note: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total, note)

    rows, samples, full_all = [], [], []
    rapl_before, started = read_rapl(), time.perf_counter()
    with torch.inference_mode():
        for p in points:
            head = None if p.name == "input" else graph.head(p.name).to(dev)
            tail = None if p.name == "output" else graph.tail(p.name).to(dev)
            crossing = head(x) if head is not None else x
            parts = [("full", loaded.module, x)]
            if head is not None:
                parts.append(("head", head, x))
            if tail is not None:
                parts.append(("tail", tail, crossing))
            measured = time_interleaved(parts, repeats, warmup, device, pace)
            head_s = measured.get("head", np.zeros(1))
            tail_s = measured.get("tail", np.zeros(1))
            full_all.append(measured["full"])
            row = p.as_dict()
            for part, values in (("head", head_s), ("tail", tail_s)):
                row[f"{part}_median_s"] = float(np.median(values))
                row[f"{part}_p5_s"] = float(np.percentile(values, 5))
                row[f"{part}_p95_s"] = float(np.percentile(values, 95))
                samples.append(pd.DataFrame({"split": p.name, "part": part, "seconds": values}))
            row["full_median_s"] = float(np.median(measured["full"]))
            row["samples"] = repeats
            rows.append(row)
            tick(p.name)
    elapsed = time.perf_counter() - started
    rapl_after = read_rapl() if rapl_before else None
    full = np.concatenate(full_all)
    full_median = float(np.median(full))
    table = pd.DataFrame(rows, columns=list(PROFILE_COLUMNS))
    within = float((profile_error(table).abs() <= 0.1).mean())
    meta = {
        "model": name,
        "hardware": hw,
        "device": device,
        "cpu": cpu_name(),
        "gpu": torch.cuda.get_device_name(0) if device == "cuda" else None,
        "threads": used_threads,
        "torch": torch.__version__,
        "sei_version": __version__,
        "date": _dt.date.today().isoformat(),
        "batch": batch,
        "input_shape": list(loaded.input_shape),
        "weights": loaded.weights,
        "repeats": repeats,
        "warmup": warmup,
        "pace_s": pace,
        "full_median_s": full_median,
        "full_p5_s": float(np.percentile(full, 5)),
        "full_p95_s": float(np.percentile(full, 95)),
        "within_10pct": within,
        "splits": len(table),
        "single_only": single_only,
        "host": platform.node() if os.environ.get("SEI_RECORD_HOST") else None,
        "power": _host_power(rapl_before, rapl_after, elapsed),
    }
    sample_table = pd.concat(samples, ignore_index=True)
    path = write_profile(target / hw, name, table, meta, sample_table, force=force)
    return ProfileResult(table, meta, sample_table, path)


def _host_power(before, after, seconds: float) -> dict | str:
    """What the host's CPU packages drew while this profile was measured (RAPL, all cores,
    the whole machine's load included), or why it is not known."""
    if not before or not after:
        return "not measured (no readable /sys/class/powercap/intel-rapl*)"
    joules = rapl_energy(before, after)
    return {
        "source": "RAPL package energy (" + ", ".join(sorted(before)) + ")",
        "joules": joules,
        "seconds": seconds,
        "mean_w": joules / seconds if seconds > 0 else None,
    }


def profile_error(table: pd.DataFrame) -> pd.Series:
    """Per split: relative error of head + tail medians against the full model's median
    measured in the same rounds (NaN where that median is 0)."""
    full = table["full_median_s"].replace(0, np.nan)
    return (table["head_median_s"] + table["tail_median_s"] - full) / full
