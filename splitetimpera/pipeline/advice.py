"""``advise(result)``: what would make an infeasible scenario feasible; ``headroom(result)``:
how far the bandwidth can fall before the choice fails. Both re-simulate one configuration
at other bandwidths (the searches themselves are :mod:`splitetimpera.suggest`)."""

from __future__ import annotations

from ..qos import match
from ..scenario import apply_overrides
from ..suggest import bandwidth_floor, suggestion
from .check import scenario_from_dict
from .simulate import simulate

__all__ = ["advise", "headroom"]


def _feasible_at(result, frames: int):
    """``feasible_at(config_id, factor)`` by re-simulating one configuration."""
    scenario = result.scenario
    net = scenario.network
    frames = min(frames, scenario.workload.frames)
    base = scenario.model_dump(mode="json")

    def feasible_at(config_id: str, factor: float) -> bool:
        changed = apply_overrides(base, net.scaled(factor))
        again = simulate(
            scenario_from_dict(changed, scenario.source), frames=frames, only=[config_id]
        )
        return bool(match(again.summary, scenario.qos).table["feasible"].iloc[0])

    return feasible_at


def advise(result, frames: int = 200) -> str | None:
    """One line of advice when nothing in ``result`` is feasible, else None.

    Args:
        result: a :class:`~splitetimpera.pipeline.simulate.Result`.
        frames: frames per device in each re-simulation (at most the scenario's).
    """
    if result.qos.chosen is not None:
        return None
    return suggestion(result, _feasible_at(result, frames))


def headroom(result, frames: int = 200) -> dict | None:
    """How far the uplink can fall before the chosen configuration stops meeting the QoS
    (downlink scaled alike), or None when nothing is chosen or it uses no network.

    Returns:
        ``{"config", "uplink_floor" (bytes/s), "factor" (today's uplink / the floor)}``.
    """
    chosen = result.qos.chosen
    if chosen is None or chosen == "LC":
        return None
    uplink = result.scenario.network.uplink_rate
    floor = bandwidth_floor(_feasible_at(result, frames), chosen, uplink)
    return {"config": chosen, "uplink_floor": floor, "factor": uplink / floor}
