"""Power models: the device's compute power (``device.power``) and its radio (``network.radio``).

Each key takes the name of a shipped model (:mod:`splitetimpera.power`, checked when a
scenario is loaded through :func:`splitetimpera.pipeline.load_scenario`) or an inline
mapping of the same keys as the shipped YAML files; both are validated by these sections,
so an inline model and a shipped one obey the same rules (units, ranges, a tail needs a
power). Powers are in watts, durations in seconds.
"""

from __future__ import annotations

from pydantic import model_validator

from .fields import Duration, PositivePower, Power, Section, value_or_section

__all__ = [
    "DevicePowerSpec",
    "RadioSpec",
    "TransferPower",
    "TimedState",
    "MODEL_TAGS",
    "DevicePower",
    "Radio",
]


class DevicePowerSpec(Section):
    """A board's power: ``idle`` between frames, ``active`` while it computes a frame."""

    #: The model's name (shipped models have one; an inline model may leave it out).
    name: str | None = None
    description: str = ""
    #: Board power with nothing to compute (radio excluded).
    idle: Power
    #: Board power while computing the head (all of it, idle part included).
    active: PositivePower

    @model_validator(mode="after")
    def _active_above_idle(self):
        if self.active < self.idle:
            raise ValueError(
                f"active: {self.active:g} W is below idle {self.idle:g} W; active is the "
                "whole board's power while computing"
            )
        return self


class TransferPower(Section):
    """Power while the radio moves data (Huang et al., MobiSys 2012):
    ``base + up_per_mbps * uplink Mbit/s + down_per_mbps * downlink Mbit/s``."""

    #: The connected radio's power with data flowing (beta).
    base: Power
    #: Watts per Mbit/s of uplink throughput (alpha_u): energy per uplink bit x 10^6.
    up_per_mbps: Power = 0.0
    #: Watts per Mbit/s of downlink throughput (alpha_d).
    down_per_mbps: Power = 0.0


class TimedState(Section):
    """A radio state held for a fixed time at a fixed power (promotion, tail)."""

    duration: Duration
    power: Power


class RadioSpec(Section):
    """A radio's state machine: idle, promotion, transfer, tail (then idle again)."""

    name: str | None = None
    description: str = ""
    transfer: TransferPower
    #: Idle to connected before the first packet after idle (LTE: RRC connection set-up).
    promotion: TimedState | None = None
    #: Connected without data after the last packet, until the inactivity timers expire.
    tail: TimedState | None = None
    #: Power when idle (LTE: paging cycles averaged).
    idle: Power


#: Tags of the name-or-mapping unions; error messages leave them out of key paths.
MODEL_TAGS = ("by_name", "inline")


DevicePower = value_or_section(str, DevicePowerSpec, MODEL_TAGS)
Radio = value_or_section(str, RadioSpec, MODEL_TAGS)
