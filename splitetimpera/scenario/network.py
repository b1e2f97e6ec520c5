"""The ``network`` section: the channel between the devices and the server.

``protocol`` and ``congestion`` are names of the simulator's registries; they are checked
against them when a scenario is loaded through :func:`splitetimpera.pipeline.load_scenario`
(this layer does not import the simulator).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Tag, model_validator

from .fields import (
    Duration,
    LossRate,
    Mtu,
    Overhead,
    PositiveInt,
    PositiveProbability,
    Probability,
    Rate,
    Section,
)
from .power import Radio

__all__ = ["NetworkSpec", "GilbertElliott", "LOSS_TAGS"]


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


def _loss_kind(value: Any) -> str:
    return "gilbert_elliott" if isinstance(value, (Mapping, GilbertElliott)) else "rate"


Loss = Annotated[
    Annotated[LossRate, Tag("rate")] | Annotated[GilbertElliott, Tag("gilbert_elliott")],
    Discriminator(_loss_kind),
]


class NetworkSpec(Section):
    """The channel between the devices and the server."""

    #: A transport by name (the simulator's registry: tcp, udp).
    protocol: str = "tcp"
    #: TCP congestion control, by name (the simulator's registry: cubic, reno).
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
    #: The devices' radio: a shipped model's name (``lte``, ``wifi``) or an inline state
    #: machine ``{transfer, promotion, tail, idle}``.
    radio: Radio | None = None

    @model_validator(mode="after")
    def _mtu(self):
        header = 40 if self.protocol == "tcp" else 28
        if self.mtu <= header:
            raise ValueError(f"mtu: {self.mtu} B leaves no room for the {header} B of headers")
        return self

    @property
    def uplink_rate(self) -> float:
        """Bytes per second, device to server."""
        return self.bandwidth

    @property
    def downlink_rate(self) -> float:
        """Bytes per second, server to device."""
        return self.downlink if self.downlink is not None else self.bandwidth
