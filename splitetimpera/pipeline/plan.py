"""Configurations: every way of running the application that a scenario asks to compare."""

from __future__ import annotations

from dataclasses import dataclass

from ..accuracy import AccuracyTable
from ..payload import parse_shapes, payload_bytes
from ..profiles import Profile

__all__ = ["Configuration", "plan"]


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

    @property
    def id(self) -> str:
        suffix = "" if self.compression == "none" else f"+{self.compression}"
        if self.mode == "LC":
            return "LC"
        if self.mode == "RC":
            return f"RC{suffix}"
        return f"{self.mode}@{self.split}{suffix}"


def _payload(profile: Profile, split: str, compression: str, accuracy: AccuracyTable) -> int:
    row = profile.row(split)
    if compression == "bottleneck":
        measured = accuracy.table.get("payload_bytes") if not accuracy.table.empty else None
        if measured is not None and (split, compression) in measured.index:
            return int(measured.loc[(split, compression)])
    return payload_bytes(parse_shapes(row["shapes"]), compression)


def plan(
    scenario,
    device_profile: Profile,
    accuracy: AccuracyTable,
    splits: list[str],
) -> list[Configuration]:
    """Every configuration the scenario asks for, in a stable order."""
    out: list[Configuration] = []
    compressions = list(scenario.splits.compression)

    def make(mode: str, split: str, compression: str) -> Configuration:
        encode, decode = accuracy.codec_time(split, compression)
        return Configuration(
            mode=mode,
            split=split,
            compression=compression,
            payload_bytes=_payload(device_profile, split, compression, accuracy),
            accuracy=accuracy.lookup(split, compression),
            encode_s=encode,
            decode_s=decode,
        )

    if "LC" in scenario.modes:
        out.append(Configuration("LC", "output", "none", 0, accuracy.lookup("output", "none")))
    if "RC" in scenario.modes:
        rc = [c for c in compressions if c in ("none", "fp16", "int8")] or ["none"]
        out.extend(make("RC", "input", c) for c in rc)
    if "SC" in scenario.modes:
        for split in splits:
            out.extend(make("SC", split, c) for c in compressions)
    if "EE" in scenario.modes:
        ee = scenario.early_exit
        for c in compressions:
            base = make("EE", ee.split, c)
            acc = ee.exit_rate * ee.accuracy + (1 - ee.exit_rate) * base.accuracy
            out.append(
                Configuration(
                    "EE",
                    ee.split,
                    c,
                    base.payload_bytes,
                    acc,
                    base.encode_s,
                    base.decode_s,
                    ee.exit_rate,
                    ee.branch_latency,
                )  # fmt: skip
            )
    return out
