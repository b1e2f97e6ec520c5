"""Errors that reach the user: each renders as one line, and the CLI exits 2 on them."""

from __future__ import annotations

__all__ = ["SeiError", "ScenarioError", "NotFoundError"]


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
