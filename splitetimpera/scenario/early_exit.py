"""The ``early_exit`` section: an exit branch on the device for mode EE."""

from __future__ import annotations

from .fields import Duration, Probability, Section

__all__ = ["EarlyExitSpec"]


class EarlyExitSpec(Section):
    """An exit branch on the device: frames it is confident about finish there."""

    split: str
    #: Share of frames that leave at the exit.
    exit_rate: Probability
    #: Top-1 accuracy of the frames that exit.
    accuracy: Probability
    #: Extra device time of the exit branch.
    branch_latency: Duration = 0.0
