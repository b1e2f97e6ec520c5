"""Configurations: every way of running the application that a scenario asks to compare."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from ..accuracy import AccuracyTable
from ..codecs import applicable, parse_codec
from ..payload import parse_shapes
from ..profiles import Profile

__all__ = ["Configuration", "plan", "measured_pairs", "not_applicable"]


@dataclass(frozen=True)
class Configuration:
    """One way of running the application.

    Attributes:
        mode: LC, RC, SC or EE.
        split: where the model is cut (``output`` for LC, ``input`` for RC).
        compression: how the crossing tensors are sent.
        payload_bytes: bytes sent uplink per frame.
        accuracy: top-1 accuracy (NaN when unknown).
        encode_s: device-side encoding time per frame (s), before slowdown.
        decode_s: server-side decoding time per frame (s), before slowdown.
        exit_rate: EE only: share of frames that leave at the exit branch.
        branch_s: EE only: the exit branch's device time (s).
        payload_samples: bytes of each measured frame, for a codec whose size depends on
            the data; each simulated frame draws one (empty: every frame sends
            ``payload_bytes``).
        name: a policy's row: the policy's name, which is then the id (mode ``policy``).
    """

    mode: str
    split: str
    compression: str
    payload_bytes: int
    accuracy: float
    encode_s: float = 0.0
    decode_s: float = 0.0
    exit_rate: float = 0.0
    branch_s: float = 0.0
    payload_samples: tuple[int, ...] = ()
    #: A run-time policy's row (mode ``policy``): its name is the id.
    name: str = ""

    @property
    def id(self) -> str:
        if self.name:
            return self.name
        suffix = "" if self.compression == "none" else f"+{self.compression}"
        if self.mode == "LC":
            return "LC"
        if self.mode == "RC":
            return f"RC{suffix}"
        return f"{self.mode}@{self.split}{suffix}"


def _nominal(profile: Profile, split: str, compression: str, accuracy: AccuracyTable) -> int:
    """Bytes of a codec whose size follows from the shapes (the bottleneck's as measured)."""
    if compression == "bottleneck":
        measured = accuracy.table.get("payload_bytes") if not accuracy.table.empty else None
        if measured is not None and (split, compression) in measured.index:
            return int(measured.loc[(split, compression)])
    return parse_codec(compression).nominal_bytes(parse_shapes(profile.row(split)["shapes"]))


def _modes_splits(scenario, splits: list[str]):
    """(mode, split) of every configuration family, in the plan's order."""
    out = []
    if "RC" in scenario.modes:
        out.append(("RC", "input"))
    if "SC" in scenario.modes:
        out.extend(("SC", split) for split in splits)
    if "EE" in scenario.modes:
        out.append(("EE", scenario.early_exit.split))
    return out


def measured_pairs(scenario, splits: list[str]) -> list[tuple[str, str]]:
    """(split, codec) pairs whose payload only a measurement can give (entropy coders,
    image codecs), for the plan's configurations."""
    pairs = []
    for mode, split in _modes_splits(scenario, splits):
        for spec in applicable(scenario.splits.compression, mode):
            if parse_codec(spec).nominal_bytes([]) is None and (split, spec) not in pairs:
                pairs.append((split, spec))
    return pairs


def not_applicable(scenario) -> list[str]:
    """What the scenario's codec list offers that a mode cannot use, in words."""
    out = []
    for mode in ("RC", "SC", "EE"):
        if mode in scenario.modes:
            used = set(applicable(scenario.splits.compression, mode))
            out.extend(f"{c} for {mode}" for c in scenario.splits.compression if c not in used)
    return out


def plan(
    scenario,
    device_profile: Profile,
    accuracy: AccuracyTable,
    splits: list[str],
    payloads: dict[tuple[str, str], dict] | None = None,
) -> list[Configuration]:
    """Every configuration the scenario asks for, in a stable order.

    Args:
        payloads: measurements (:mod:`splitetimpera.interpret.payloads` records) of the
            :func:`measured_pairs`, keyed by (split, codec).
    """
    payloads = payloads or {}
    out: list[Configuration] = []

    def make(mode: str, split: str, compression: str) -> Configuration:
        record = payloads.get((split, compression))
        if record is not None:
            measured = record.get("accuracy")
            known = measured is not None and not math.isnan(measured)
            return Configuration(
                mode=mode,
                split=split,
                compression=compression,
                payload_bytes=round(record["payload_bytes"]),
                accuracy=measured if known else accuracy.lookup(split, compression),
                encode_s=record["encode_s"],
                decode_s=record["decode_s"],
                payload_samples=tuple(record["sizes"]),
            )
        encode, decode = accuracy.codec_time(split, compression)
        return Configuration(
            mode=mode,
            split=split,
            compression=compression,
            payload_bytes=_nominal(device_profile, split, compression, accuracy),
            accuracy=accuracy.lookup(split, compression),
            encode_s=encode,
            decode_s=decode,
        )

    if "LC" in scenario.modes:
        out.append(Configuration("LC", "output", "none", 0, accuracy.lookup("output", "none")))
    for mode, split in _modes_splits(scenario, splits):
        for c in applicable(scenario.splits.compression, mode):
            config = make(mode, split, c)
            if mode == "EE":
                ee = scenario.early_exit
                acc = ee.exit_rate * ee.accuracy + (1 - ee.exit_rate) * config.accuracy
                config = replace(
                    config, accuracy=acc, exit_rate=ee.exit_rate, branch_s=ee.branch_latency
                )
            out.append(config)
    return out
