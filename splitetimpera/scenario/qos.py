"""The ``qos`` section: constraints a configuration must meet, and how to choose among them."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from .fields import (
    Frequency,
    Percentile,
    PositiveDuration,
    PositiveEnergy,
    Probability,
    Section,
)

__all__ = ["QosSpec"]


class QosSpec(Section):
    """Constraints a configuration must meet, and how to choose among the feasible ones."""

    min_accuracy: Probability | None = None
    max_latency: PositiveDuration | None = None
    percentile: Percentile = 95.0
    max_deadline_miss: Probability | None = None
    min_throughput: Frequency | None = None
    max_device_utilization: Probability | None = None
    #: Energy per frame on the device (compute, radio, tail and idle), e.g. ``"50 mJ"``.
    max_energy: PositiveEnergy | None = None
    #: Battery life of each device at the workload (needs ``device.battery``).
    min_battery_life: PositiveDuration | None = None
    objective: Literal["latency", "accuracy", "bytes", "energy", "weighted"] = "latency"
    #: For ``objective: weighted``: weights of normalised latency, (1 - accuracy), bytes
    #: and energy per frame.
    weights: dict[Literal["latency", "accuracy", "bytes", "energy"], float] | None = None

    @model_validator(mode="after")
    def _weights(self):
        if self.objective == "weighted" and not self.weights:
            raise ValueError(
                "weights: objective 'weighted' needs weights, e.g. {latency: 1, accuracy: 2}"
            )
        if self.weights and any(w < 0 for w in self.weights.values()):
            raise ValueError("weights: weights must be >= 0")
        return self
