"""Loading a scenario for a run: the format's checks plus the names of pluggable parts.

:mod:`splitetimpera.scenario` checks structure, units and the files a scenario names; it
does not import the simulator, so the names of its registries (protocols, congestion
controls) and of the shipped power models (:mod:`splitetimpera.power`) are checked here,
with the same one-line errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import power
from ..errors import ScenarioError, UnknownNameError
from ..policies import POLICIES
from ..scenario import NetworkSpec, Scenario, read_scenario, validate_scenario
from ..sim.protocols import CONGESTION_CONTROLS, TRANSPORTS

__all__ = [
    "load_scenario",
    "scenario_from_dict",
    "check_names",
    "check_network_names",
    "check_power_names",
]


def _check(source: str | None, checks) -> None:
    for key, registry, name in checks:
        try:
            registry.get(name)
        except UnknownNameError as exc:
            raise ScenarioError(source, key, str(exc)) from None


def check_network_names(network: NetworkSpec, source: str | None = None) -> None:
    """Check the protocol and congestion control of a ``network`` section."""
    _check(
        source,
        (
            ("network.protocol", TRANSPORTS, network.protocol),
            ("network.congestion", CONGESTION_CONTROLS, network.congestion),
        ),
    )


def check_power_names(scenario: Scenario) -> None:
    """Check the names of ``device.power`` and ``network.radio`` against the shipped models
    (inline models were validated with the scenario)."""
    checks = [
        (key, registry(), name)
        for key, registry, name in (
            ("device.power", power.device_models, scenario.device.power),
            ("network.radio", power.radio_models, scenario.network.radio),
        )
        if isinstance(name, str)
    ]
    _check(scenario.source, checks)


def check_names(scenario: Scenario) -> Scenario:
    """Check every registry name a scenario uses; returns it unchanged.

    Raises:
        ScenarioError: naming the file, the key, the closest known name and all of them.
    """
    check_network_names(scenario.network, scenario.source)
    check_power_names(scenario)
    _check(
        scenario.source,
        [(f"policy.name[{i}]", POLICIES, name) for i, name in enumerate(scenario.policy.name)],
    )
    return scenario


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Read, validate and resolve a scenario file.

    Args:
        path: a YAML file.
        overrides: dotted keys to set before validation, e.g.
            ``{"network.bandwidth": "10 Mbit/s"}`` (sweeps and CLI options use this).

    Returns:
        A frozen :class:`~splitetimpera.scenario.Scenario` with every quantity in SI units.

    Raises:
        ScenarioError: one line naming the file, the key and what is allowed.
    """
    return check_names(read_scenario(path, overrides))


def scenario_from_dict(data: Mapping[str, Any], source: str | None = None) -> Scenario:
    """Validate a mapping (e.g. a ``run.json``'s scenario) as a scenario, names included."""
    return check_names(validate_scenario(data, source))
