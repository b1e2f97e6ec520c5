"""Device: the embedded compute resource that runs the head (one frame at a time)."""

from __future__ import annotations

from collections.abc import Iterator

import simpy

from .frames import FrameRecord

__all__ = ["Device"]


class Device:
    """One embedded device: a single compute unit; frames queue while it is busy.

    Args:
        env: the simulation environment.
        index: the device's number in the scenario.
    """

    def __init__(self, env: simpy.Environment, index: int):
        self.env = env
        self.index = index
        self.cpu = simpy.Resource(env, capacity=1)
        self.busy = 0.0

    def run(self, record: FrameRecord, seconds: float) -> Iterator[simpy.Event]:
        """Wait for the device, then compute for ``seconds`` (head plus encoding)."""
        with self.cpu.request() as request:
            yield request
            record.t_head_start = self.env.now
            if seconds > 0:
                yield self.env.timeout(seconds)
            self.busy += seconds
            record.t_head_end = self.env.now
