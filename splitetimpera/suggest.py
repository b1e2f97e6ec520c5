"""What change would make an infeasible scenario feasible: a bandwidth search.

When no configuration meets the QoS, the matcher names the closest one. If it breaks a
network-bound constraint (latency, deadline misses, throughput), :func:`suggestion`
re-simulates that configuration alone at higher bandwidths (bisection on a log scale)
and reports the smallest bandwidth at which it becomes feasible, or says that the
bottleneck is compute when even a much faster link does not help.
"""

from __future__ import annotations

import math

from .qos import match
from .units import format_rate

__all__ = ["suggestion", "bandwidth_needed"]

_NETWORK_BOUND = {"max_latency", "max_deadline_miss", "min_throughput"}


def _feasible_at(scenario, config_id: str, factor: float, frames: int) -> bool:
    from .sim.engine import simulate

    net = scenario.network
    changed = scenario.model_copy(
        update={
            "network": net.model_copy(
                update={
                    "bandwidth": net.uplink_rate * factor,
                    "downlink": net.downlink_rate * factor,
                }
            )
        }
    )
    result = simulate(changed, frames=frames, only=[config_id])
    verdict = match(result.summary, scenario.qos)
    return bool(verdict.table["feasible"].iloc[0])


def bandwidth_needed(
    scenario, config_id: str, *, max_factor: float = 64.0, iterations: int = 7, frames: int = 200
) -> float | None:
    """Smallest uplink (bytes/s) at which ``config_id`` meets the QoS, within ``max_factor``
    of the scenario's; None if even that is not enough. Downlink is scaled alike."""
    frames = min(frames, scenario.workload.frames)
    if not _feasible_at(scenario, config_id, max_factor, frames):
        return None
    lo, hi = 0.0, math.log(max_factor)
    for _ in range(iterations):
        mid = (lo + hi) / 2
        if _feasible_at(scenario, config_id, math.exp(mid), frames):
            hi = mid
        else:
            lo = mid
    return scenario.network.uplink_rate * math.exp(hi)


def suggestion(result) -> str | None:
    """One line on what would make the closest configuration feasible, or None."""
    closest = result.qos.closest
    if closest is None:
        return None
    broken = result.qos.violations.get(closest, [])
    keys = {v.constraint for v in broken}
    parts = []
    if "min_accuracy" in keys:
        parts.append(
            f"{closest}: accuracy is fixed by the model, split and compression; no network "
            "change helps (try another split or compression)"
        )
    if keys & _NETWORK_BOUND and not closest.startswith("LC"):
        needed = bandwidth_needed(result.scenario, closest)
        if needed is None:
            parts.append(
                f"{closest} stays infeasible even at 64x the bandwidth: the bottleneck is "
                "compute (device or server) or delay, not the link rate"
            )
        elif needed > result.scenario.network.uplink_rate * 1.0001:
            parts.append(f"{closest} becomes feasible from about {format_rate(needed)} uplink")
    if "max_device_utilization" in keys:
        parts.append(
            f"{closest}: the device is too loaded; a faster device or a later split is needed"
        )
    return "; ".join(parts) or None
