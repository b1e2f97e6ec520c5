"""Codecs: names, round trips, sizes against hand computations, JPEG quality ordering."""

from __future__ import annotations

import numpy as np
import pytest

from splitetimpera.codecs import CODECS, applicable, parse_codec
from splitetimpera.errors import UnknownNameError

from .conftest import SEED

NAMES = [
    "none",
    "fp16",
    "int8",
    "int8+zstd",
    "fp16+zstd",
    "bottleneck",
    "jpeg@50",
    "webp@80",
    "png",
]


def _activation(shape=(64, 16, 16)) -> np.ndarray:
    """A ReLU'd map, as a split tensor is: about half zeros."""
    return np.maximum(np.random.default_rng(SEED).normal(size=shape), 0).astype(np.float32)


def _photo() -> np.ndarray:
    from sklearn.datasets import load_sample_image

    return load_sample_image("china.jpg")[100:324, 200:424]  # a real 224x224 photograph


def test_every_name_of_the_issue_parses():
    for name in NAMES:
        assert parse_codec(name).spec == name
    assert {
        "none",
        "fp16",
        "int8",
        "int8+zstd",
        "fp16+zstd",
        "bottleneck",
        "jpeg",
        "webp",
        "png",
    } <= set(CODECS)


@pytest.mark.parametrize("name", ["none", "int8+zstd", "fp16+zstd", "png"])
def test_lossless_codecs_round_trip_bit_exactly(name):
    codec = parse_codec(name)
    if codec.kind == "image":
        data, expected = _photo(), _photo()
    else:
        data = _activation()
        # entropy coding is lossless on the quantised values: compare with the plain quantiser
        plain = {"none": "none", "int8+zstd": "int8", "fp16+zstd": "fp16"}[name]
        expected = parse_codec(plain).decode(parse_codec(plain).encode(data), data)
    back = codec.decode(codec.encode(data), data)
    assert back.dtype == expected.dtype and np.array_equal(back, expected)


def test_several_tensors_round_trip_as_one_payload():
    tensors = [_activation((8, 4, 4)), _activation((10,))]
    for name in ("none", "int8", "int8+zstd"):
        codec = parse_codec(name)
        back = codec.decode(codec.encode(tensors), tensors)
        assert [b.shape for b in back] == [(8, 4, 4), (10,)]


def test_sizes_by_hand():
    shapes = [(64, 16, 16), None]  # 16384 elements and one integer
    assert parse_codec("none").nominal_bytes(shapes) == 16384 * 4 + 8
    assert parse_codec("fp16").nominal_bytes(shapes) == 16384 * 2 + 8
    assert parse_codec("int8").nominal_bytes(shapes) == 16384 + 8 + 8  # scale and zero point
    assert parse_codec("bottleneck").nominal_bytes(shapes) == 16 * 4 * 4 * 4 + 8
    x = _activation()
    assert len(parse_codec("int8").encode(x)) == 16384 + 8
    # entropy coding and images have no size without data
    assert parse_codec("int8+zstd").nominal_bytes(shapes) is None
    assert parse_codec("jpeg@75").nominal_bytes(shapes) is None


def test_entropy_coding_shrinks_a_relu_map():
    x = _activation()
    assert len(parse_codec("int8+zstd").encode(x)) < 0.8 * len(parse_codec("int8").encode(x))


def test_jpeg_at_100_is_larger_than_at_50_on_the_same_images():
    from sklearn.datasets import load_sample_images

    for photo in load_sample_images().images:
        crop = photo[:224, :224]
        assert len(parse_codec("jpeg@100").encode(crop)) > len(parse_codec("jpeg@50").encode(crop))


def test_jpeg_is_lossy_and_png_is_not():
    photo = _photo()
    jpeg = parse_codec("jpeg@30")
    assert not np.array_equal(jpeg.decode(jpeg.encode(photo), photo), photo)


@pytest.mark.parametrize(
    ("name", "error", "fragment"),
    [
        ("jpg@75", UnknownNameError, "did you mean 'jpeg'"),
        ("jpeg", ValueError, "jpeg needs its quality: write it like jpeg@75 (1-100)"),
        ("jpeg@0", ValueError, "quality 0 is out of range [1, 100]"),
        ("webp@101", ValueError, "out of range"),
        ("png@3", ValueError, "png takes no parameter"),
        ("int8@4", ValueError, "int8 takes no parameter"),
    ],
)
def test_bad_names_say_what_is_allowed(name, error, fragment):
    with pytest.raises(
        error,
        match=fragment.replace("(", r"\(")
        .replace(")", r"\)")
        .replace("[", r"\[")
        .replace("]", r"\]"),
    ):
        parse_codec(name)


def test_image_codecs_apply_to_remote_computing_and_tensor_codecs_to_splits():
    specs = ["none", "int8+zstd", "bottleneck", "jpeg@75", "png"]
    assert applicable(specs, "RC") == ["none", "int8+zstd", "jpeg@75", "png"]
    assert applicable(specs, "SC") == ["none", "int8+zstd", "bottleneck"]
