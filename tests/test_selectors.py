"""Split selectors: all, the size-based baseline, I-SPLIT from a table, explicit lists."""

from __future__ import annotations

import pandas as pd
import pytest

from splitetimpera.errors import NotFoundError, SeiError, UnknownNameError
from splitetimpera.profiles import load_profile
from splitetimpera.selectors import SELECTORS, Selection, needs_isplit, select_splits


@pytest.fixture
def profile(profiles):
    # 5 splits of a 32x32 CNN: input 3x32x32, features.0 64x32x32, features.3 64x16x16,
    # features.7 128x8x8, classifier.0 256, output 10 (conftest.write_test_profile)
    return load_profile("testhw", "digits_vgg")


def _isplit(values: dict[str, float]) -> pd.DataFrame:
    """A per-(layer, class) table whose CUI per layer is ``values`` (two classes)."""
    rows = []
    for depth, (split, cui) in enumerate(values.items(), start=1):
        for label in ("0", "1"):
            rows.append(
                {
                    "split": split,
                    "depth": depth,
                    "kind": "other",
                    "label": label,
                    "score_sum": cui * 5,
                    "count": 5,
                }  # fmt: skip
            )
    return pd.DataFrame(rows)


def test_all_and_cde(profile):
    assert select_splits("all", Selection(profile)) == [
        "features.0", "features.3", "features.7", "classifier.0",
    ]  # fmt: skip
    # payloads 12288 (input), 262144, 65536, 32768, 1024: the running minimum drops
    # only at classifier.0 after the input
    assert select_splits("cde", Selection(profile)) == ["classifier.0"]


def test_isplit_reads_the_table_passed_in(profile):
    # log10 CUI rises to an interior local maximum at features.3; classifier.0 (the last
    # layer, so no local maximum) has the top CUI, features.0 the third
    table = _isplit({"features.0": 2.0, "features.3": 5.0, "features.7": 1.0, "classifier.0": 10.0})
    one = Selection(profile, top_k=1, isplit=table)
    assert select_splits("isplit", one) == ["features.3", "classifier.0"]
    assert select_splits("isplit", Selection(profile, top_k=3, isplit=table)) == [
        "features.0", "features.3", "classifier.0",
    ]  # fmt: skip
    with pytest.raises(SeiError, match="needs the scenario's I-SPLIT table"):
        select_splits("isplit", Selection(profile))


def test_explicit_lists_are_ordered_and_checked(profile):
    chosen = select_splits(["classifier.0", "features.0", "features.0"], Selection(profile))
    assert chosen == ["features.0", "classifier.0"]
    with pytest.raises(NotFoundError, match="no split 'features.4'; did you mean 'features.7'"):
        select_splits(["features.4"], Selection(profile))


def test_selectors_are_found_by_name():
    assert SELECTORS.names() == ["all", "cde", "isplit"]
    assert needs_isplit("isplit") and not needs_isplit("cde") and not needs_isplit(["a"])
    with pytest.raises(
        UnknownNameError, match="unknown split selector 'ispilt'; did you mean 'isplit'"
    ):
        needs_isplit("ispilt")
