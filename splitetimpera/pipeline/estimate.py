"""What a run will cost before it starts: frames, memory and time.

``sei simulate --frames 100000000`` would run until memory is exhausted. :func:`budget`
counts the frames (configurations x devices x frames per device), estimates the memory
from measured costs per frame, and, for a long run, the time from two short pilot runs
of the same scenario; the CLI refuses a run that cannot fit in memory and asks for
``--yes`` before a long or large one.

Memory per frame, measured with ``tracemalloc`` on the wifi scenario (10 000 frames per
configuration): about 600 B while a configuration runs (its frame records, its table and
the bootstrap of its intervals) and 200 B per frame kept in the results table, which a
run that streams its frames to disk does not keep.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..errors import SeiError
from .policy import policy_names
from .simulate import inputs, simulate

__all__ = ["Budget", "budget", "guard", "available_memory", "RUN_BYTES", "KEPT_BYTES"]

#: Bytes per frame of the configuration being simulated.
RUN_BYTES = 600
#: Bytes per frame kept in memory for the results table (not when streamed to disk).
KEPT_BYTES = 200
#: Frames per device of the two pilot runs that time a long run.
_PILOTS = (20, 60)


@dataclass(frozen=True)
class Budget:
    """What a run needs.

    Attributes:
        configurations: configurations simulated.
        frames: frames in the whole run (all configurations and devices).
        memory: peak bytes, estimated.
        seconds: wall time, estimated from pilot runs (None when not estimated).
    """

    configurations: int
    frames: int
    memory: float
    seconds: float | None = None

    def describe(self) -> str:
        text = f"{self.frames:,} frames over {self.configurations} configurations, about "
        text += f"{self.memory / 1e9:.2g} GB of memory"
        if self.seconds is not None:
            text += f" and {_duration(self.seconds)}"
        return text


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def budget(
    scenario, frames: int | None = None, *, streamed: bool = True, timed: bool = False
) -> Budget:
    """Estimate a run of ``scenario`` with ``frames`` per device (its own by default).

    Args:
        streamed: frames are written to disk as each configuration ends (the CLI's way).
        timed: also estimate the time, from two pilot runs (a few seconds).
    """
    per_device = frames or scenario.workload.frames
    # every static configuration, and one run per run-time policy
    configurations = len(inputs(scenario).configurations) + len(policy_names(scenario))
    per_configuration = per_device * scenario.device.count
    total = configurations * per_configuration
    memory = per_configuration * RUN_BYTES + (0 if streamed else total * KEPT_BYTES)
    seconds = None
    if timed:
        elapsed = []
        for pilot in _PILOTS:
            started = time.perf_counter()
            simulate(scenario, frames=min(pilot, per_device))
            elapsed.append(time.perf_counter() - started)
        slope = max(elapsed[1] - elapsed[0], 0.0) / (_PILOTS[1] - _PILOTS[0])
        seconds = elapsed[0] + slope * max(per_device - _PILOTS[0], 0)
    return Budget(configurations, total, memory, seconds)


def available_memory() -> float | None:
    """Bytes of memory available now (Linux's MemAvailable), or None where unknown."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        return None
    return None


#: A run of more frames than this is timed by pilot runs before it starts.
LARGE_RUN = 200_000
#: A run longer than this (s), or needing more than this share of the free memory, asks
#: for --yes; one needing more than REFUSED_SHARE of it does not start at all.
ASK_SECONDS = 600
ASK_SHARE = 0.25
REFUSED_SHARE = 0.8


def guard(scenario, frames: int | None, yes: bool) -> Budget | None:
    """Refuse a run that cannot fit in memory; ask for ``yes`` before a long or large one.

    Returns:
        The estimate of a large run (for the console to show), or None for a usual one.

    Raises:
        SeiError: one line with the estimate and what to do.
    """
    estimate = budget(scenario, frames)
    free = available_memory()
    if free is not None and estimate.memory > REFUSED_SHARE * free:
        raise SeiError(
            f"this run needs {estimate.describe()}, more than the {free / 1e9:.2g} GB of "
            "memory free here; use fewer --frames"
        )
    if estimate.frames <= LARGE_RUN:
        return None
    estimate = budget(scenario, frames, timed=True)
    big = free is not None and estimate.memory > ASK_SHARE * free
    if (estimate.seconds > ASK_SECONDS or big) and not yes:
        raise SeiError(f"this run needs {estimate.describe()}; add --yes to run it anyway")
    return estimate
