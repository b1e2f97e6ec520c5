"""Split selectors: which split points a scenario simulates. Found by name.

* ``all``: every split point of the model (input and output excluded: RC and LC).
* ``cde``: the size-based baseline (running minimum of the payload).
* ``isplit``: I-SPLIT candidates (interior local maxima of log10 CUI, plus top-k) for the
  scenario's class subset.
* a list of names: exactly those.

To add a selector, subclass :class:`SplitSelector`, give it a ``name`` and register it in
:data:`SELECTORS`.
"""

from __future__ import annotations

import difflib
from abc import ABC, abstractmethod

from .errors import NotFoundError
from .profiles import Profile
from .ranking import cde_candidates, cui_curve, isplit_candidates

__all__ = ["SplitSelector", "SELECTORS", "select_splits"]


class SplitSelector(ABC):
    name = "abstract"

    @abstractmethod
    def __call__(self, scenario, profile: Profile) -> list[str]:
        """Split names in forward order."""


class AllSplits(SplitSelector):
    name = "all"

    def __call__(self, scenario, profile):
        return [s for s in profile.splits if s not in ("input", "output")]


class CdeSplits(SplitSelector):
    name = "cde"

    def __call__(self, scenario, profile):
        table = profile.table
        names = [s for s in table.index if s != "output"]
        return cde_candidates(table.loc[names, "payload_fp32"], names)


class ISplitSplits(SplitSelector):
    name = "isplit"

    def __call__(self, scenario, profile):
        from .interpret.cache import isplit_table

        table = isplit_table(scenario)
        curve = cui_curve(table, scenario.dataset.classes)
        marked = isplit_candidates(curve, scenario.splits.top_k)
        chosen = set(marked.loc[marked["candidate"], "split"])
        return [s for s in profile.splits if s in chosen and s not in ("input", "output")]


SELECTORS: dict[str, type[SplitSelector]] = {
    cls.name: cls for cls in (AllSplits, CdeSplits, ISplitSplits)
}


def select_splits(scenario, profile: Profile) -> list[str]:
    """The scenario's candidate splits on ``profile``'s model, in forward order."""
    method = scenario.splits.method
    if isinstance(method, list):
        for name in method:
            if name not in profile.table.index:
                close = difflib.get_close_matches(name, profile.splits, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise NotFoundError(f"splits.method: {profile.model} has no split {name!r}{hint}")
        order = {s: i for i, s in enumerate(profile.splits)}
        return sorted(dict.fromkeys(method), key=order.__getitem__)
    selector = SELECTORS.get(method)
    if selector is None:
        raise NotFoundError(f"unknown split selector {method!r}; known: {', '.join(SELECTORS)}")
    return selector()(scenario, profile)
