"""Server: a pool of workers that run the tail; frames queue when all are busy."""

from __future__ import annotations

from collections.abc import Iterator

import simpy

from .frames import FrameRecord

__all__ = ["Server"]


class Server:
    """A server with ``workers`` identical workers and one FIFO queue.

    Args:
        env: the simulation environment.
        workers: number of frames served at once (> 0).
    """

    def __init__(self, env: simpy.Environment, workers: int):
        if workers <= 0:
            raise ValueError(f'"workers" must be > 0, got {workers}.')
        self.env = env
        self.workers = workers
        self.pool = simpy.Resource(env, capacity=workers)
        self.busy = 0.0

    def run(self, record: FrameRecord, seconds: float) -> Iterator[simpy.Event]:
        """Wait for a free worker, then compute for ``seconds`` (decoding plus tail)."""
        with self.pool.request() as request:
            yield request
            record.t_tail_start = self.env.now
            if seconds > 0:
                yield self.env.timeout(seconds)
            self.busy += seconds
            record.t_tail_end = self.env.now
