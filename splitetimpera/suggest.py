"""What change would make an infeasible scenario feasible: a bandwidth search.

When no configuration meets the QoS, the matcher names the closest one. If it breaks a
network-bound constraint (latency, deadline misses, throughput), :func:`suggestion` asks
whether that configuration alone becomes feasible at higher bandwidths (bisection on a log
scale) and reports the smallest bandwidth at which it does, or says that the bottleneck is
compute when even a much faster link does not help. The question is answered by a
``feasible_at(config_id, factor)`` callable the caller provides (the pipeline re-simulates).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from .units import format_rate

__all__ = ["suggestion", "bandwidth_needed", "FeasibleAt"]

_NETWORK_BOUND = {"max_latency", "max_deadline_miss", "min_throughput"}

#: ``feasible_at(config_id, factor)``: does the configuration meet the QoS with the
#: uplink and downlink rates multiplied by ``factor``?
FeasibleAt = Callable[[str, float], bool]


def bandwidth_needed(
    feasible_at: FeasibleAt,
    config_id: str,
    uplink_rate: float,
    *,
    max_factor: float = 64.0,
    iterations: int = 7,
) -> float | None:
    """Smallest uplink (bytes/s) at which ``config_id`` meets the QoS, within ``max_factor``
    of ``uplink_rate``; None if even that is not enough."""
    if not feasible_at(config_id, max_factor):
        return None
    lo, hi = 0.0, math.log(max_factor)
    for _ in range(iterations):
        mid = (lo + hi) / 2
        if feasible_at(config_id, math.exp(mid)):
            hi = mid
        else:
            lo = mid
    return uplink_rate * math.exp(hi)


def suggestion(result, feasible_at: FeasibleAt) -> str | None:
    """One line on what would make the closest configuration of ``result`` feasible, or None."""
    closest = result.qos.closest
    if closest is None:
        return None
    broken = result.qos.violations.get(closest, [])
    keys = {v.constraint for v in broken}
    uplink = result.scenario.network.uplink_rate
    parts = []
    if "min_accuracy" in keys:
        parts.append(
            f"{closest}: accuracy is fixed by the model, split and compression; no network "
            "change helps (try another split or compression)"
        )
    if keys & _NETWORK_BOUND and not closest.startswith("LC"):
        needed = bandwidth_needed(feasible_at, closest, uplink)
        if needed is None:
            parts.append(
                f"{closest} stays infeasible even at 64x the bandwidth: the bottleneck is "
                "compute (device or server) or delay, not the link rate"
            )
        elif needed > uplink * 1.0001:
            parts.append(f"{closest} becomes feasible from about {format_rate(needed)} uplink")
    if "max_device_utilization" in keys:
        parts.append(
            f"{closest}: the device is too loaded; a faster device or a later split is needed"
        )
    return "; ".join(parts) or None
