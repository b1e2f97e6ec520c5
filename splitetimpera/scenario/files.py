"""Scenario files: YAML in, a validated :class:`Scenario` out, and the checks that need disk.

:func:`read_scenario` reads, overrides, validates the structure and units, and checks what
the scenario refers to on disk (profiles, checkpoints, datasets, traces, split names).
Names of pluggable parts (protocols, congestion controls) are checked one layer up, by
:func:`splitetimpera.pipeline.load_scenario`, which every command uses.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from .. import profiles
from ..catalog import REFERENCE_MODELS
from ..errors import ScenarioError, did_you_mean
from .messages import raise_one_line, section_of
from .root import Scenario

__all__ = [
    "read_yaml",
    "read_scenario",
    "validate_scenario",
    "apply_overrides",
    "check_key",
    "validate_section",
]


def read_yaml(path: Path) -> dict:
    """A YAML file's top-level mapping; every problem is a one-line :class:`ScenarioError`."""
    source = str(path)
    if not path.exists():
        raise ScenarioError(source, None, "no such file")
    if path.is_dir():
        raise ScenarioError(source, None, "is a folder, not a YAML file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(source, None, "is not a text file (expected YAML)") from None
    except OSError as exc:
        raise ScenarioError(source, None, f"cannot be read ({exc.strerror})") from None
    try:
        _refuse_duplicate_keys(source, yaml.compose(text, Loader=yaml.SafeLoader))
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(source, None, f"is not valid YAML ({where}{problem})") from None
    if data is None:
        raise ScenarioError(source, None, "is empty; a scenario is a mapping of sections")
    if not isinstance(data, dict):
        raise ScenarioError(
            source, None, f"must be a mapping of sections, not a {type(data).__name__}"
        )
    return data


def _refuse_duplicate_keys(source: str, node, path: str = "") -> None:
    """A key written twice in one mapping is refused (YAML would keep the last silently)."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            dotted = f"{path}.{key}" if path else key
            if key in seen:
                raise ScenarioError(
                    source, dotted, f"is given twice (lines {seen[key]} and {line}); keep one"
                )
            seen[key] = line
            _refuse_duplicate_keys(source, value_node, dotted)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _refuse_duplicate_keys(source, item, f"{path}[{i}]")


def validate_scenario(data: Mapping[str, Any], source: str | None = None) -> Scenario:
    """Validate a mapping as a scenario (structure, units, files it names).

    Raises:
        ScenarioError: on the first problem, naming ``source`` and the key.
    """
    if not isinstance(data, Mapping):
        raise ScenarioError(source, None, f"must be a mapping, not a {type(data).__name__}")
    bad = [k for k in data if not isinstance(k, str)]
    if bad:
        raise ScenarioError(source, str(bad[0]), "keys must be text")
    if "dimensions" in data and "base" in data:
        raise ScenarioError(
            source,
            None,
            "is a design-space spec (base, dimensions), not a scenario: run `sei explore` on it",
        )
    try:
        # the context lets sections resolve files relative to the scenario (link traces)
        scenario = Scenario.model_validate(dict(data), context={"source": source})
    except ValidationError as exc:
        raise_one_line(source, exc, Scenario)
    scenario = scenario.model_copy(update={"source": source})
    _check_references(scenario)
    return scenario


def validate_section(section: type[BaseModel], data: Mapping[str, Any], source: str | None):
    """Validate ``data`` as one section (e.g. :class:`NetworkSpec`) with the same one-line
    errors as a whole scenario, the key relative to the section."""
    try:
        return section.model_validate(dict(data), context={"source": source})
    except ValidationError as exc:
        raise_one_line(source, exc, section)


def read_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Read and validate a scenario file, with dotted ``overrides`` set first."""
    path = Path(path)
    data = read_yaml(path)
    if overrides:
        data = apply_overrides(data, overrides)
    return validate_scenario(data, str(path))


def apply_overrides(data: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict:
    """A deep copy of ``data`` with dotted keys (``network.bandwidth``) set to new values."""
    out = copy.deepcopy(dict(data))
    for dotted, value in overrides.items():
        parts = dotted.split(".")
        node = out
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = {}
                node[part] = child
            if not isinstance(child, dict):
                raise ScenarioError(None, dotted, f"{part!r} is not a section")
            node = child
        node[parts[-1]] = value
    return out


def check_key(key: str, source: str | None = None) -> None:
    """Raise a one-line ScenarioError unless ``key`` is a dotted path of the scenario format."""
    model: Any = Scenario
    walked: list[str] = []
    parts = key.split(".")
    for part in parts:
        fields = {n: f for n, f in model.model_fields.items() if not f.exclude}
        if part not in fields:
            close = difflib.get_close_matches(part, list(fields), n=1)
            hint = f"; did you mean {'.'.join([*walked, close[0]])!r}?" if close else ""
            where = ".".join(walked) or "the top level"
            raise ScenarioError(
                source, key, f"unknown key{hint} ({where} has: {', '.join(fields)})"
            )
        walked.append(part)
        inner = section_of(fields[part].annotation)
        if inner is None or not (isinstance(inner, type) and issubclass(inner, BaseModel)):
            if part != parts[-1]:
                raise ScenarioError(source, key, f"{'.'.join(walked)!r} is a value, not a section")
            return
        model = inner


def _check_references(scenario: Scenario) -> None:
    """Checks that need the file system: profiles, datasets, trace, weights."""
    src = scenario.source
    if scenario.model.saved and not Path(scenario.model.name).is_file():
        raise ScenarioError(src, "model.name", f"no saved model at {scenario.model.name!r}")
    model = scenario.model.profile_name
    for section in ("device", "server"):
        spec = getattr(scenario, section)
        try:
            profiles.locate(spec.profile, model)
        except profiles.ProfileNotFound as exc:
            raise ScenarioError(src, f"{section}.profile", str(exc)) from None
        if section == "device" and spec.threads is not None:
            meta = profiles.read_meta(spec.profile, model)
            measured = meta.get("threads")
            if measured is not None and measured != spec.threads:
                raise ScenarioError(
                    src,
                    "device.threads",
                    f"{spec.threads} threads, but profile {spec.profile!r} was measured with "
                    f"{measured}; measure one with `sei profile {model} --threads "
                    f"{spec.threads}` or drop the key",
                )
    weights = scenario.model.resolved_weights
    if weights not in ("builtin", "none", "saved") and not Path(weights).is_file():
        raise ScenarioError(src, "model.weights", f"no checkpoint file at {weights!r}")
    if weights == "builtin" and scenario.model.name not in REFERENCE_MODELS:
        raise ScenarioError(
            src,
            "model.weights",
            f"{model!r} has no built-in weights; give a checkpoint path or 'none' "
            f"(built-in weights exist for {', '.join(REFERENCE_MODELS)})",
        )
    if scenario.model.accuracy and not Path(scenario.model.accuracy).is_file():
        raise ScenarioError(
            src, "model.accuracy", f"no accuracy table at {scenario.model.accuracy!r}"
        )
    _check_dataset(scenario)
    wl = scenario.workload
    if wl.arrival == "trace" and not Path(wl.trace).is_file():
        raise ScenarioError(src, "workload.trace", f"no trace file at {wl.trace!r}")
    if scenario.early_exit is not None:
        split_names = profiles.split_names(scenario.device.profile, model)
        if scenario.early_exit.split not in split_names:
            raise ScenarioError(
                src,
                "early_exit.split",
                _unknown_split(scenario.early_exit.split, split_names, model),
            )
    if isinstance(scenario.splits.method, list):
        split_names = profiles.split_names(scenario.device.profile, model)
        for i, name in enumerate(scenario.splits.method):
            if name not in split_names:
                raise ScenarioError(
                    src, f"splits.method[{i}]", _unknown_split(name, split_names, model)
                )


def _check_dataset(scenario: Scenario) -> None:
    ds, src = scenario.dataset, scenario.source
    if ds.name != "imagefolder":
        return
    root = Path(ds.path)
    if not root.is_dir():
        raise ScenarioError(src, "dataset.path", f"no folder at {ds.path!r}")
    found = sorted(p.name for p in root.iterdir() if p.is_dir())
    if not found:
        raise ScenarioError(src, "dataset.path", f"{ds.path!r} holds no class folders")
    if ds.classes != "all":
        for c in ds.classes:
            if str(c) not in found:
                raise ScenarioError(
                    src,
                    "dataset.classes",
                    f"class {c!r} is not in {ds.path!r} (classes: {', '.join(found)})",
                )


def _unknown_split(name: str, known: list[str], model: str) -> str:
    return (
        f"{model} has no split {name!r}{did_you_mean(name, known)} (`sei splits {model}` lists them: "
        f"{', '.join(known[:6])}{', ...' if len(known) > 6 else ''})"
    )
