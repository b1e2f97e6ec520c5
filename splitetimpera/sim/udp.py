"""UDP: datagrams without retransmission; a message with a lost packet is lost."""

from __future__ import annotations

import math
from collections.abc import Iterator

import simpy

from .channel import IP_UDP_HEADER
from .frames import FrameRecord
from .transport import TRANSPORTS, Transport

__all__ = ["UdpTransport"]


class _Message:
    __slots__ = ("event", "remaining", "lost")

    def __init__(self, event: simpy.Event, packets: int):
        self.event = event
        self.remaining = packets
        self.lost = False


@TRANSPORTS.register
class UdpTransport(Transport):
    """UDP over the channel.

    A message is cut into datagrams of at most ``mtu - 28`` payload bytes and handed to the
    link back to back. When the bottleneck queue is full the sender waits for a place, as
    a blocking socket does, so a large frame is paced by the link rather than dropped by
    its own sender; a device's messages leave in the order they were sent. The message is
    delivered when its last datagram arrives and lost as soon as the fate of every
    datagram is known and one of them was lost.
    """

    name = "udp"

    def __init__(self, env, channel, params, device, rng):
        super().__init__(env, channel, params, device, rng)
        self.socket = {"up": simpy.Resource(env, 1), "down": simpy.Resource(env, 1)}

    def send(self, direction: str, nbytes: int, record: FrameRecord) -> simpy.Event:
        link = self.channel.link(direction)
        per_packet = link.mtu - IP_UDP_HEADER
        count = max(1, math.ceil(nbytes / per_packet))
        message = _Message(self.env.event(), count)
        sizes = [per_packet] * (count - 1) + [nbytes - per_packet * (count - 1)]
        socket = self.socket[direction]
        idle = socket.count == 0 and not socket.queue
        if idle and link.backlog() + count <= link.queue_limit:
            for size in sizes:
                self._put(link, size, message, record)
        else:
            self.env.process(self._paced(socket, link, sizes, message, record))
        return message.event

    def _paced(self, socket, link, sizes, message, record) -> Iterator[simpy.Event]:
        with socket.request() as turn:
            yield turn
            for size in sizes:
                # another device may take a freed place first: wait until one is ours
                while link.backlog() >= link.queue_limit:
                    yield self.env.timeout(link.space_free_at() - self.env.now)
                self._put(link, size, message, record)

    def _put(self, link, size: int, message: _Message, record: FrameRecord) -> None:
        record.wire_bytes += link.send(
            size + IP_UDP_HEADER, message, self._arrived, self._lost, self.radio, record
        )
        record.packets += 1

    @staticmethod
    def _settle(message: _Message) -> None:
        message.remaining -= 1
        if message.remaining == 0:
            message.event.succeed(not message.lost)

    def _arrived(self, message: _Message) -> None:
        self._settle(message)

    def _lost(self, message: _Message) -> None:
        message.lost = True
        self._settle(message)
