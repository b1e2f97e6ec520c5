"""Run-time policies: who chooses the configuration (mode, split, codec) of each frame.

A policy is one class in :data:`POLICIES`, named as the scenario's ``policy.name`` names
it. ``static`` is the classic design-time choice: every configuration runs the whole run
on its own and the QoS matcher picks one. The others re-choose before every frame, as
Neurosurgeon (Kang et al., ASPLOS 2017) and Edgent (Li et al., 2018) re-partition from a
bandwidth estimate; the simulator's kernel asks them through the plain
:class:`~splitetimpera.sim.params.Chooser` calls (``bind``, ``choose``, ``sent``,
``observe``) and they add one row each to the results.

Every per-frame policy predicts a configuration's latency from the profiles' medians and
a view of the network::

    head + encoding  +  payload / uplink goodput + delay
                     +  decoding + tail  +  the result's way back

(LC: its device time alone) and takes the configuration predicted fastest among those the
pipeline offers it (the configurations that meet ``qos.min_accuracy``). They differ in
what they know of the network:

- ``adaptive`` knows what a device can know: an EWMA of the goodput of its own recent
  uplink transfers (payload bytes over the transfer's time less the one-way delay; weight
  ``policy.alpha`` for the newest), starting from the link's nominal (mean) rate, and an
  EWMA of the time from an upload's end to its result's arrival less the tail (server
  queueing and the downlink), starting from the nominal downlink. A transfer or a result
  still awaited for longer than the estimates allow makes them worse at once (so an
  outage is noticed before the transfer ends). With no transfer for ``policy.probe``
  seconds while running locally, it offloads one frame with the fastest remote
  configuration to measure the link again; it changes configuration only when the new
  one is predicted ``policy.hysteresis`` faster.
- ``oracle`` knows the truth ahead: the link's real capacity over time (the trace) and
  what is queued on it now, so it foresees each configuration's transfer exactly (TCP's
  own dynamics aside). It bounds what any estimator can reach.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from .store import Registry

__all__ = ["POLICIES", "Policy", "Alternative", "PolicyContext", "Static", "Adaptive", "Oracle"]

#: Policies by name.
POLICIES: Registry[type[Policy]] = Registry("policy")


@dataclass(frozen=True)
class Alternative:
    """A configuration a policy may choose, as it predicts it.

    Attributes:
        id: the configuration's id (``RC+jpeg@75``).
        mode: LC, RC, SC or EE.
        payload_bytes: mean application bytes sent uplink per frame.
        head_s: device seconds per frame (median head, encoding, slowdown applied).
        tail_s: server seconds per frame (median tail and decoding, slowdown applied).
    """

    id: str
    mode: str
    payload_bytes: float
    head_s: float
    tail_s: float


@dataclass(frozen=True)
class PolicyContext:
    """What every per-frame policy starts from.

    Attributes:
        alternatives: the configurations to choose among.
        devices: devices in the run (each decides for itself).
        delay: one-way propagation delay (s).
        uplink_rate: the uplink's nominal rate (a trace's mean), bytes per second.
        downlink_rate: the downlink's nominal rate, bytes per second.
        result_bytes: bytes of the result sent back per frame.
        wire: application bytes to bytes on the link (headers, link overhead).
        alpha: EWMA weight of the newest goodput sample.
        hysteresis: relative gain needed to change configuration.
        probe: seconds without a transfer after which a local device probes.
        caution: how many mean deviations of the per-byte transfer time the adaptive
            policy adds to its estimate (0: the mean alone).
    """

    alternatives: tuple[Alternative, ...]
    devices: int
    delay: float
    uplink_rate: float
    downlink_rate: float
    result_bytes: int
    wire: Callable[[float], float]
    alpha: float = 0.3
    hysteresis: float = 0.1
    probe: float = 1.0
    caution: float = 0.0


class Policy:
    """Chooses each frame's configuration (one instance per run)."""

    #: The name ``policy.name`` uses.
    name: str = ""
    #: False for a policy that chooses once for the whole run (``static``).
    per_frame: bool = True
    #: True for a bound that no device can run (``oracle``): the QoS matcher reports it
    #: but never chooses it.
    bound: bool = False

    def __init__(self, context: PolicyContext):
        self.context = context
        self.env = None
        self.channel = None

    def bind(self, env, channel) -> None:
        self.env, self.channel = env, channel

    def choose(self, record, now: float) -> tuple[int, float]:
        raise NotImplementedError

    def sent(self, record, direction: str, nbytes: int, now: float) -> None:
        """A transfer starts (most policies need not know)."""

    def observe(self, record, direction: str, nbytes: int, seconds: float, now: float):
        """A transfer ended (most policies need not know)."""

    def predict(self, alternative: Alternative, uplink: float, response: float) -> float:
        """Predicted latency (s) of ``alternative`` with ``uplink`` goodput (bytes/s) and
        ``response`` seconds from the upload's end to the result's arrival, the tail
        aside."""
        if alternative.mode == "LC":
            return alternative.head_s
        return (
            alternative.head_s
            + alternative.payload_bytes / max(uplink, 1e-9)
            + self.context.delay
            + alternative.tail_s
            + response
        )

    def nominal_response(self) -> float:
        """The result's way back on the nominal downlink: serialisation and delay."""
        c = self.context
        return c.wire(c.result_bytes) / c.downlink_rate + c.delay


