"""The ``policy`` section: who chooses the configuration, once or before every frame.

``static`` is one configuration for the whole run (every configuration is simulated and
the QoS matcher picks one). ``adaptive`` and ``oracle`` re-choose before each frame and
add one row each to the results, named after them. Names are checked against the
registry of :mod:`splitetimpera.policies` when a scenario is loaded through
:func:`splitetimpera.pipeline.load_scenario` (this layer does not import it).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, field_validator

from .fields import NonNegativeFloat, PositiveDuration, Probability, Section, as_list

__all__ = ["PolicySpec"]


def _names(value: Any):
    value = as_list(value)
    if isinstance(value, list):
        if not value:
            raise ValueError("name at least one policy, e.g. static or adaptive")
        if len(set(value)) != len(value):
            raise ValueError(f"{value} names a policy twice")
    return value


class PolicySpec(Section):
    """Who chooses the configuration: ``static`` (once), ``adaptive`` or ``oracle``
    (before every frame)."""

    #: One name or a list: static, adaptive, oracle (``[adaptive, oracle]`` runs both).
    name: Annotated[list[str], BeforeValidator(_names)] = ["static"]
    #: adaptive: weight of the newest goodput sample in the EWMA of the uplink (0, 1].
    alpha: Probability = 0.3
    #: adaptive: switch only when the new configuration is predicted this much faster.
    hysteresis: Probability = 0.1
    #: adaptive: with no transfer seen for this long, offload one frame to measure.
    probe: PositiveDuration = 1.0
    #: adaptive: mean deviations of the per-byte transfer time added to the estimate, as
    #: TCP adds 4 RTTVAR to SRTT (0: plan on the mean; more: avoid an erratic link).
    caution: NonNegativeFloat = 0.0

    @field_validator("alpha")
    @classmethod
    def _alpha(cls, value: float) -> float:
        if not value > 0:
            raise ValueError("must be > 0 (the weight of the newest sample)")
        return value

    @property
    def dynamic(self) -> list[str]:
        """The names that choose per frame (all but static)."""
        return [n for n in self.name if n != "static"]
