"""splitetimpera (``sei``): where to split a DNN between a device and a server, and what
quality of service that split gives on a given network.

Public API::

    from splitetimpera import load_scenario, simulate, write_result
    scenario = load_scenario("scenarios/wifi.yaml")
    result = simulate(scenario)       # nothing is written
    result.summary                    # one row per configuration (pandas DataFrame)
    write_result(result, "results/wifi")

Torch is imported only by the parts that run models (``splitetimpera.models``,
``splitetimpera.interpret``, ``splitetimpera.data``); loading scenarios and simulating a
scenario whose tables exist do not import it. ``ARCHITECTURE.md`` maps the package.
"""

from __future__ import annotations

from .errors import NotFoundError, ScenarioError, SeiError, UnknownNameError

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "Scenario",
    "Result",
    "SeiError",
    "ScenarioError",
    "NotFoundError",
    "UnknownNameError",
    "load_scenario",
    "simulate",
    "write_result",
    "read_result",
]

# Loaded on first use, so that `import splitetimpera.units` (and `sei --help`) stay light.
_LAZY = {
    "Scenario": "splitetimpera.scenario",
    "load_scenario": "splitetimpera.pipeline",
    "simulate": "splitetimpera.pipeline",
    "Result": "splitetimpera.pipeline",
    "write_result": "splitetimpera.results",
    "read_result": "splitetimpera.results",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'splitetimpera' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
