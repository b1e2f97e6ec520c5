"""splitetimpera (``sei``): where to split a DNN between a device and a server, and what
quality of service that split gives on a given network.

Public API::

    from splitetimpera import load_scenario, simulate
    scenario = load_scenario("scenarios/wifi.yaml")
    result = simulate(scenario)
    result.summary          # one row per configuration (pandas DataFrame)

Torch is imported only by the parts that run models (``splitetimpera.models``,
``splitetimpera.interpret``, ``splitetimpera.data``); loading scenarios and simulating do not
import it.
"""

from __future__ import annotations

from .errors import NotFoundError, ScenarioError, SeiError
from .scenario import Scenario, load_scenario

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "Scenario",
    "Result",
    "SeiError",
    "ScenarioError",
    "NotFoundError",
    "load_scenario",
    "simulate",
]


def simulate(scenario, **kwargs):
    """Run every configuration of a scenario; see :func:`splitetimpera.sim.engine.simulate`."""
    from .sim.engine import simulate as _simulate

    return _simulate(scenario, **kwargs)


def __getattr__(name: str):
    if name == "Result":
        from .sim.engine import Result

        return Result
    raise AttributeError(f"module 'splitetimpera' has no attribute {name!r}")
