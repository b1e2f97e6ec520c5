"""The whole scenario: its sections, name, seed, modes and output folder."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from ..codecs import applicable
from .early_exit import EarlyExitSpec
from .fields import Section, as_list
from .hardware import DeviceSpec, ServerSpec
from .model import DatasetSpec, ModelSpec
from .network import LinkTraceSpec, NetworkSpec
from .policy import PolicySpec
from .qos import QosSpec
from .splits import SplitsSpec
from .workload import WorkloadSpec

__all__ = ["Scenario", "MODES"]

MODES = ("LC", "RC", "SC", "EE")


class Scenario(Section):
    """A whole scenario, resolved and frozen."""

    name: str
    seed: Annotated[int, Field(ge=0)] = 0
    model: ModelSpec
    dataset: DatasetSpec = DatasetSpec()
    splits: SplitsSpec = SplitsSpec()
    device: DeviceSpec
    server: ServerSpec
    network: NetworkSpec
    workload: WorkloadSpec
    qos: QosSpec = QosSpec()
    modes: list[Literal["LC", "RC", "SC", "EE"]] = ["LC", "RC", "SC"]
    #: Who chooses the configuration: static (once) or adaptive/oracle (every frame).
    policy: PolicySpec = PolicySpec()
    early_exit: EarlyExitSpec | None = None
    output: str = "results"
    #: Where the scenario was read from (not a YAML key).
    source: str | None = Field(default=None, exclude=True)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        # letters of any script (the name becomes a folder name), no spaces or slashes
        if not re.fullmatch(r"[^\W_][\w.-]*", value):
            raise ValueError(
                f"{value!r} is not a usable name: letters, digits, '.', '_' and '-' only, "
                "starting with a letter or digit"
            )
        return value

    @field_validator("seed", mode="before")
    @classmethod
    def _seed(cls, value: Any):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected a whole number, got {value!r}")
        return value

    @field_validator("modes", mode="before")
    @classmethod
    def _modes(cls, value: Any):
        value = as_list(value)
        if isinstance(value, list):
            if not value:
                raise ValueError(f"name at least one of {', '.join(MODES)}")
            value = [v.upper() if isinstance(v, str) else v for v in value]
            if len(set(value)) != len(value):
                raise ValueError(f"{value} names a mode twice")
        return value

    @model_validator(mode="after")
    def _check(self):
        if "EE" in self.modes and self.early_exit is None:
            raise ValueError("early_exit: mode EE needs an early_exit section")
        codecs = self.splits.compression
        for mode in ("RC", "SC", "EE"):
            if mode in self.modes and not applicable(codecs, mode):
                kinds = (
                    "image codecs apply to RC only"
                    if mode != "RC"
                    else "the bottleneck applies to splits only"
                )
                raise ValueError(
                    f"splits.compression: no codec of {codecs} applies to {mode} ({kinds}); "
                    "add one that does, e.g. none, int8 or jpeg@75"
                )
        qos = self.qos
        wants_energy = (
            qos.max_energy is not None
            or qos.min_battery_life is not None
            or qos.objective == "energy"
            or (qos.weights or {}).get("energy", 0) > 0
        )
        if wants_energy and self.device.power is None:
            raise ValueError(
                "device.power: the QoS asks for energy, which needs the board's power model "
                "(a shipped name such as rpi4b, or {idle, active})"
            )
        if wants_energy and self.network.radio is None and self.modes != ["LC"]:
            raise ValueError(
                "network.radio: the QoS asks for energy, which needs the radio's power model "
                "(a shipped name such as lte or wifi, or an inline state machine)"
            )
        if qos.min_battery_life is not None and self.device.battery is None:
            raise ValueError('device.battery: qos.min_battery_life needs a battery, e.g. "10 Wh"')
        self._check_trace_length()
        return self

    def _check_trace_length(self) -> None:
        """A trace with ``loop: false`` must last the whole workload."""
        wl = self.workload
        if wl.arrival == "trace" or wl.rate is None:
            return
        span = wl.frames / wl.rate
        net = self.network
        for key, link in (("bandwidth", net.bandwidth), ("downlink", net.downlink)):
            if not isinstance(link, LinkTraceSpec) or link.loop:
                continue
            left = link.parsed.period - link.start
            if span > left:
                raise ValueError(
                    f"network.{key}.loop: the workload runs {span:g} s ({wl.frames} frames "
                    f"at {wl.rate:g} fps) but the trace has {left:g} s left after start; "
                    "set loop: true, fewer frames or an earlier start"
                )

    @property
    def results_dir(self) -> Path:
        return Path(self.output) / self.name
