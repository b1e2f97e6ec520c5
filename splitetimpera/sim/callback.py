"""A bare SimPy event that calls one function: scheduling without a ``Timeout`` object.

The simulator schedules one event per packet and one per TCP timer; a ``Timeout`` costs
an object with an environment, a value and a callback list each time. :func:`call_later`
puts a slotted object on the environment's queue with ``Environment.schedule`` at normal
priority, exactly where ``env.timeout(delay)`` would put it, so the order of events (time,
priority, insertion) and every result stay the same; ``Environment.step`` reads only an
event's ``callbacks`` and ``_ok``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import simpy
from simpy.events import NORMAL

__all__ = ["CallEvent", "call_later"]


class CallEvent:
    """An event that calls ``fn(arg)``; schedule it with ``env.schedule(event, NORMAL, delay)``."""

    __slots__ = ("callbacks", "_ok", "fn", "arg")

    def __init__(self, fn: Callable[[Any], None], arg: Any):
        self.callbacks = _RUN  # step() reads and replaces the reference, never the list
        self._ok = True
        self.fn = fn
        self.arg = arg


def _run(event: CallEvent) -> None:
    event.fn(event.arg)


_RUN = [_run]


def call_later(env: simpy.Environment, delay: float, fn: Callable[[Any], None], arg: Any) -> None:
    """Call ``fn(arg)`` ``delay`` seconds from now (>= 0), as a timeout's callback would be."""
    env.schedule(CallEvent(fn, arg), NORMAL, delay)
