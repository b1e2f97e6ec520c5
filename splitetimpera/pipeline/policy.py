"""Run-time policies in a run: which configurations they choose among, what they are told
of them and of the network, and the row each adds to the summary."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..policies import POLICIES, Alternative, Policy, PolicyContext
from ..sim.channel import IP_TCP_HEADER, IP_UDP_HEADER
from ..sim.params import RunSpec
from ..sim.tcp import TIMESTAMP_OPTION
from .plan import Configuration

__all__ = [
    "POLICY_MODE",
    "policy_names",
    "bounds",
    "candidates",
    "make_policy",
    "policy_configuration",
]

#: The ``mode`` of a policy's summary row.
POLICY_MODE = "policy"


def policy_names(scenario, only: list[str] | None = None) -> list[str]:
    """The per-frame policies the scenario runs (those in ``only``, when given)."""
    names = [n for n in scenario.policy.name if POLICIES.get(n).per_frame]
    return names if only is None else [n for n in names if n in only]


def bounds(summary) -> frozenset[str]:
    """The rows of ``summary`` that are bounds, not designs (the oracle's), which the QoS
    matcher never chooses."""
    rows = summary.loc[summary["mode"] == POLICY_MODE, "config"] if len(summary) else []
    return frozenset(name for name in rows if name in POLICIES.names() and POLICIES.get(name).bound)


def candidates(scenario, configs: list[Configuration]) -> list[Configuration]:
    """The configurations a policy may choose: those that meet ``qos.min_accuracy`` (all
    when none is set; a configuration of unknown accuracy only then)."""
    floor = scenario.qos.min_accuracy
    if floor is None:
        return list(configs)
    return [c for c in configs if not math.isnan(c.accuracy) and c.accuracy >= floor]


def _wire(network) -> Callable[[float], float]:
    """Application bytes to bytes on the link, for the scenario's protocol (TCP carries
    Linux's timestamp option, as the simulator does)."""
    header = IP_TCP_HEADER + TIMESTAMP_OPTION if network.protocol == "tcp" else IP_UDP_HEADER
    segment = network.mtu - header
    per_packet = header + network.link_overhead

    def wire(nbytes: float) -> float:
        return nbytes + math.ceil(nbytes / segment) * per_packet

    return wire


def make_policy(name: str, scenario, configs: list[Configuration], specs: list[RunSpec]) -> Policy:
    """A fresh ``name`` policy over ``configs`` (whose run specs are ``specs``)."""
    alternatives = []
    for config, spec in zip(configs, specs):
        job = spec.job
        payload = (
            float(np.mean(job.payload_samples)) if job.payload_samples.size else job.payload_bytes
        )
        head = float(np.median(job.head_samples)) + job.encode_s + job.branch_s
        tail = float(np.median(job.tail_samples)) + job.decode_s
        alternatives.append(
            Alternative(
                id=config.id,
                mode=config.mode,
                payload_bytes=payload if config.mode != "LC" else 0.0,
                head_s=head * spec.device_slowdown,
                tail_s=tail * spec.server_slowdown,
            )
        )
    network, policy = scenario.network, scenario.policy
    context = PolicyContext(
        alternatives=tuple(alternatives),
        devices=scenario.device.count,
        delay=network.delay,
        uplink_rate=network.uplink_rate,
        downlink_rate=network.downlink_rate,
        result_bytes=scenario.workload.result_size,
        wire=_wire(network),
        alpha=policy.alpha,
        hysteresis=policy.hysteresis,
        probe=policy.probe,
        caution=policy.caution,
    )
    return POLICIES.get(name)(context)


def policy_configuration(name: str, configs: list[Configuration], records) -> Configuration:
    """The summary row's description of a policy's run: its mean payload, and its
    accuracy as the frame-weighted accuracy of the configurations it chose (NaN when one
    of them has none)."""
    chosen = [configs[r.choice] for r in records if r.choice >= 0]
    accuracies = np.array([c.accuracy for c in chosen], dtype=float)
    accuracy = float(accuracies.mean()) if accuracies.size else math.nan
    payloads = [r.payload_bytes for r in records if r.payload_bytes]
    return Configuration(
        mode=POLICY_MODE,
        split="per frame",
        compression="per frame",
        payload_bytes=int(round(float(np.mean(payloads)))) if payloads else 0,
        accuracy=accuracy,
        name=name,
    )
