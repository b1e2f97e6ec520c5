"""``advise(result)``: what would make an infeasible scenario feasible, by re-simulating the
closest configuration at other bandwidths (the search itself is :mod:`splitetimpera.suggest`)."""

from __future__ import annotations

from ..qos import match
from ..scenario import apply_overrides
from ..suggest import suggestion
from ..units import Kind, format_quantity
from .check import scenario_from_dict
from .simulate import simulate

__all__ = ["advise"]


def advise(result, frames: int = 200) -> str | None:
    """One line of advice when nothing in ``result`` is feasible, else None.

    Args:
        result: a :class:`~splitetimpera.pipeline.simulate.Result`.
        frames: frames per device in each re-simulation (at most the scenario's).
    """
    if result.qos.chosen is not None:
        return None
    scenario = result.scenario
    net = scenario.network
    frames = min(frames, scenario.workload.frames)
    base = scenario.model_dump(mode="json")

    def feasible_at(config_id: str, factor: float) -> bool:
        changed = apply_overrides(
            base,
            {
                "network.bandwidth": format_quantity(net.uplink_rate * factor, Kind.RATE),
                "network.downlink": format_quantity(net.downlink_rate * factor, Kind.RATE),
            },
        )
        again = simulate(
            scenario_from_dict(changed, scenario.source), frames=frames, only=[config_id]
        )
        return bool(match(again.summary, scenario.qos).table["feasible"].iloc[0])

    return suggestion(result, feasible_at)
