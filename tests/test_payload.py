"""Bytes crossing a split under each compression, from shapes alone."""

from __future__ import annotations

import pytest

from splitetimpera.payload import bottleneck_shape, parse_shapes, payload_bytes


def test_shapes_parse_with_scalars():
    assert parse_shapes("64x16x16;10") == [(64, 16, 16), (10,)]
    assert parse_shapes("int;3x2x2") == [None, (3, 2, 2)]
    assert parse_shapes("") == [] and parse_shapes(None) == []


def test_bytes_per_compression_by_hand():
    shapes = [(64, 16, 16), None]  # 16384 elements and one integer
    assert payload_bytes(shapes, "none") == 16384 * 4 + 8
    assert payload_bytes(shapes, "fp16") == 16384 * 2 + 8
    assert payload_bytes(shapes, "int8") == 16384 + 8 + 8  # scale and zero point
    # bottleneck: 64/4 channels, 16 -> 8 -> 4 spatially, sent as fp32
    assert bottleneck_shape((64, 16, 16)) == (16, 4, 4)
    assert payload_bytes(shapes, "bottleneck") == 16 * 4 * 4 * 4 + 8


def test_small_maps_and_vectors_only_lose_channels():
    assert bottleneck_shape((30, 3, 3)) == (8, 3, 3)
    assert bottleneck_shape((256,)) == (64,)
    assert bottleneck_shape((10, 7, 9)) == (3, 2, 3)  # ceil(ceil(7/2)/2), ceil(ceil(9/2)/2)


def test_unknown_compression_lists_the_known_ones():
    with pytest.raises(ValueError, match="known: none, fp16, int8, bottleneck"):
        payload_bytes([(4,)], "zip")
