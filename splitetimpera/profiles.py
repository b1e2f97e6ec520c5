"""Measured latency profiles on disk: where they live, how they read, what each column means.

A profile is ``<folder>/<hardware>/<model>.csv`` (one row per split point), with
``<model>.json`` (metadata: CPU/GPU, threads, torch version, date, batch, input shape,
profile accuracy) and ``<model>.samples.parquet`` (every raw timing, so the simulator can
draw latencies from the measured distribution rather than its median).

The torch side (:mod:`splitetimpera.models.profile`) writes them; this module reads them and
never imports torch, so the simulator stays light.

Split rows run in forward order. The first row, ``input``, is the cut before the first
layer (the head is empty: remote computing sends the input); the last, ``output``, is the
cut after the last layer (the tail is empty: local computing).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import NotFoundError, SeiError, did_you_mean
from .store import atomic_write_text, write_csv, write_parquet

__all__ = [
    "PROFILE_COLUMNS",
    "Profile",
    "ProfileNotFound",
    "search_dirs",
    "shipped_dir",
    "user_dir",
    "guard_shipped",
    "hardware_names",
    "locate",
    "load_profile",
    "read_meta",
    "split_names",
    "write_profile",
]

#: Every column of ``<model>.csv``; times in seconds, sizes in bytes.
PROFILE_COLUMNS: dict[str, str] = {
    "split": "split point name: the module path after which the model is cut",
    "depth": "position in forward order (0 = input)",
    "n_tensors": "number of tensors crossing the cut",
    "shapes": "shapes of the crossing tensors at batch 1, ';'-separated",
    "payload_fp32": "bytes crossing the cut at fp32 (batch 1)",
    "payload_fp16": "bytes crossing the cut at fp16",
    "payload_int8": "bytes crossing the cut at int8",
    "head_flops": "FLOPs of the head (2 x multiply-accumulates, torch.utils.flop_counter)",
    "tail_flops": "FLOPs of the tail",
    "head_params": "parameters used by the head",
    "tail_params": "parameters used by the tail",
    "head_median_s": "median latency of the head as one runnable module",
    "head_p5_s": "5th percentile of the head latency",
    "head_p95_s": "95th percentile of the head latency",
    "tail_median_s": "median latency of the tail as one runnable module",
    "tail_p5_s": "5th percentile of the tail latency",
    "tail_p95_s": "95th percentile of the tail latency",
    "full_median_s": "median latency of the whole model, timed in turn with this head and tail",
    "samples": "number of timed repetitions behind each of head and tail",
}


class ProfileNotFound(NotFoundError):
    """No measured profile for a (hardware, model) pair."""


def shipped_dir() -> Path:
    """The profiles that ship with sei (the repository's ``profiles/``): never overwritten
    without ``--force``."""
    return Path(__file__).resolve().parents[1] / "profiles"


def user_dir() -> Path:
    """Where ``sei profile`` and ``sei prune`` keep the user's own measurements:
    ``$XDG_DATA_HOME/splitetimpera/profiles`` (``~/.local/share/...`` by default)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "splitetimpera" / "profiles"


def search_dirs() -> list[Path]:
    """Folders searched for profiles, in order: ``$SEI_PROFILES``, the user's folder
    (:func:`user_dir`), ``./profiles``, the shipped ``profiles/``. The first that has a
    (hardware, model) pair wins; ``sei simulate`` says which it used."""
    dirs: list[Path] = []
    env = os.environ.get("SEI_PROFILES")
    if env:
        dirs.extend(Path(p) for p in env.split(os.pathsep) if p)
    dirs.extend([user_dir(), Path.cwd() / "profiles", shipped_dir()])
    seen: list[Path] = []
    for d in dirs:
        resolved = d.resolve()
        if resolved not in seen and resolved.is_dir():
            seen.append(resolved)
    return seen


def hardware_names() -> list[str]:
    """Every hardware name with at least one profile."""
    names: set[str] = set()
    for base in search_dirs():
        for sub in base.iterdir():
            if sub.is_dir() and any(sub.glob("*.csv")):
                names.add(sub.name)
    return sorted(names)


def _models_on(hardware: str) -> list[str]:
    models: set[str] = set()
    for base in search_dirs():
        models.update(p.stem for p in (base / hardware).glob("*.csv"))
    return sorted(models)


def locate(hardware: str, model: str) -> Path:
    """The CSV of a profile.

    Raises:
        ProfileNotFound: naming the known hardware, or the models measured on it.
    """
    for base in search_dirs():
        path = base / hardware / f"{model}.csv"
        if path.is_file():
            return path
    known = hardware_names()
    if hardware not in known:
        raise ProfileNotFound(
            f"unknown hardware profile {hardware!r}{did_you_mean(hardware, known) or ';'} "
            f"known: {', '.join(known) or 'none'}"
        )
    on = _models_on(hardware)
    raise ProfileNotFound(
        f"no profile of {model!r} on {hardware!r} (it has {', '.join(on)}); "
        f"measure one with `sei profile {model} --hardware {hardware}`"
    )


def read_meta(hardware: str, model: str) -> dict:
    """The metadata beside a profile (empty if there is none)."""
    path = locate(hardware, model).with_suffix(".json")
    if not path.is_file():
        return {}
    return json.loads(path.read_text())


def split_names(hardware: str, model: str) -> list[str]:
    """Split point names of a profile, in forward order."""
    return load_profile(hardware, model).splits


@dataclass(frozen=True)
class Profile:
    """One measured profile: a table of split points and the raw latency samples.

    Attributes:
        hardware: the hardware name (folder).
        model: the model name.
        table: one row per split point, indexed by split name; columns as in
            :data:`PROFILE_COLUMNS`.
        meta: the metadata file's contents.
        samples: ``(split, "head" | "tail")`` to an array of latencies in seconds.
        path: the CSV it was read from.
    """

    hardware: str
    model: str
    table: pd.DataFrame
    meta: dict
    samples: dict[tuple[str, str], np.ndarray] = field(repr=False)
    path: Path | None = None

    @property
    def shipped(self) -> bool:
        """True when it is one of the profiles that ship with sei."""
        return self.path is not None and _inside(self.path, shipped_dir())

    def describe(self) -> str:
        """Where it comes from, in a few words (for the console and reports)."""
        where = "shipped" if self.shipped else f"from {self.path.parent.parent}"
        date = self.meta.get("date")
        return f"{self.hardware} ({where}{f', measured {date}' if date else ''})"

    @property
    def splits(self) -> list[str]:
        return list(self.table.index)

    def row(self, split: str) -> pd.Series:
        if split not in self.table.index:
            hint = did_you_mean(split, self.splits)
            raise NotFoundError(f"{self.model} has no split {split!r}{hint}")
        return self.table.loc[split]

    def latency_samples(self, split: str, part: str) -> np.ndarray:
        """Raw latencies (s) of the head or tail at ``split``; the median if no samples."""
        found = self.samples.get((split, part))
        if found is not None and len(found):
            return found
        return np.array([float(self.row(split)[f"{part}_median_s"])])


@lru_cache(maxsize=64)
def _load(path: str, mtime: float) -> Profile:
    csv = Path(path)
    table = pd.read_csv(csv, dtype={"split": str, "shapes": str})
    table = table.set_index("split", drop=False)
    meta_path = csv.with_suffix(".json")
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    samples: dict[tuple[str, str], np.ndarray] = {}
    sample_path = csv.with_name(f"{csv.stem}.samples.parquet")
    if sample_path.is_file():
        raw = pd.read_parquet(sample_path)
        for (split, part), group in raw.groupby(["split", "part"], sort=False):
            samples[(str(split), str(part))] = group["seconds"].to_numpy(dtype=float)
    return Profile(
        hardware=csv.parent.name,
        model=csv.stem,
        table=table,
        meta=meta,
        samples=samples,
        path=csv,
    )


def load_profile(hardware: str, model: str) -> Profile:
    """Read a profile (cached while the file is unchanged)."""
    path = locate(hardware, model)
    return _load(str(path), path.stat().st_mtime)


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def guard_shipped(folder: Path, model: str, force: bool = False) -> None:
    """Refuse to overwrite a shipped profile without ``force``.

    Raises:
        SeiError: one line saying where user profiles go instead.
    """
    target = Path(folder) / f"{model}.csv"
    if target.is_file() and _inside(target, shipped_dir()) and not force:
        raise SeiError(
            f"{target} ships with sei; measure into your own folder ({user_dir()}, the "
            "default) or pass --force to replace the shipped profile"
        )


def write_profile(
    folder: Path,
    model: str,
    table: pd.DataFrame,
    meta: dict,
    samples: pd.DataFrame | None = None,
    force: bool = False,
) -> Path:
    """Write a profile's CSV, metadata and raw samples into ``folder``; returns the CSV path.

    Args:
        force: replace a shipped profile (see :func:`guard_shipped`).
    """
    guard_shipped(folder, model, force)
    folder.mkdir(parents=True, exist_ok=True)
    missing = [c for c in PROFILE_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"profile table lacks columns {missing}")
    csv = folder / f"{model}.csv"
    if samples is not None:
        write_parquet(samples, folder / f"{model}.samples.parquet")
    atomic_write_text(folder / f"{model}.json", json.dumps(meta, indent=2, sort_keys=True) + "\n")
    write_csv(table[list(PROFILE_COLUMNS)], csv)  # last: the CSV is what makes it found
    _load.cache_clear()
    return csv
