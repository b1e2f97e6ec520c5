"""Split selectors: which split points a scenario simulates. Found by name.

* ``all``: every split point of the model (input and output excluded: RC and LC).
* ``cde``: the size-based baseline (running minimum of the payload).
* ``isplit``: I-SPLIT candidates for the scenario's class subset and layer set, by its
  candidate rule (interior local maxima of log10 CUI plus top-k, or the original code's
  local maxima), from the I-SPLIT table passed in.
* a list of names: exactly those.

Selectors read tables only: the profile (split names, payloads) and, for ``isplit``, the
scenario's I-SPLIT table, which the caller finds or computes. To add a selector, subclass
:class:`SplitSelector`, give it a ``name`` and decorate it with
``@SELECTORS.register``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import pandas as pd

from .errors import NotFoundError, SeiError, did_you_mean
from .profiles import Profile
from .ranking import cde_candidates, cui_curve, isplit_candidates, select_layers
from .store import Registry

__all__ = ["SplitSelector", "SELECTORS", "Selection", "select_splits", "needs_isplit"]


@dataclass(frozen=True, eq=False)
class Selection:
    """What a selector may look at.

    Attributes:
        profile: the device's profile of the model (split names in forward order, payloads).
        classes: ``all`` or the application's class subset.
        top_k: how many top-CUI layers I-SPLIT adds to its local maxima.
        isplit: the per-(layer, class) I-SPLIT sums, when the method needs them.
        layers: the layers I-SPLIT ranks: ``all`` or ``reference``.
        candidates: I-SPLIT's candidate rule: ``top-k`` or ``local-maxima``.
        source: the scenario file, named by errors.
    """

    profile: Profile
    classes: object = "all"
    top_k: int = 3
    isplit: pd.DataFrame | None = None
    layers: str = "all"
    candidates: str = "top-k"
    source: str | None = None


class SplitSelector(ABC):
    name = "abstract"
    #: True when the selector needs :attr:`Selection.isplit`.
    needs_isplit = False

    @abstractmethod
    def __call__(self, selection: Selection) -> list[str]:
        """Split names in forward order."""


SELECTORS: Registry[type[SplitSelector]] = Registry("split selector")


@SELECTORS.register
class AllSplits(SplitSelector):
    name = "all"

    def __call__(self, selection):
        return [s for s in selection.profile.splits if s not in ("input", "output")]


@SELECTORS.register
class CdeSplits(SplitSelector):
    name = "cde"

    def __call__(self, selection):
        table = selection.profile.table
        names = [s for s in table.index if s != "output"]
        return cde_candidates(table.loc[names, "payload_fp32"], names)


@SELECTORS.register
class ISplitSplits(SplitSelector):
    name = "isplit"
    needs_isplit = True

    def __call__(self, selection):
        if selection.isplit is None:
            raise SeiError("the isplit selector needs the scenario's I-SPLIT table")
        table = select_layers(selection.isplit, selection.layers, selection.source)
        curve = cui_curve(table, selection.classes)
        marked = isplit_candidates(curve, selection.top_k, selection.candidates)
        chosen = set(marked.loc[marked["candidate"], "split"])
        return [s for s in selection.profile.splits if s in chosen and s not in ("input", "output")]


def needs_isplit(method) -> bool:
    """True when ``method`` (a selector name or a list of splits) reads the I-SPLIT table."""
    return not isinstance(method, list) and SELECTORS.get(method).needs_isplit


def select_splits(method, selection: Selection) -> list[str]:
    """The candidate splits of ``method`` (a selector name or a list of names), forward order."""
    profile = selection.profile
    if isinstance(method, list):
        for name in method:
            if name not in profile.table.index:
                hint = did_you_mean(name, profile.splits)
                raise NotFoundError(f"splits.method: {profile.model} has no split {name!r}{hint}")
        order = {s: i for i, s in enumerate(profile.splits)}
        return sorted(dict.fromkeys(method), key=order.__getitem__)
    return SELECTORS.get(method)()(selection)
