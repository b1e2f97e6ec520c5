"""The scenario format: YAML in, typed frozen objects out, every mistake one line.

A scenario names the model, the data, how split candidates are chosen, the device, the
server, the network, the workload, the QoS constraints and the execution modes to compare.
Quantities are strings with units (see :mod:`splitetimpera.units`) parsed once, here, into
SI values: seconds, bytes, bytes per second, events per second, fractions. The full format,
key by key, is documented in the README ("Scenario format").

Relative paths in a scenario (weights, dataset path, trace, output) are taken relative to
the current working directory, like every path given on the command line.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from . import units
from .errors import ScenarioError
from .models.catalog import REFERENCE_MODELS, default_input, known_models
from .units import Kind

__all__ = [
    "Scenario",
    "ModelSpec",
    "DatasetSpec",
    "SplitsSpec",
    "DeviceSpec",
    "ServerSpec",
    "NetworkSpec",
    "GilbertElliott",
    "WorkloadSpec",
    "QosSpec",
    "EarlyExitSpec",
    "load_scenario",
    "parse_scenario",
    "scenario_from_dict",
    "apply_overrides",
    "COMPRESSIONS",
    "MODES",
]

COMPRESSIONS = ("none", "fp16", "int8", "bottleneck")
MODES = ("LC", "RC", "SC", "EE")

_SYMBOL = {Kind.FRACTION: "%", Kind.TIME: "s", Kind.SIZE: "B"}


def _range_text(kind: Kind, lo, hi, lo_open: bool, hi_open: bool) -> str:
    def show(v):
        if v is None:
            return ""
        if kind is Kind.FRACTION:
            return f"{v * 100:g}%"
        return units.format_quantity(v, kind)

    left = "(" if lo_open or lo is None else "["
    right = ")" if hi_open or hi is None else "]"
    return f"{left}{show(lo) if lo is not None else '-inf'}, {show(hi) if hi is not None else 'inf'}{right}"


def _quantity(
    kind: Kind,
    *,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    hi_open: bool = False,
    integer: bool = False,
):
    """An annotated float (or int for sizes) parsed from a unit string, with a range check."""

    def validate(value: Any):
        parsed = units.parse_size(value) if integer else units.parse(value, kind)
        too_low = lo is not None and (parsed < lo or (lo_open and parsed == lo))
        too_high = hi is not None and (parsed > hi or (hi_open and parsed == hi))
        if too_low or too_high:
            shown = value.strip() if isinstance(value, str) else value
            raise ValueError(
                f"{shown} is out of range {_range_text(kind, lo, hi, lo_open, hi_open)}"
            )
        return parsed

    def serialise(value):
        # exact, and read back by the same validator: run.json stays a loadable scenario
        return units.format_quantity(value, kind)

    return Annotated[
        int if integer else float,
        BeforeValidator(validate),
        PlainSerializer(serialise, when_used="json"),
    ]


Duration = _quantity(Kind.TIME, lo=0.0)
PositiveDuration = _quantity(Kind.TIME, lo=0.0, lo_open=True)
Rate = _quantity(Kind.RATE, lo=0.0, lo_open=True)
Frequency = _quantity(Kind.FREQUENCY, lo=0.0, lo_open=True)
Probability = _quantity(Kind.FRACTION, lo=0.0, hi=1.0)
PositiveProbability = _quantity(Kind.FRACTION, lo=0.0, hi=1.0, lo_open=True)
LossRate = _quantity(Kind.FRACTION, lo=0.0, hi=1.0, hi_open=True)
Mtu = _quantity(Kind.SIZE, lo=68, hi=65535, integer=True)
Overhead = _quantity(Kind.SIZE, lo=0, hi=1000, integer=True)
PositiveSize = _quantity(Kind.SIZE, lo=1, integer=True)


def _positive_int(name: str):
    def validate(value: Any):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected a whole number, got {value!r}")
        if value <= 0:
            raise ValueError(f"must be > 0, got {value}")
        return value

    return Annotated[int, BeforeValidator(validate)]


PositiveInt = _positive_int("count")


def _positive_float(value: Any):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number such as 4, got {value!r}")
    if not value > 0:
        raise ValueError(f"must be > 0, got {value}")
    return float(value)


PositiveFloat = Annotated[float, BeforeValidator(_positive_float)]


def _percentile(value: Any) -> float:
    """Accept 95, 99.9, "95", "p95" or "95%"; must lie strictly between 0 and 100."""
    raw = value
    if isinstance(value, str):
        text = value.strip().lower().removeprefix("p").removesuffix("%").strip()
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{raw!r} is not a percentile; write it like p95 or 99.9") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{raw!r} is not a percentile; write it like p95 or 99.9")
    if not 0 < value < 100:
        raise ValueError(f"{raw} is out of range (0, 100)")
    return float(value)


Percentile = Annotated[float, BeforeValidator(_percentile)]


def _input_shape(value: Any):
    if value is None:
        return None
    if isinstance(value, str):
        parts = value.lower().replace(" ", "").split("x")
        try:
            dims = tuple(int(p) for p in parts)
        except ValueError:
            raise ValueError(f"{value!r} is not a shape; write it like 3x224x224") from None
    elif isinstance(value, (list, tuple)):
        dims = tuple(value)
    else:
        raise ValueError(f"{value!r} is not a shape; write it like 3x224x224")
    if len(dims) != 3 or not all(isinstance(d, int) and d > 0 for d in dims):
        raise ValueError(f"{value!r} is not a C x H x W shape; write it like 3x224x224")
    return dims


InputShape = Annotated[tuple[int, int, int] | None, BeforeValidator(_input_shape)]


def _as_list(value: Any):
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return [value]
    return value


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelSpec(_Section):
    """Which network, with which weights, at which input shape."""

    name: str
    #: ``builtin`` (the shipped checkpoint of a reference model), ``none`` (random init,
    #: enough for latency and payload), or the path of a checkpoint.
    weights: str | None = None
    #: C x H x W at batch 1, e.g. ``3x224x224``; the model's usual input by default.
    input: InputShape = None
    #: Optional path of an accuracy table (``sei rank --accuracy`` writes one).
    accuracy: str | None = None

    @field_validator("name")
    @classmethod
    def _known(cls, value: str) -> str:
        if value.endswith(".pt") or "/" in value:
            return value  # a saved whole model (e.g. a pruned one), checked when loaded
        names = known_models()
        if value not in names:
            close = difflib.get_close_matches(value, names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"unknown model {value!r}{hint} Known: {', '.join(REFERENCE_MODELS)}, "
                "or any torchvision classifier (e.g. vgg16, resnet50, mobilenet_v2)"
            )
        return value

    @property
    def saved(self) -> bool:
        """True when ``name`` is a model file written by sei (e.g. a pruned model)."""
        return self.name.endswith(".pt") or "/" in self.name

    @property
    def profile_name(self) -> str:
        """The name its profiles are stored under: the file's stem for a saved model."""
        return Path(self.name).stem if self.saved else self.name

    @property
    def resolved_weights(self) -> str:
        if self.saved:
            return "saved"
        if self.weights is not None:
            return self.weights
        return "builtin" if self.name in REFERENCE_MODELS else "none"

    @property
    def resolved_input(self) -> tuple[int, int, int]:
        if self.input:
            return self.input
        if self.saved:
            sidecar = Path(self.name).with_suffix(".json")
            if sidecar.is_file():
                import json

                shape = json.loads(sidecar.read_text()).get("input_shape")
                if shape:
                    return tuple(shape)
            return default_input(Path(self.name).stem.split("-")[0])
        return default_input(self.name)


