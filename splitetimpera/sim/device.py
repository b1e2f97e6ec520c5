"""Device: the embedded compute resource that runs the head (one frame at a time)."""

from __future__ import annotations

import simpy

from .compute import Stage

__all__ = ["Device"]


class Device(Stage):
    """One embedded device: a single compute unit running head and encoding; frames queue
    while it is busy.

    Args:
        env: the simulation environment.
        index: the device's number in the scenario.
    """

    def __init__(self, env: simpy.Environment, index: int):
        super().__init__(env, 1, "t_head_start", "t_head_end")
        self.index = index
