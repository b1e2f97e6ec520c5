"""The ``network`` section: the channel between the devices and the server.

``protocol`` and ``congestion`` are names of the simulator's registries; they are checked
against them when a scenario is loaded through :func:`splitetimpera.pipeline.load_scenario`
(this layer does not import the simulator).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    PrivateAttr,
    ValidationInfo,
    model_validator,
)

from ..traces import LinkTrace, TraceError, read_link_trace, resolve_trace
from ..units import Kind, format_quantity, format_rate
from .fields import (
    Duration,
    LossRate,
    Mtu,
    Overhead,
    PositiveFloat,
    PositiveInt,
    PositiveProbability,
    Probability,
    Rate,
    Section,
    value_or_section,
)
from .power import Radio

__all__ = ["NetworkSpec", "GilbertElliott", "LinkTraceSpec", "LOSS_TAGS", "BANDWIDTH_TAGS"]


class GilbertElliott(Section):
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


#: Tags of the ``network.loss`` union; error messages leave them out of key paths.
LOSS_TAGS = ("rate", "gilbert_elliott")


Loss = value_or_section(LossRate, GilbertElliott, LOSS_TAGS)


def _trace_shorthand(value: Any) -> Any:
    """``"trace:PATH"`` stands for ``{trace: PATH}`` (handy in sweeps and on the command line)."""
    if isinstance(value, str) and value.strip().lower().startswith("trace:"):
        return {"trace": value.strip()[len("trace:") :].strip()}
    return value


class LinkTraceSpec(Section):
    """A link whose capacity follows a recorded trace (:mod:`splitetimpera.traces`)."""

    #: A Mahimahi or ``time,bandwidth`` CSV file: relative to the scenario's folder, then
    #: the current folder, then sei's shipped ``traces/``.
    trace: str
    #: Offset into the trace at the run's start.
    start: Duration = 0.0
    #: Repeat the trace at its end (Mahimahi does); ``false`` refuses a run longer than
    #: what is left of the trace after ``start``.
    loop: bool = True
    #: Multiplies the trace's capacity (0.5: the same link at half the bytes).
    scale: PositiveFloat = 1.0
    _parsed: LinkTrace | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _read(self, info: ValidationInfo):
        source = (info.context or {}).get("source") if info is not None else None
        try:
            parsed = read_link_trace(resolve_trace(self.trace, source))
        except TraceError as exc:
            raise ValueError(f"trace: {exc}") from None
        if self.start >= parsed.period:
            raise ValueError(
                f"start: {self.start:g} s is beyond the trace, which lasts "
                f"{parsed.period:g} s ({parsed.path})"
            )
        self._parsed = parsed
        return self

    @property
    def parsed(self) -> LinkTrace:
        """The trace file's contents."""
        if self._parsed is None:  # pragma: no cover - set by validation
            self._parsed = read_link_trace(resolve_trace(self.trace))
        return self._parsed

    @property
    def mean_rate(self) -> float:
        """Average capacity over the trace, bytes per second (scale applied)."""
        return self.parsed.mean_rate * self.scale

    def scaled(self, factor: float) -> dict:
        """This trace with its capacity multiplied by ``factor``, as scenario data."""
        data = self.model_dump(mode="json")
        data["scale"] = self.scale * factor
        return data


#: Tags of the ``network.bandwidth``/``downlink`` union; left out of key paths.
BANDWIDTH_TAGS = ("quantity", "link_trace")


Bandwidth = Annotated[
    value_or_section(Rate, LinkTraceSpec, BANDWIDTH_TAGS), BeforeValidator(_trace_shorthand)
]


class NetworkSpec(Section):
    """The channel between the devices and the server."""

    #: A transport by name (the simulator's registry: tcp, udp).
    protocol: str = "tcp"
    #: TCP congestion control, by name (the simulator's registry: cubic, reno).
    congestion: str = "cubic"
    #: The uplink: a rate (``"10 Mbit/s"``) or a trace (``{trace: PATH, start, loop,
    #: scale}`` or ``"trace:PATH"``).
    bandwidth: Bandwidth
    #: Downlink (server to device), a rate or a trace; the uplink's by default.
    downlink: Bandwidth | None = None
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
    #: The devices' radio: a shipped model's name (``lte``, ``wifi``) or an inline state
    #: machine ``{transfer, promotion, tail, idle}``.
    radio: Radio | None = None

    @model_validator(mode="after")
    def _mtu(self):
        header = 40 if self.protocol == "tcp" else 28
        if self.mtu <= header:
            raise ValueError(f"mtu: {self.mtu} B leaves no room for the {header} B of headers")
        if self.fidelity == "fast" and self.traced:
            raise ValueError(
                "fidelity: fast draws transfers from a constant-rate link and cannot follow "
                "a trace; use fidelity: packet"
            )
        return self

    @property
    def traced(self) -> bool:
        """True when either direction follows a trace."""
        return isinstance(self.bandwidth, LinkTraceSpec) or isinstance(self.downlink, LinkTraceSpec)

    @property
    def downlink_link(self) -> float | LinkTraceSpec:
        """The downlink as given (the uplink's when not given)."""
        return self.downlink if self.downlink is not None else self.bandwidth

    @property
    def uplink_rate(self) -> float:
        """Bytes per second, device to server (a trace's mean)."""
        return _rate(self.bandwidth)

    @property
    def downlink_rate(self) -> float:
        """Bytes per second, server to device (a trace's mean)."""
        return _rate(self.downlink_link)

    def describe(self, direction: str = "up") -> str:
        """A direction in words: its rate, or its trace's name, offset and mean."""
        link = self.bandwidth if direction == "up" else self.downlink_link
        if not isinstance(link, LinkTraceSpec):
            return format_rate(link)
        parts = [f"trace {link.parsed.path.name}"]
        if link.start:
            parts.append(f"from {format_quantity(link.start, Kind.TIME)}")
        if link.scale != 1.0:
            parts.append(f"x{link.scale:g}")
        return " ".join(parts) + f" (mean {format_rate(link.mean_rate)})"

    def scaled(self, factor: float) -> dict:
        """Overrides that multiply both directions' capacity by ``factor`` (a trace keeps
        its shape, its ``scale`` changes)."""
        out = {}
        links = (("network.bandwidth", self.bandwidth), ("network.downlink", self.downlink_link))
        for key, link in links:
            out[key] = (
                link.scaled(factor)
                if isinstance(link, LinkTraceSpec)
                else format_quantity(link * factor, Kind.RATE)
            )
        return out


def _rate(link: float | LinkTraceSpec) -> float:
    return link.mean_rate if isinstance(link, LinkTraceSpec) else link
