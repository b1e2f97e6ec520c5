"""Split candidates from tables (no torch): I-SPLIT curves from per-class sums, and CDE.

I-SPLIT's CUI of a layer over an image set S is the mean over S of each image's score
``s_n,l`` (METHODS section 2). :mod:`splitetimpera.interpret.isplit` stores, per layer and
per class, the sum of ``s_n,l`` and the image count; the curve of any class subset is then
sum over its classes / count over its classes, computed here without torch.

A CUI table has the columns of :data:`CUI_COLUMNS`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = [
    "CUI_COLUMNS",
    "cui_curve",
    "local_maxima",
    "isplit_candidates",
    "cde_candidates",
    "best_by_class",
]

CUI_COLUMNS: dict[str, str] = {
    "split": "split point (layer) name",
    "depth": "position in forward order",
    "label": "ground-truth class of the images summed in this row",
    "score_sum": "sum over those images of s_n,l (the spatial mean of the Grad-CAM map)",
    "count": "number of images",
}


def cui_curve(table: pd.DataFrame, classes=None) -> pd.DataFrame:
    """CUI and log10 CUI per layer for a class subset (all classes when None or 'all').

    Returns:
        One row per split in forward order with ``split``, ``depth``, ``cui``,
        ``log10_cui`` and ``images``.
    """
    rows = table
    if classes is not None and classes != "all":
        wanted = {str(c) for c in classes}
        rows = table[table["label"].astype(str).isin(wanted)]
        if rows.empty:
            raise ValueError(f"no image of classes {sorted(wanted)} in the I-SPLIT table")
    grouped = rows.groupby(["depth", "split"], sort=True)[["score_sum", "count"]].sum()
    grouped = grouped.reset_index()
    with np.errstate(divide="ignore", invalid="ignore"):
        cui = np.abs(grouped["score_sum"].to_numpy(float) / grouped["count"].to_numpy(float))
        log = np.where(cui > 0, np.log10(np.where(cui > 0, cui, 1.0)), -np.inf)
    return pd.DataFrame(
        {
            "split": grouped["split"],
            "depth": grouped["depth"],
            "cui": cui,
            "log10_cui": log,
            "images": grouped["count"].astype(int),
        }
    )


def local_maxima(values) -> list[int]:
    """Indices of interior local maxima: the first difference turns from + to -.

    A plateau at the top counts once, at its first index.
    """
    v = np.asarray(values, dtype=float)
    out: list[int] = []
    n = len(v)
    i = 1
    while i < n - 1:
        if v[i] > v[i - 1]:
            j = i
            while j < n - 1 and v[j + 1] == v[i]:
                j += 1
            if j < n - 1 and v[j + 1] < v[i]:
                out.append(i)
            i = j + 1
        else:
            i += 1
    return out


def _plateaus(values: np.ndarray) -> np.ndarray:
    """Group id per layer: consecutive layers with the same CUI (identity-like layers such
    as a ReLU after a ReLU, or dropout at inference) share a group."""
    groups = np.zeros(len(values), dtype=int)
    for i in range(1, len(values)):
        same = np.isclose(values[i], values[i - 1], rtol=1e-9, atol=0.0)
        groups[i] = groups[i - 1] if same else groups[i - 1] + 1
    return groups


def isplit_candidates(curve: pd.DataFrame, top_k: int) -> pd.DataFrame:
    """Mark I-SPLIT candidates on a curve: interior local maxima of log10 CUI, and top-k.

    A plateau of equal CUI (the same tensor passed through identity-like layers) counts
    once, at its first layer, both as a maximum and in the top-k.

    Returns:
        The curve with ``local_max``, ``top_k`` and ``candidate`` columns, and ``rank``
        (1 = highest CUI; a plateau shares its first layer's rank).
    """
    out = curve.copy().reset_index(drop=True)
    cui = out["cui"].to_numpy(float)
    groups = _plateaus(cui)
    first = np.array([i == 0 or groups[i] != groups[i - 1] for i in range(len(out))], dtype=bool)
    finite = np.isfinite(out["log10_cui"].to_numpy(float))
    values = np.where(finite, out["log10_cui"], -np.inf)
    maxima = set(local_maxima(values))
    reps = np.flatnonzero(first)
    order = reps[np.argsort(-cui[reps], kind="stable")]
    group_rank = {groups[i]: r + 1 for r, i in enumerate(order)}
    out["rank"] = [group_rank[g] for g in groups]
    out["local_max"] = [i in maxima and first[i] for i in range(len(out))]
    out["top_k"] = first & (out["rank"] <= top_k).to_numpy()
    out["candidate"] = out["local_max"] | out["top_k"]
    return out


def cde_candidates(payloads: pd.Series, names: list[str]) -> list[str]:
    """The size-based baseline: splits whose payload is below every earlier one's.

    Args:
        payloads: payload bytes in forward order, the input first.
        names: split names aligned with ``payloads``.

    Returns:
        Names of the splits where the running minimum drops (the input excluded: it is
        remote computing, which RC covers).
    """
    out: list[str] = []
    best = math.inf
    for i, (name, size) in enumerate(zip(names, payloads)):
        if size < best:
            if i > 0:
                out.append(name)
            best = size
    return out


def best_by_class(table: pd.DataFrame, top_k: int = 1) -> pd.DataFrame:
    """For each class alone: the split with the highest CUI (a plateau's first layer)."""
    rows = []
    for label, group in table.groupby("label", sort=True):
        marked = isplit_candidates(cui_curve(group), top_k)
        best = marked[marked["rank"] == 1].iloc[0]
        rows.append({"label": label, "best_split": best["split"], "cui": best["cui"]})
    return pd.DataFrame(rows)
