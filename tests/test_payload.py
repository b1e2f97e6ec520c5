"""Shapes crossing a split, and the bottleneck's code shape."""

from __future__ import annotations

from splitetimpera.payload import bottleneck_shape, parse_shapes


def test_shapes_parse_with_scalars():
    assert parse_shapes("64x16x16;10") == [(64, 16, 16), (10,)]
    assert parse_shapes("int;3x2x2") == [None, (3, 2, 2)]
    assert parse_shapes("") == [] and parse_shapes(None) == []


def test_the_bottleneck_code_is_a_sixty_fourth_of_a_map():
    # 64/4 channels, 16 -> 8 -> 4 spatially
    assert bottleneck_shape((64, 16, 16)) == (16, 4, 4)


def test_small_maps_and_vectors_only_lose_channels():
    assert bottleneck_shape((30, 3, 3)) == (8, 3, 3)
    assert bottleneck_shape((256,)) == (64,)
    assert bottleneck_shape((10, 7, 9)) == (3, 2, 3)  # ceil(ceil(7/2)/2), ceil(ceil(9/2)/2)
