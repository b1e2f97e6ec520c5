"""Power models as data: the boards' compute power and the radios' state machines, by name.

Each model is a YAML file shipped in this package (``devices/<name>.yaml``,
``radios/<name>.yaml``) whose every number carries its source in a comment; it is validated
by the same sections as an inline model in a scenario
(:class:`~splitetimpera.scenario.power.DevicePowerSpec`,
:class:`~splitetimpera.scenario.power.RadioSpec`). :func:`device_models` and
:func:`radio_models` are :class:`~splitetimpera.store.Registry` lookups: an unknown name
raises :class:`~splitetimpera.errors.UnknownNameError` naming the closest one.

To add a model, drop a YAML file in the folder (its ``name`` must match the file name) with a
source for every number; ARCHITECTURE.md says where the kernel takes it from there.

:func:`read_rapl` reads the host's package energy counters (Intel RAPL through the Linux
powercap interface), which ``sei profile`` records beside a profile when the machine
exposes them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from ..errors import ScenarioError
from ..scenario.files import validate_section
from ..scenario.power import DevicePowerSpec, RadioSpec
from ..store import Registry

__all__ = [
    "device_models",
    "radio_models",
    "device_power",
    "radio",
    "models_dir",
    "read_rapl",
    "rapl_energy",
    "RAPL_ROOT",
]

#: Where Linux exposes RAPL energy counters.
RAPL_ROOT = Path("/sys/class/powercap")


def models_dir() -> Path:
    """The folder of the shipped models (``devices/`` and ``radios/``)."""
    return Path(__file__).resolve().parent


def _load(kind: str, section, what: str) -> Registry:
    registry: Registry = Registry(what)
    for path in sorted((models_dir() / kind).glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        model = validate_section(section, data, str(path))
        if model.name != path.stem:
            raise ScenarioError(str(path), "name", f"{model.name!r} must match the file name")
        registry.register(model)
    return registry


@lru_cache(maxsize=1)
def device_models() -> Registry[DevicePowerSpec]:
    """The shipped boards' power models, by name."""
    return _load("devices", DevicePowerSpec, "device power model")


@lru_cache(maxsize=1)
def radio_models() -> Registry[RadioSpec]:
    """The shipped radios' power models, by name."""
    return _load("radios", RadioSpec, "radio model")


def device_power(value: str | DevicePowerSpec) -> DevicePowerSpec:
    """A scenario's ``device.power``: a shipped model by name, or the inline one as given."""
    return device_models().get(value) if isinstance(value, str) else value


def radio(value: str | RadioSpec) -> RadioSpec:
    """A scenario's ``network.radio``: a shipped model by name, or the inline one."""
    return radio_models().get(value) if isinstance(value, str) else value


def read_rapl(root: Path = RAPL_ROOT) -> dict[str, tuple[int, int]] | None:
    """The host's RAPL package counters now: ``{domain: (energy_uj, max_energy_range_uj)}``
    for every readable top-level ``intel-rapl:N`` domain, or None when there is none (no
    RAPL, not Linux, or the counters are readable by root only)."""
    found: dict[str, tuple[int, int]] = {}
    for domain in sorted(root.glob("intel-rapl:*")):
        if domain.name.count(":") != 1:  # sub-domains (core, dram) are inside the package
            continue
        try:
            energy = int((domain / "energy_uj").read_text())
            wrap = int((domain / "max_energy_range_uj").read_text())
        except (OSError, ValueError):
            continue
        found[domain.name] = (energy, wrap)
    return found or None


def rapl_energy(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> float:
    """Joules the packages used between two :func:`read_rapl` readings (a counter that
    wrapped around once is unwrapped)."""
    total = 0
    for domain, (start, wrap) in before.items():
        if domain not in after:
            continue
        end = after[domain][0]
        total += end - start if end >= start else end + wrap - start
    return total / 1e6
