"""The ``device`` and ``server`` sections: where the head and the tail run."""

from __future__ import annotations

from .fields import PositiveEnergy, PositiveFloat, PositiveInt, Section
from .power import DevicePower

__all__ = ["DeviceSpec", "ServerSpec"]


class DeviceSpec(Section):
    """The embedded device(s) running the head."""

    #: Hardware name of a measured profile: ``profiles/<profile>/<model>.csv``.
    profile: str
    count: PositiveInt = 1
    #: Threads the profile was measured with (documentation; checked against it if given).
    threads: PositiveInt | None = None
    #: Multiply measured latencies by this factor to stand in for a slower device.
    slowdown: PositiveFloat = 1.0
    #: The board's power model: a shipped model's name or an inline ``{idle, active}``.
    power: DevicePower | None = None
    #: Battery capacity of each device (``"10 Wh"``), for battery life.
    battery: PositiveEnergy | None = None


class ServerSpec(Section):
    """The server running the tail."""

    profile: str
    workers: PositiveInt = 1
    slowdown: PositiveFloat = 1.0
