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

from .errors import ScenarioError

__all__ = [
    "CUI_COLUMNS",
    "LAYER_SETS",
    "REFERENCE_KINDS",
    "CANDIDATE_RULES",
    "PLATEAU_RTOL",
    "select_layers",
    "cui_curve",
    "plateaus",
    "local_maxima",
    "reference_maxima",
    "isplit_candidates",
    "cde_candidates",
    "best_by_class",
]

CUI_COLUMNS: dict[str, str] = {
    "split": "split point (layer) name",
    "depth": "position in forward order",
    "kind": "conv, pool or block (the reference layer set), classifier or other",
    "label": "ground-truth class of the images summed in this row",
    "score_sum": "sum over those images of s_n,l (the spatial mean of the Grad-CAM map)",
    "count": "number of images",
}

#: ``splits.layers``: every layer, or the original I-SPLIT code's layer set.
LAYER_SETS = ("all", "reference")
#: Layer kinds that make the reference layer set (see ``interpret.isplit.layer_kinds``).
REFERENCE_KINDS = ("conv", "pool", "block")
#: ``splits.candidates``: today's rule (interior local maxima plus the top-k by CUI), or
#: the original code's (every local maximum, the first value counted twice, no top-k).
CANDIDATE_RULES = ("top-k", "local-maxima")
#: Neighbouring layers whose CUI differs by at most this share of the larger are equal: a
#: plateau. Layers that pass the same values on (ReLU after ReLU, dropout at inference, a
#: linear layer without bias after another) give equal CUI in exact arithmetic, which
#: float32 rounding can split by about 1e-7; distinct layers differ by far more.
PLATEAU_RTOL = 1e-6


def select_layers(table: pd.DataFrame, layers: str, source: str | None = None) -> pd.DataFrame:
    """The rows of an I-SPLIT table (:data:`CUI_COLUMNS`) for a layer set.

    Raises:
        ScenarioError: ``splits.layers`` names an unknown set, or the model has no
            reference layer.
    """
    if layers not in LAYER_SETS:
        raise ScenarioError(
            source, "splits.layers", f"{layers!r} is not allowed; allowed: {', '.join(LAYER_SETS)}"
        )
    if layers == "all":
        return table
    rows = table[table["kind"].isin(REFERENCE_KINDS)]
    if rows.empty:
        raise ScenarioError(
            source,
            "splits.layers",
            "reference layers are not defined for this model: it has no convolution, "
            "fixed-window pooling or residual block outside its classifier (the original "
            "I-SPLIT scores those of VGG and ResNet); use layers: all",
        )
    return rows


def cui_curve(table: pd.DataFrame, classes=None) -> pd.DataFrame:
    """CUI and log10 CUI per layer for a class subset (all classes when None or 'all').

    Returns:
        One row per split in forward order with ``split``, ``depth``, ``kind``, ``cui``,
        ``log10_cui`` and ``images``.
    """
    rows = table
    if classes is not None and classes != "all":
        wanted = {str(c) for c in classes}
        rows = table[table["label"].astype(str).isin(wanted)]
        if rows.empty:
            raise ValueError(f"no image of classes {sorted(wanted)} in the I-SPLIT table")
    keys = ["depth", "split", "kind"]
    grouped = rows.groupby(keys, sort=True)[["score_sum", "count"]].sum().reset_index()
    with np.errstate(divide="ignore", invalid="ignore"):
        cui = np.abs(grouped["score_sum"].to_numpy(float) / grouped["count"].to_numpy(float))
        log = np.where(cui > 0, np.log10(np.where(cui > 0, cui, 1.0)), -np.inf)
    return pd.DataFrame(
        {
            "split": grouped["split"],
            "depth": grouped["depth"],
            "kind": grouped["kind"],
            "cui": cui,
            "log10_cui": log,
            "images": grouped["count"].astype(int),
        }
    )


def plateaus(values, rtol: float = PLATEAU_RTOL) -> np.ndarray:
    """Group id per layer: a run of layers whose CUI is within ``rtol`` of the run's first
    layer's (relative to the larger of the two) is one plateau.

    Comparing with the run's first layer, not the previous one, keeps a slow rise from
    merging into one plateau.
    """
    v = np.asarray(values, dtype=float)
    groups = np.zeros(len(v), dtype=int)
    first = 0
    for i in range(1, len(v)):
        same = abs(v[i] - v[first]) <= rtol * max(abs(v[i]), abs(v[first]))
        if not same:
            first = i
        groups[i] = groups[i - 1] + (0 if same else 1)
    return groups


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


def reference_maxima(values) -> list[int]:
    """The original I-SPLIT code's candidates: indices where the sign of the first
    difference drops (``diff(sign(diff(v))) < 0``), the first value counted twice.

    Counting the first value twice makes the first layer a candidate when the curve falls
    after it; the last layer never is. On values with no two neighbours equal this is every
    strict local maximum; equal neighbours (a plateau) give ties that the caller resolves
    first (see :func:`isplit_candidates`).
    """
    v = np.asarray(values, dtype=float)
    if len(v) < 2:
        return []
    padded = np.concatenate([v[:1], v])
    drops = np.diff(np.sign(np.diff(padded))) < 0
    return [int(i) for i in np.flatnonzero(drops)]


def isplit_candidates(curve: pd.DataFrame, top_k: int, rule: str = "top-k") -> pd.DataFrame:
    """Mark I-SPLIT candidates on a curve.

    A plateau (consecutive layers of equal CUI within :data:`PLATEAU_RTOL`) is one point
    of the curve, and its first layer (the shallowest: the same values for the least work
    on the device) stands for it, in both rules:

    * ``top-k``: interior local maxima of log10 CUI, and the ``top_k`` highest CUI;
    * ``local-maxima``: the original code's rule (:func:`reference_maxima`), no top-k.

    Returns:
        The curve with ``local_max``, ``top_k`` and ``candidate`` columns, and ``rank``
        (1 = highest CUI; a plateau shares its first layer's rank).
    """
    if rule not in CANDIDATE_RULES:
        raise ValueError(f"unknown candidate rule {rule!r}; known: {', '.join(CANDIDATE_RULES)}")
    out = curve.copy().reset_index(drop=True)
    cui = out["cui"].to_numpy(float)
    groups = plateaus(cui)
    reps = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])  # each plateau's first layer
    order = reps[np.argsort(-cui[reps], kind="stable")]
    group_rank = {groups[i]: r + 1 for r, i in enumerate(order)}
    out["rank"] = [group_rank[g] for g in groups]
    finite = np.isfinite(out["log10_cui"].to_numpy(float))
    values = np.where(finite, out["log10_cui"], -np.inf)[reps]
    maxima = local_maxima(values) if rule == "top-k" else reference_maxima(values)
    out["local_max"] = np.isin(np.arange(len(out)), reps[maxima])
    first = np.isin(np.arange(len(out)), reps)
    out["top_k"] = first & (out["rank"] <= top_k).to_numpy() & (rule == "top-k")
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
