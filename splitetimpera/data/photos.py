"""Real photographs that ship inside installed packages, for models without data or weights.

A torchvision model without its ImageNet weights and data still has payloads worth
measuring: the size of a JPEG of a real photograph, or of entropy-coded activations, at the
model's input resolution. The photographs: scikit-learn's two sample images (``china.jpg``,
``flower.jpg``, CC-BY, from Wikimedia) and scikit-image's colour photographs
(``astronaut``, ``coffee``, ``chelsea``, ``rocket``, ``motorcycle_left``,
``motorcycle_right``; public domain or CC0, see ``skimage.data``). Each gives five crops
(the centre and the four corners, 80 % of the shorter side), resized to the input with
Pillow's bicubic filter: 40 images, always the same. They have no labels: accuracy on them
is never reported.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from .datasets import _IMAGENET_MEAN, _IMAGENET_STD, ImageData

__all__ = ["photographs", "PHOTOS"]

#: Where the photographs come from.
PHOTOS = (
    "sklearn:china.jpg",
    "sklearn:flower.jpg",
    "skimage:astronaut",
    "skimage:coffee",
    "skimage:chelsea",
    "skimage:rocket",
    "skimage:motorcycle_left.png",
    "skimage:motorcycle_right.png",
)


def _load(name: str) -> np.ndarray:
    package, item = name.split(":")
    if package == "sklearn":
        from sklearn.datasets import load_sample_image

        return load_sample_image(item)
    import os

    import skimage.data

    if item.endswith(".png"):  # shipped in the wheel but without an accessor
        from PIL import Image

        with Image.open(os.path.join(os.path.dirname(skimage.data.__file__), item)) as image:
            return np.asarray(image.convert("RGB"))
    return np.asarray(getattr(skimage.data, item)())[..., :3]


def _crops(photo: np.ndarray) -> list[np.ndarray]:
    h, w = photo.shape[:2]
    side = int(0.8 * min(h, w))
    corners = [
        ((h - side) // 2, (w - side) // 2),
        (0, 0),
        (0, w - side),
        (h - side, 0),
        (h - side, w - side),
    ]
    return [photo[y : y + side, x : x + side] for y, x in corners]


@lru_cache(maxsize=4)
def photographs(input_shape: tuple[int, int, int]) -> ImageData:
    """The photographs at ``input_shape`` (C, H, W), normalised with ImageNet statistics;
    labels are all 0 (there are none)."""
    from PIL import Image

    _, height, width = input_shape
    pixels = []
    for name in PHOTOS:
        for crop in _crops(_load(name)):
            image = Image.fromarray(np.ascontiguousarray(crop)).resize(
                (width, height), Image.BICUBIC
            )
            pixels.append(np.asarray(image, dtype=np.uint8))
    stack = np.stack(pixels)
    template = ImageData(
        torch.zeros(1, *input_shape), torch.zeros(1, dtype=torch.int64), ["photo"], "photos",
        _IMAGENET_MEAN, _IMAGENET_STD,
    )  # fmt: skip
    images = template.normalise(stack)
    return ImageData(
        images, torch.zeros(len(images), dtype=torch.int64), ["photo"], "photos",
        _IMAGENET_MEAN, _IMAGENET_STD,
    )  # fmt: skip
