"""The plain parameters of one configuration's simulation (what :mod:`.run` takes).

Numbers in SI units (seconds, bytes, bytes per second), arrays of measured latencies, link
and transport parameters: nothing of scenarios, profiles or models.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from .channel import LinkParams
from .radio import RadioParams
from .transport import TransportParams

__all__ = ["WorkloadParams", "NetworkParams", "JobParams", "EnergyParams", "RunSpec", "Chooser"]


@dataclass(frozen=True, eq=False)
class WorkloadParams:
    """When frames arrive, per device.

    Attributes:
        arrival: ``periodic``, ``poisson`` or ``trace``.
        frames: frames per device.
        rate: frames per second (periodic and Poisson).
        trace: generation times in seconds (trace arrivals).
        deadline: seconds after generation; None for no deadline.
        result_size: bytes sent back to the device per frame.
    """

    arrival: str
    frames: int
    rate: float | None = None
    trace: np.ndarray | None = None
    deadline: float | None = None
    result_size: int = 64


@dataclass(frozen=True)
class NetworkParams:
    """The channel and the transport.

    Attributes:
        uplink: the device-to-server link.
        downlink: the server-to-device link.
        protocol: a transport name (``tcp``, ``udp``).
        transport: transport settings.
        fidelity: ``packet`` (every packet simulated) or ``fast`` (transfers drawn from
            distributions the packet model computes, see :mod:`.fast`).
        percentiles: latency percentiles fast fidelity must reproduce (a configuration
            whose percentiles it cannot pin down is simulated packet by packet).
    """

    uplink: LinkParams
    downlink: LinkParams
    protocol: str = "tcp"
    transport: TransportParams = field(default_factory=TransportParams)
    fidelity: str = "packet"
    percentiles: tuple[float, ...] = (50.0, 95.0)


@dataclass(frozen=True, eq=False)
class JobParams:
    """What the device and the server do for each frame.

    Attributes:
        mode: ``LC``, ``RC``, ``SC`` or ``EE``.
        payload_bytes: application bytes sent uplink per frame.
        payload_samples: measured bytes of real frames; when given, each frame draws its
            payload from them (uniformly, from the device's own stream).
        head_samples: measured head latencies (s) to draw from; ``[0]`` for RC.
        tail_samples: measured tail latencies (s) to draw from; ``[0]`` for LC.
        encode_s: device-side encoding time per frame (s), before slowdown.
        decode_s: server-side decoding time per frame (s), before slowdown.
        exit_rate: EE only: share of frames that leave at the exit branch.
        branch_s: EE only: the exit branch's device time (s), before slowdown.
    """

    mode: str
    payload_bytes: int
    head_samples: np.ndarray
    tail_samples: np.ndarray
    encode_s: float = 0.0
    decode_s: float = 0.0
    exit_rate: float = 0.0
    branch_s: float = 0.0
    payload_samples: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


@dataclass(frozen=True)
class EnergyParams:
    """The devices' power models (each device has the same board and radio).

    Attributes:
        idle_w: board power between frames (W); None: no device power model.
        active_w: board power while computing (W).
        radio: the radio's model; None: no radio model (radio energy unknown).
        battery_j: each device's battery (J); None: no battery life.
    """

    idle_w: float | None = None
    active_w: float | None = None
    radio: RadioParams | None = None
    battery_j: float | None = None

    def __post_init__(self):
        if (self.idle_w is None) != (self.active_w is None):
            raise ValueError('"idle_w" and "active_w" go together.')
        if self.idle_w is not None and not 0 <= self.idle_w <= self.active_w:
            raise ValueError('need 0 <= "idle_w" <= "active_w".')


class Chooser(Protocol):
    """Chooses the configuration of every frame (a run-time policy; the kernel asks, the
    policy decides). Indices are into :attr:`RunSpec.alternatives`."""

    def bind(self, env: Any, channel: Any) -> None:
        """Called once before the run with the environment and the channel (None when no
        alternative uses the network)."""

    def choose(self, record: Any, now: float) -> tuple[int, float]:
        """The alternative for the frame of ``record`` (its device, frame index), generated
        now, and the uplink estimate (bit/s) the choice rests on."""

    def sent(self, record: Any, direction: str, nbytes: int, now: float) -> None:
        """A frame's transfer starts: ``up``, the device sends its payload; ``down``, the
        upload is in and the device waits for the result (``nbytes`` of it)."""

    def observe(self, record: Any, direction: str, nbytes: int, seconds: float, now: float):
        """That transfer ended after ``seconds`` (``down``: from the upload's end to the
        result's arrival, server time included); ``nbytes`` 0 when it was lost."""


@dataclass(frozen=True, eq=False)
class RunSpec:
    """One configuration's simulation.

    Attributes:
        seed: seeds every named random stream.
        devices: devices sharing the channel and the server.
        workers: the server's worker pool.
        device_slowdown: multiplies device compute times.
        server_slowdown: multiplies server compute times.
        workload: frame arrivals.
        network: channel and transport.
        job: per-frame work.
        energy: the devices' power models (nothing accounted by default).
        alternatives: with a ``chooser``, the configurations it chooses among (``job``
            is then the first, unused); every frame runs the one chosen for it.
        chooser: a :class:`Chooser`, or None for one configuration (``job``) throughout.
    """

    seed: int
    devices: int
    workers: int
    workload: WorkloadParams
    network: NetworkParams
    job: JobParams
    device_slowdown: float = 1.0
    server_slowdown: float = 1.0
    energy: EnergyParams = field(default_factory=EnergyParams)
    alternatives: tuple[JobParams, ...] = ()
    chooser: Any = None

    def __post_init__(self):
        if self.chooser is not None and not self.alternatives:
            raise ValueError('a "chooser" needs "alternatives" to choose from.')

    @property
    def jobs(self) -> tuple[JobParams, ...]:
        """What frames may run: the alternatives of a chooser, or the one job."""
        return self.alternatives if self.chooser is not None else (self.job,)
