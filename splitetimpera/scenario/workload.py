"""The ``workload`` section: how frames arrive at each device."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from .fields import Frequency, PositiveDuration, PositiveInt, PositiveSize, Section

__all__ = ["WorkloadSpec"]


class WorkloadSpec(Section):
    """How frames arrive at each device."""

    arrival: Literal["periodic", "poisson", "trace"] = "periodic"
    rate: Frequency | None = None
    frames: PositiveInt = 200
    deadline: PositiveDuration | None = None
    #: CSV file with a ``time`` column (seconds) or one timestamp per line.
    trace: str | None = None
    #: Size of the result sent back to the device.
    result_size: PositiveSize = 64

    @model_validator(mode="after")
    def _check(self):
        if self.arrival == "trace":
            if not self.trace:
                raise ValueError("trace: arrival 'trace' needs the path of a trace file")
        elif self.rate is None:
            raise ValueError(f'rate: arrival {self.arrival!r} needs a rate, e.g. "30 fps"')
        return self