class DatasetSpec(_Section):
    """The data used to rank splits and measure accuracy."""

    name: Literal["digits", "imagefolder"] = "digits"
    path: str | None = None
    #: ``all`` or a list of classes (indices for digits, folder names for imagefolder).
    classes: Literal["all"] | list[int | str] = "all"
    samples: PositiveInt = 512

    @field_validator("classes", mode="before")
    @classmethod
    def _classes(cls, value: Any):
        if value == "all":
            return value
        value = _as_list(value)
        if isinstance(value, list) and not value:
            raise ValueError("an empty class subset selects no image; name at least one class")
        if isinstance(value, list) and len(set(map(str, value))) != len(value):
            raise ValueError(f"classes {value} name a class twice")
        return value

    @model_validator(mode="after")
    def _check(self):
        if self.name == "imagefolder" and not self.path:
            raise ValueError("path: imagefolder needs the path of a folder of class folders")
        if self.name == "digits" and self.classes != "all":
            for c in self.classes:
                if isinstance(c, bool) or not isinstance(c, int) or not 0 <= c <= 9:
                    raise ValueError(f"classes: {c!r} is not a digits class (0..9)")
        return self


class SplitsSpec(_Section):
    """How split candidates are chosen, and how the crossing tensor is compressed."""

    #: ``isplit``, ``cde``, ``all``, or a list of split names (``features.16``).
    method: Literal["isplit", "cde", "all"] | list[str] = "isplit"
    top_k: PositiveInt = 3
    compression: list[Literal["none", "fp16", "int8", "bottleneck"]] = ["none"]
    #: Which class the I-SPLIT gradient targets: the model's prediction (the reference
    #: semantics) or the ground-truth label.
    target: Literal["predicted", "label"] = "predicted"

    @field_validator("compression", mode="before")
    @classmethod
    def _compression(cls, value: Any):
        value = _as_list(value)
        if isinstance(value, list) and not value:
            raise ValueError(f"name at least one of {', '.join(COMPRESSIONS)}")
        return value

    @field_validator("method", mode="before")
    @classmethod
    def _method(cls, value: Any):
        if isinstance(value, list) and not value:
            raise ValueError("an empty list of splits; name splits or use isplit, cde or all")
        return value


