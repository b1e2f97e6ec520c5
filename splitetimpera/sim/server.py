"""Server: a pool of workers that run the tail; frames queue when all are busy."""

from __future__ import annotations

import simpy

from .compute import Stage

__all__ = ["Server"]


class Server(Stage):
    """A server with ``workers`` identical workers running decoding and tail, one FIFO queue.

    Args:
        env: the simulation environment.
        workers: number of frames served at once (> 0).
    """

    def __init__(self, env: simpy.Environment, workers: int):
        if workers <= 0:
            raise ValueError(f'"workers" must be > 0, got {workers}.')
        super().__init__(env, workers, "t_tail_start", "t_tail_end")

    @property
    def workers(self) -> int:
        return self.units