@POLICIES.register
class Static(Policy):
    """One configuration for the whole run: every configuration is simulated on its own
    and the QoS matcher chooses (no per-frame choice)."""

    name = "static"
    per_frame = False


@POLICIES.register
class Adaptive(Policy):
    """Re-chooses before each frame from what the device itself has seen of the network
    (see the module docstring)."""

    name = "adaptive"

    def __init__(self, context: PolicyContext):
        super().__init__(context)
        n = context.devices
        self.uplink = [context.uplink_rate] * n  # EWMA of goodput, bytes/s
        self.spread = [0.0] * n  # EWMA of |per-byte time - its estimate|, s/B
        self.response = [self.nominal_response()] * n  # EWMA, s, tail aside
        self.current: list[int | None] = [None] * n
        self.last_seen = [0.0] * n
        # transfers under way per device: (frame, direction) -> (start, bytes or tail)
        self.pending: list[dict] = [{} for _ in range(n)]
        self.remote = [i for i, a in enumerate(context.alternatives) if a.mode != "LC"]

    def estimates(self, device: int, now: float) -> tuple[float, float]:
        """Uplink goodput (bytes/s) and response time (s) now: the EWMAs, made worse by
        any transfer under way for longer than they allow."""
        uplink, response = self.uplink[device], self.response[device]
        delay = self.context.delay
        for (_, direction), (start, amount) in self.pending[device].items():
            elapsed = now - start
            if direction == "up":
                if elapsed > delay and amount / (elapsed - delay) < uplink:
                    uplink = amount / (elapsed - delay)
            elif elapsed - amount > response:
                response = elapsed - amount
        return uplink, response

    def choose(self, record, now: float) -> tuple[int, float]:
        d = record.device
        uplink, response = self.estimates(d, now)
        if self.context.caution > 0:  # plan on a slower link where it has been erratic
            uplink = 1.0 / (1.0 / uplink + self.context.caution * self.spread[d])
        alternatives = self.context.alternatives
        predicted = [self.predict(a, uplink, response) for a in alternatives]
        best = min(range(len(predicted)), key=predicted.__getitem__)
        current = self.current[d]
        if current is not None and predicted[best] > predicted[current] * (
            1.0 - self.context.hysteresis
        ):
            best = current
        self.current[d] = best
        idle = now - self.last_seen[d] > self.context.probe
        if alternatives[best].mode == "LC" and idle and self.remote and not self.pending[d]:
            self.last_seen[d] = now  # one probe per interval
            return min(self.remote, key=predicted.__getitem__), uplink * 8.0
        return best, uplink * 8.0

    def sent(self, record, direction: str, nbytes: int, now: float) -> None:
        # down: the wait includes the tail of the configuration the frame runs
        amount = nbytes if direction == "up" else self.context.alternatives[record.choice].tail_s
        self.pending[record.device][(record.frame, direction)] = (now, amount)

    def observe(self, record, direction: str, nbytes: int, seconds: float, now: float):
        d = record.device
        _, amount = self.pending[d].pop((record.frame, direction), (now, 0.0))
        self.last_seen[d] = now
        alpha = self.context.alpha
        if direction == "up":
            sample = nbytes / max(seconds - self.context.delay, 1e-6) if nbytes > 0 else 0.0
            if sample > 0:
                error = abs(1.0 / sample - 1.0 / self.uplink[d])
                self.spread[d] = (1.0 - alpha) * self.spread[d] + alpha * error
            self.uplink[d] = (1.0 - alpha) * self.uplink[d] + alpha * sample
        else:
            sample = max(seconds - amount, 0.0) if nbytes > 0 else 2.0 * seconds
            self.response[d] = (1.0 - alpha) * self.response[d] + alpha * sample


@POLICIES.register
class Oracle(Policy):
    """Knows the links' true capacity over time and their queues now: foresees each
    configuration's transfers (the bound of any estimator)."""

    name = "oracle"
    bound = True

    def choose(self, record, now: float) -> tuple[int, float]:
        c = self.context
        best, best_key, best_rate = 0, (math.inf, math.inf), math.nan
        for i, a in enumerate(c.alternatives):
            if a.mode == "LC":
                latency, rate = a.head_s, math.nan
            else:
                send = now + a.head_s
                arrived = self.channel.up.finish_time(send, c.wire(a.payload_bytes)) + c.delay
                served = arrived + a.tail_s
                back = self.channel.down.finish_time(served, c.wire(c.result_bytes)) + c.delay
                latency = back - now
                rate = a.payload_bytes * 8.0 / max(arrived - c.delay - send, 1e-9)
            # equal to the microsecond (both wait for the same opportunity): fewer bytes
            key = (round(latency, 6), a.payload_bytes)
            if key < best_key:
                best, best_key, best_rate = i, key, rate
        return best, best_rate
