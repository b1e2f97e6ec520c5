"""The scenario format: YAML in, typed frozen objects out, every mistake one line.

A scenario names the model, the data, how split candidates are chosen, the device, the
server, the network, the workload, the QoS constraints and the execution modes to compare.
One module per section (:mod:`.model`, :mod:`.splits`, :mod:`.hardware`, :mod:`.network`,
:mod:`.workload`, :mod:`.qos`, :mod:`.early_exit`), the field types in :mod:`.fields`,
the whole in :mod:`.root`, reading files in :mod:`.files`, and pydantic's errors turned
into one line in :mod:`.messages`. Quantities are parsed once, here, into SI values:
seconds, bytes, bytes per second, events per second, fractions. The README's "Scenario
format" documents every key.

Relative paths in a scenario (weights, dataset path, trace, output) are taken relative to
the current working directory, like every path given on the command line.
"""

from .early_exit import EarlyExitSpec
from .fields import parse_shape
from .files import (
    apply_overrides,
    check_key,
    read_scenario,
    read_yaml,
    validate_scenario,
    validate_section,
)
from .hardware import DeviceSpec, ServerSpec
from .model import DatasetSpec, ModelSpec
from .network import GilbertElliott, LinkTraceSpec, NetworkSpec
from .policy import PolicySpec
from .qos import QosSpec
from .root import MODES, Scenario
from .splits import CodecName, SplitsSpec
from .workload import WorkloadSpec

__all__ = [
    "Scenario",
    "ModelSpec",
    "DatasetSpec",
    "SplitsSpec",
    "DeviceSpec",
    "ServerSpec",
    "NetworkSpec",
    "PolicySpec",
    "LinkTraceSpec",
    "GilbertElliott",
    "WorkloadSpec",
    "QosSpec",
    "EarlyExitSpec",
    "read_scenario",
    "read_yaml",
    "validate_scenario",
    "validate_section",
    "apply_overrides",
    "check_key",
    "parse_shape",
    "CodecName",
    "MODES",
]