class DeviceSpec(_Section):
    """The embedded device(s) running the head."""

    #: Hardware name of a measured profile: ``profiles/<profile>/<model>.csv``.
    profile: str
    count: PositiveInt = 1
    #: Threads the profile was measured with (documentation; checked against it if given).
    threads: PositiveInt | None = None
    #: Multiply measured latencies by this factor to stand in for a slower device.
    slowdown: PositiveFloat = 1.0


class ServerSpec(_Section):
    """The server running the tail."""

    profile: str
    workers: PositiveInt = 1
    slowdown: PositiveFloat = 1.0


class GilbertElliott(_Section):
    """Bursty loss: a two-state Markov chain over packets (good and bad)."""

    #: Per-packet probability of moving from the good to the bad state.
    p_good_to_bad: Probability
    #: Per-packet probability of moving back; 1 / p_bad_to_good is the mean burst length.
    p_bad_to_good: PositiveProbability
    loss_good: Probability = 0.0
    loss_bad: Probability = 1.0

    @property
    def mean_loss(self) -> float:
        """Stationary packet-loss rate."""
        pi_bad = self.p_good_to_bad / (self.p_good_to_bad + self.p_bad_to_good)
        return (1 - pi_bad) * self.loss_good + pi_bad * self.loss_bad


def _loss_kind(value: Any) -> str:
    return "gilbert_elliott" if isinstance(value, (Mapping, GilbertElliott)) else "rate"


Loss = Annotated[
    Annotated[LossRate, Tag("rate")] | Annotated[GilbertElliott, Tag("gilbert_elliott")],
    Discriminator(_loss_kind),
]


