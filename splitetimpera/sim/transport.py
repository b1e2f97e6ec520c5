"""Transports: how an application message crosses the channel. Found by name.

A transport serves one device: it sends a message of ``nbytes`` up (device to server) or
down (server to device) and returns a SimPy event that succeeds with ``True`` when the
whole message has reached the other side, or ``False`` when it was lost. It charges the
bytes, packets and retransmissions it causes to the frame's record, and hands every packet
it puts on the channel to its device's :attr:`Transport.radio` (when the run keeps an
energy account) so that the radio's state follows the packets.

To add a protocol, subclass :class:`Transport`, give it a ``name`` and decorate it with
``@TRANSPORTS.register``; the scenario's ``network.protocol`` then accepts that name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
import simpy

from ..store import Registry
from .channel import Channel
from .frames import FrameRecord

__all__ = ["Transport", "TransportParams", "TRANSPORTS", "make_transport"]


@dataclass(frozen=True)
class TransportParams:
    """Settings shared by transports.

    Attributes:
        connection: ``persistent`` (one connection per device, opened at time 0) or
            ``per-frame`` (a new connection, with its handshake, for every frame).
        congestion: congestion control name (TCP).
        initial_window: initial congestion window, segments.
        receive_window: receiver's window, bytes.
        syn_timeout: first SYN retransmission timeout, seconds.
        rto_min: floor of the retransmission timeout's variance term, seconds.
        rto_max: ceiling of the retransmission timeout, seconds.
        timestamps: TCP timestamps (Linux's default): a 12 B option on every segment, so
            MSS = MTU - 52, and RTT samples from retried handshakes.
        timer_tick: the kernel's timer tick (1/HZ), seconds; TCP timers are rounded up to
            it (0.004 for HZ=250, as measured; 0 for exact timers).
        hystart: CUBIC's hybrid slow start (Linux's default).
        frto: F-RTO, spurious retransmission timeout detection (Linux's default).
        delayed_ack: the receiver ACKs every second segment after its quick-ACK start
            (Linux's default); False ACKs every segment.
    """

    connection: str = "persistent"
    congestion: str = "cubic"
    initial_window: int = 10
    receive_window: int = 6 * 1024 * 1024
    syn_timeout: float = 1.0
    rto_min: float = 0.2
    rto_max: float = 120.0
    timestamps: bool = True
    timer_tick: float = 0.004
    hystart: bool = True
    frto: bool = True
    delayed_ack: bool = True


class Transport(ABC):
    """Moves messages between one device and the server over a shared channel.

    Args:
        env: the simulation environment.
        channel: the shared uplink and downlink.
        params: transport settings.
        device: the device this transport serves.
        rng: the transport's random stream (unused by deterministic protocols).
    """

    name = "abstract"

    def __init__(
        self,
        env: simpy.Environment,
        channel: Channel,
        params: TransportParams,
        device: int,
        rng: np.random.Generator,
    ):
        self.env = env
        self.channel = channel
        self.params = params
        self.device = device
        self.rng = rng
        #: The device's radio (:class:`~splitetimpera.sim.radio.Radio`), set by the run
        #: before :meth:`start` when energy is accounted; None: packets are not tracked.
        self.radio = None

    def start(self) -> None:
        """Called once at time 0 (e.g. to open a persistent connection)."""

    def close(self, record: FrameRecord) -> None:
        """Release what the transport keeps for a frame (e.g. its per-frame connection)."""

    @abstractmethod
    def send(self, direction: str, nbytes: int, record: FrameRecord) -> simpy.Event:
        """Send ``nbytes`` ``"up"`` or ``"down"`` for ``record``.

        Returns:
            An event that succeeds with True on delivery, False on loss.
        """


#: Transports by name; ``@TRANSPORTS.register`` adds one.
TRANSPORTS: Registry[type[Transport]] = Registry("protocol")


def make_transport(name: str, *args, **kwargs) -> Transport:
    """Build the transport called ``name``; an unknown name lists the known ones."""
    return TRANSPORTS.get(name)(*args, **kwargs)
