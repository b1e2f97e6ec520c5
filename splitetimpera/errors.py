"""Errors that reach the user: each renders as one line, and the CLI exits 2 on them."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "SeiError",
    "ScenarioError",
    "NotFoundError",
    "UnknownNameError",
    "Interrupted",
    "did_you_mean",
]


def did_you_mean(name: object, known: Iterable[str], cutoff: float = 0.6) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``known`` to ``name``, or ``""``."""
    close = difflib.get_close_matches(str(name), list(known), n=1, cutoff=cutoff)
    return f"; did you mean {close[0]!r}?" if close else ""


class SeiError(Exception):
    """An error caused by the user's input, shown as one line without a traceback."""


class ScenarioError(SeiError):
    """A scenario (or sweep/explore spec) mistake: names the file and the key path.

    Rendered as ``scenarios/x.yaml: network.loss: 150% is out of range [0%, 100%)``.
    """

    def __init__(self, source: str | None, key: str | None, message: str):
        self.source = source
        self.key = key
        self.message = message
        parts = [p for p in (source, key) if p]
        super().__init__(": ".join([*parts, message]))


class NotFoundError(SeiError):
    """A named thing (model, profile, split, criterion...) that does not exist."""


class UnknownNameError(NotFoundError):
    """A name that no registry entry answers to; the message lists the known names.

    Rendered as ``unknown protocol 'tpc'; did you mean 'tcp'? Known: tcp, udp``.

    Attributes:
        kind: what was looked up (``protocol``, ``congestion control``...).
        name: the name given.
        known: the registered names.
    """

    def __init__(self, kind: str, name: str, known: Iterable[str]):
        self.kind = kind
        self.name = name
        self.known = list(known)
        close = difflib.get_close_matches(str(name), self.known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ";"
        super().__init__(f"unknown {kind} {name!r}{hint} Known: {', '.join(self.known) or 'none'}")


class Interrupted(SeiError):
    """Work stopped by Ctrl-C; the message says what was kept. The CLI exits 130."""
