"""What change would make an infeasible scenario feasible: a bandwidth search.

When no configuration meets the QoS, :func:`suggestion` says why the closest one fails,
and asks, of the closest configurations that break only network-bound constraints
(latency, deadline misses, throughput), whether each becomes feasible at higher bandwidths
(bisection on a log scale); it reports the smallest bandwidth that makes one feasible, or
says that the bottleneck is compute when even a much faster link does not help. The question is answered by a
``feasible_at(config_id, factor)`` callable the caller provides (the pipeline re-simulates).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from .units import format_rate

__all__ = ["suggestion", "bandwidth_needed", "bandwidth_floor", "FeasibleAt"]

_NETWORK_BOUND = {"max_latency", "max_deadline_miss", "min_throughput"}

#: ``feasible_at(config_id, factor)``: does the configuration meet the QoS with the
#: uplink and downlink rates multiplied by ``factor``?
FeasibleAt = Callable[[str, float], bool]


def _least_feasible(
    feasible_at: FeasibleAt, config_id: str, lo: float, hi: float, iterations: int
) -> float:
    """Bisect on the log of the bandwidth factor between ``lo`` (infeasible) and ``hi``
    (feasible): the smallest factor found feasible."""
    for _ in range(iterations):
        mid = (lo + hi) / 2
        if feasible_at(config_id, math.exp(mid)):
            hi = mid
        else:
            lo = mid
    return math.exp(hi)


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
    return uplink_rate * _least_feasible(
        feasible_at, config_id, 0.0, math.log(max_factor), iterations
    )


#: The lowest share of today's uplink a headroom search tries.
LOWEST_FACTOR = 1 / 64


def headroom_sentence(room: dict) -> str:
    """The headroom of a choice in words (``room``: :func:`~splitetimpera.pipeline.advice.
    headroom`'s answer); a floor at the lowest share tried is said to be one."""
    rate = format_rate(room["uplink_floor"])
    if room["factor"] >= (1 / LOWEST_FACTOR) * (1 - 1e-9):
        return (
            f"{room['config']} still meets the QoS at {rate} uplink ({room['factor']:.3g}x "
            "below today's, the lowest tried)."
        )
    return (
        f"{room['config']} keeps meeting the QoS down to about {rate} uplink "
        f"({room['factor']:.3g}x below today's)."
    )


def bandwidth_floor(
    feasible_at: FeasibleAt,
    config_id: str,
    uplink_rate: float,
    *,
    min_factor: float = LOWEST_FACTOR,
    iterations: int = 7,
) -> float:
    """Smallest uplink (bytes/s) down to which ``config_id``, feasible at ``uplink_rate``,
    stays feasible (at most ``min_factor`` of it): the bandwidth headroom of a choice."""
    if feasible_at(config_id, min_factor):
        return uplink_rate * min_factor
    return uplink_rate * _least_feasible(
        feasible_at, config_id, math.log(min_factor), 0.0, iterations
    )


def _fixable(result) -> list[str]:
    """Infeasible configurations that break only what a faster network can fix, closest
    first (the matcher's order: summed relative violation, then the objective)."""
    table = result.qos.table.sort_values(["excess", "score", "config"])
    out = []
    for config in table["config"]:
        broken = {v.constraint for v in result.qos.violations.get(config, [])}
        if broken and broken <= _NETWORK_BOUND and not config.startswith("LC"):
            out.append(config)
    return out


def suggestion(result, feasible_at: FeasibleAt, shown: int = 4) -> str | None:
    """One line on what would make the scenario feasible, or None when something is.

    The closest configuration may break a constraint no network change fixes (accuracy,
    device load); the bandwidth search runs over every configuration that breaks only
    network-bound constraints (those that stay infeasible at 64x the bandwidth are
    dropped after one try), and names the one that needs the least bandwidth.
    """
    if result.qos.chosen is not None or result.qos.closest is None:
        return None
    closest = result.qos.closest
    keys = {v.constraint for v in result.qos.violations.get(closest, [])}
    uplink = result.scenario.network.uplink_rate
    parts = []
    if "min_accuracy" in keys:
        parts.append(
            f"{closest}: accuracy is fixed by the model, split and compression; no network "
            "change helps (try another split or compression)"
        )
    if "max_device_utilization" in keys:
        parts.append(
            f"{closest}: the device is too loaded; a faster device or a later split is needed"
        )
    candidates = _fixable(result)
    needs = {c: bandwidth_needed(feasible_at, c, uplink) for c in candidates}
    found = {c: n for c, n in needs.items() if n is not None}
    if found:
        best = min(found, key=found.get)
        if found[best] > uplink * 1.0001:
            parts.append(f"{best} becomes feasible from about {format_rate(found[best])} uplink")
        else:
            parts.append(
                f"{best} meets the QoS at this bandwidth in a shorter run: it is at the edge, "
                "and more frames would settle it"
            )
    elif candidates:
        named = ", ".join(candidates[:shown]) + (
            f" and {len(candidates) - shown} more" if len(candidates) > shown else ""
        )
        verb = "stays" if len(candidates) == 1 else "stay"
        parts.append(
            f"{named} {verb} infeasible even at 64x the bandwidth: the bottleneck is "
            "compute (device or server) or delay, not the link rate"
        )
    return "; ".join(parts) or None