class NetworkSpec(_Section):
    """The channel between the devices and the server."""

    #: A transport by name (see ``splitetimpera.sim.transport.TRANSPORTS``: tcp, udp).
    protocol: str = "tcp"
    #: TCP congestion control, by name (see ``splitetimpera.sim.tcp.CONGESTION_CONTROLS``).
    congestion: str = "cubic"
    bandwidth: Rate
    #: Downlink rate (server to device); the uplink's by default.
    downlink: Rate | None = None
    #: One-way propagation delay.
    delay: Duration
    jitter: Duration = 0.0
    #: A packet-loss rate (``"1%"``) or a Gilbert-Elliott block for bursty loss.
    loss: Loss = 0.0
    mtu: Mtu = 1500
    #: Link-layer bytes per packet beyond IP (Ethernet: 14 header + 4 FCS + 8 preamble + 12 gap).
    link_overhead: Overhead = 38
    #: Bottleneck queue limit, in packets (drop-tail).
    queue: PositiveInt = 1000
    connection: Literal["persistent", "per-frame"] = "persistent"
    #: ``packet``: every packet is simulated; ``fast``: per-frame transfer times drawn from
    #: distributions the packet model computes once per link and caches.
    fidelity: Literal["packet", "fast"] = "packet"

    @field_validator("protocol")
    @classmethod
    def _protocol(cls, value: str) -> str:
        from .sim import tcp, udp  # noqa: F401  (registers the built-in transports)
        from .sim.transport import TRANSPORTS

        if value not in TRANSPORTS:
            close = difflib.get_close_matches(value, list(TRANSPORTS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"{value!r} is not allowed; allowed: {', '.join(TRANSPORTS)}{hint}")
        return value

    @field_validator("congestion")
    @classmethod
    def _cc(cls, value: str) -> str:
        from .sim.tcp import CONGESTION_CONTROLS

        if value not in CONGESTION_CONTROLS:
            raise ValueError(
                f"unknown congestion control {value!r}; known: {', '.join(CONGESTION_CONTROLS)}"
            )
        return value

    @model_validator(mode="after")
    def _mtu(self):
        header = 40 if self.protocol == "tcp" else 28
        if self.mtu <= header:
            raise ValueError(f"mtu: {self.mtu} B leaves no room for the {header} B of headers")
        return self

    @property
    def uplink_rate(self) -> float:
        return self.bandwidth

    @property
    def downlink_rate(self) -> float:
        return self.downlink if self.downlink is not None else self.bandwidth


class WorkloadSpec(_Section):
    """How frames arrive at each device."""

    arrival: Literal["periodic", "poisson", "trace"] = "periodic"
    rate: Frequency | None = None
    frames: PositiveInt = 200
    deadline: PositiveDuration | None = None
    #: CSV file with a ``time`` column (seconds) or one timestamp per line.
    trace: str | None = None
    #: Size of the result sent back to the device.
    result_size: PositiveSize = 64

    @model_validator(mode="after")
    def _check(self):
        if self.arrival == "trace":
            if not self.trace:
                raise ValueError("trace: arrival 'trace' needs the path of a trace file")
        elif self.rate is None:
            raise ValueError(f'rate: arrival {self.arrival!r} needs a rate, e.g. "30 fps"')
        return self


class QosSpec(_Section):
    """Constraints a configuration must meet, and how to choose among the feasible ones."""

    min_accuracy: Probability | None = None
    max_latency: PositiveDuration | None = None
    percentile: Percentile = 95.0
    max_deadline_miss: Probability | None = None
    min_throughput: Frequency | None = None
    max_device_utilization: Probability | None = None
    objective: Literal["latency", "accuracy", "bytes", "weighted"] = "latency"
    #: For ``objective: weighted``: weights of normalised latency, (1 - accuracy) and bytes.
    weights: dict[Literal["latency", "accuracy", "bytes"], float] | None = None

    @model_validator(mode="after")
    def _weights(self):
        if self.objective == "weighted" and not self.weights:
            raise ValueError(
                "weights: objective 'weighted' needs weights, e.g. {latency: 1, accuracy: 2}"
            )
        if self.weights and any(w < 0 for w in self.weights.values()):
            raise ValueError("weights: weights must be >= 0")
        return self


class EarlyExitSpec(_Section):
    """An exit branch on the device: frames it is confident about finish there."""

    split: str
    #: Share of frames that leave at the exit.
    exit_rate: Probability
    #: Top-1 accuracy of the frames that exit.
    accuracy: Probability
    #: Extra device time of the exit branch.
    branch_latency: Duration = 0.0


class Scenario(_Section):
    """A whole scenario, resolved and frozen."""

    name: str
    seed: Annotated[int, Field(ge=0)] = 0
    model: ModelSpec
    dataset: DatasetSpec = DatasetSpec()
    splits: SplitsSpec = SplitsSpec()
    device: DeviceSpec
    server: ServerSpec
    network: NetworkSpec
    workload: WorkloadSpec
    qos: QosSpec = QosSpec()
    modes: list[Literal["LC", "RC", "SC", "EE"]] = ["LC", "RC", "SC"]
    early_exit: EarlyExitSpec | None = None
    output: str = "results"
    #: Where the scenario was read from (not a YAML key).
    source: str | None = Field(default=None, exclude=True)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", value):
            raise ValueError(
                f"{value!r} is not a usable name: letters, digits, '.', '_' and '-' only"
            )
        return value

    @field_validator("seed", mode="before")
    @classmethod
    def _seed(cls, value: Any):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected a whole number, got {value!r}")
        return value

    @field_validator("modes", mode="before")
    @classmethod
    def _modes(cls, value: Any):
        value = _as_list(value)
        if isinstance(value, list):
            if not value:
                raise ValueError(f"name at least one of {', '.join(MODES)}")
            value = [v.upper() if isinstance(v, str) else v for v in value]
            if len(set(value)) != len(value):
                raise ValueError(f"{value} names a mode twice")
        return value

    @model_validator(mode="after")
    def _check(self):
        if "EE" in self.modes and self.early_exit is None:
            raise ValueError("early_exit: mode EE needs an early_exit section")
        return self

    @property
    def results_dir(self) -> Path:
        return Path(self.output) / self.name


# --------------------------------------------------------------------------- errors


def _fields_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The pydantic model class found by walking ``loc`` from ``model``."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(part)
        if field is None:
            if part in _TAGS:
                continue
            return None
        current = _model_in(field.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found is not None:
            return found
    return None


_TAGS = ("rate", "gilbert_elliott")


def _key(loc: tuple) -> str:
    out = ""
    for i, part in enumerate(loc):
        if part in _TAGS and i > 0 and loc[i - 1] == "loss":
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and part.startswith(("function-", "literal[", "list[")):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out


def _describe(error: dict, root: type[BaseModel]) -> tuple[str, str]:
    """(key path, message) for one pydantic error."""
    loc = tuple(error.get("loc", ()))
    kind = error.get("type", "")
    given = error.get("input")
    msg = error.get("msg", "")
    if kind == "extra_forbidden":
        parent = _fields_at(root, loc[:-1])
        allowed = [n for n, f in parent.model_fields.items() if not f.exclude] if parent else []
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return _key(loc), f"unknown key{hint or '.'} Allowed here: {', '.join(allowed)}"
    if kind == "missing":
        return _key(loc), "is required but missing"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        options = re.findall(r"'([^']*)'", expected)
        close = difflib.get_close_matches(str(given), options, n=1) if options else []
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return _key(loc), f"{given!r} is not allowed; allowed: {', '.join(options)}{hint}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return _key(loc), f"expected a mapping of keys, got {given!r}"
    if kind in ("list_type", "tuple_type"):
        return _key(loc), f"expected a list, got {given!r}"
    if kind.startswith(("int_", "float_")):
        return _key(loc), f"expected a number, got {given!r}"
    if kind.startswith("string_") or kind == "str_type":
        return _key(loc), f"expected text, got {given!r}"
    if kind == "bool_type" or kind.startswith("bool_"):
        return _key(loc), f"expected true or false, got {given!r}"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    elif msg.startswith("Assertion failed, "):
        msg = msg[len("Assertion failed, ") :]
    # model validators report with an empty loc; their message may start with "key: "
    match = re.match(r"^([a-z_][a-z0-9_.\[\]]*): (.*)$", msg)
    if match and not kind.startswith("extra"):
        inner = match.group(1)
        parent = _key(loc)
        return (f"{parent}.{inner}" if parent else inner), match.group(2)
    return _key(loc), msg


def _pick(errors: list[dict]) -> dict:
    """The most useful error of a union's alternatives (the one that got furthest)."""
    return max(errors, key=lambda e: (e.get("type") != "missing", len(e.get("loc", ()))))


def _raise(source: str | None, exc: ValidationError, root: type[BaseModel]):
    errors = exc.errors(include_url=False)
    # A wrong value in a key the user wrote says more than a key left out: report it first.
    errors.sort(key=lambda e: e.get("type") == "missing")
    # Union alternatives: one error per branch; keep only the informative branch.
    by_key: dict[str, list[dict]] = {}
    for err in errors:
        by_key.setdefault(_key(tuple(err.get("loc", ()))), []).append(err)
    first_key = next(iter(by_key))
    first = _pick(by_key[first_key]) if len(by_key[first_key]) > 1 else by_key[first_key][0]
    key, message = _describe(first, root)
    more = len(by_key) - 1
    if more:
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    raise ScenarioError(source, key or None, message) from None


# --------------------------------------------------------------------------- loading


def _read_yaml(path: Path) -> Any:
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


def scenario_from_dict(data: Mapping[str, Any], source: str | None = None) -> Scenario:
    """Validate a mapping as a scenario, raising :class:`ScenarioError` on the first problem."""
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
        scenario = Scenario.model_validate(dict(data))
    except ValidationError as exc:
        _raise(source, exc, Scenario)
    scenario = scenario.model_copy(update={"source": source})
    _check_references(scenario)
    return scenario


def _check_references(scenario: Scenario) -> None:
    """Checks that need the file system: profiles, datasets, trace, weights."""
    from . import profiles

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
    ds = scenario.dataset
    if ds.name == "imagefolder":
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


def _unknown_split(name: str, known: list[str], model: str) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return (
        f"{model} has no split {name!r}{hint} (`sei splits {model}` lists them: "
        f"{', '.join(known[:6])}{', ...' if len(known) > 6 else ''})"
    )


def parse_scenario(text: str, source: str | None = None) -> Scenario:
    """Parse a scenario from YAML text (``source`` names it in errors)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(source, None, f"is not valid YAML ({exc})") from None
    if data is None:
        raise ScenarioError(source, None, "is empty; a scenario is a mapping of sections")
    return scenario_from_dict(data, source)


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Read, validate and resolve a scenario file.

    Args:
        path: a YAML file.
        overrides: dotted keys to set before validation, e.g.
            ``{"network.bandwidth": "10 Mbit/s"}`` (sweeps and CLI options use this).

    Returns:
        A frozen :class:`Scenario` with every quantity in SI units.

    Raises:
        ScenarioError: one line naming the file, the key and what is allowed.
    """
    path = Path(path)
    data = _read_yaml(path)
    if overrides:
        data = apply_overrides(data, overrides)
    return scenario_from_dict(data, str(path))


def read_raw(path: str | Path) -> dict:
    """The scenario file as a plain mapping (for sweeps that override keys)."""
    return _read_yaml(Path(path))


def apply_overrides(data: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict:
    """A deep copy of ``data`` with dotted keys (``network.bandwidth``) set to new values."""
    import copy

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
