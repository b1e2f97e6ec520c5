"""Datasets: the built-in ``digits`` and users' own ``imagefolder``, one interface.

``digits`` is scikit-learn's ``load_digits`` (1797 real 8x8 handwritten digits, 10
classes), split once, deterministically and stratified, into train (60 %), validation
(20 %) and test (20 %). Images are scaled to [0, 1], upsampled bilinearly to the model's
input size and repeated over 3 channels, then normalised to mean 0.5, std 0.5.

``imagefolder`` is a folder of class folders (``root/cat/x.png``); images are resized to
the input size and normalised with the ImageNet statistics; the same deterministic
stratified 60/20/20 split is applied to the sorted file list.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import SeiError

__all__ = ["ImageData", "load_dataset", "SPLITS", "class_indices"]

SPLITS = ("train", "val", "test")
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class ImageData:
    """Images and labels of one split, as tensors.

    Attributes:
        images: float tensor (N, C, H, W), normalised.
        labels: int64 tensor (N,).
        classes: class names, index = label.
        name: dataset name.
        mean, std: the per-channel normalisation applied (pixel values in [0, 1]).
    """

    images: torch.Tensor
    labels: torch.Tensor
    classes: list[str]
    name: str
    mean: tuple[float, ...] = (0.5, 0.5, 0.5)
    std: tuple[float, ...] = (0.5, 0.5, 0.5)

    def pixels(self, images: torch.Tensor | None = None) -> np.ndarray:
        """Images as a camera has them: (N, H, W, 3) uint8, before normalisation."""
        images = self.images if images is None else images
        c = images.shape[1]
        mean = torch.tensor(self.mean[:c]).view(1, -1, 1, 1)
        std = torch.tensor(self.std[:c]).view(1, -1, 1, 1)
        values = (images * std + mean).clamp(0, 1).mul(255).round().to(torch.uint8)
        if c == 1:
            values = values.repeat(1, 3, 1, 1)
        return values.permute(0, 2, 3, 1).contiguous().numpy()

    def normalise(self, pixels: np.ndarray) -> torch.Tensor:
        """The inverse of :meth:`pixels`: (N, H, W, 3) uint8 to the model's input."""
        values = torch.from_numpy(np.ascontiguousarray(pixels)).permute(0, 3, 1, 2).float() / 255.0
        c = self.images.shape[1]
        values = values[:, :c]
        mean = torch.tensor(self.mean[:c]).view(1, -1, 1, 1)
        std = torch.tensor(self.std[:c]).view(1, -1, 1, 1)
        return (values - mean) / std

    def __len__(self) -> int:
        return int(self.labels.numel())

    def subset(self, classes=None, samples: int | None = None, seed: int = 0) -> ImageData:
        """Images of the given classes (names or indices), at most ``samples`` of them.

        The selection is a seeded shuffle, so the same arguments give the same images.
        """
        mask = torch.ones(len(self), dtype=torch.bool)
        if classes is not None and classes != "all":
            wanted = class_indices(self.classes, classes, self.name)
            mask = torch.isin(self.labels, torch.tensor(wanted))
        index = torch.nonzero(mask).flatten()
        if samples is not None and samples < index.numel():
            gen = torch.Generator().manual_seed(seed)
            index = index[torch.randperm(index.numel(), generator=gen)[:samples]]
            index = index.sort().values
        return ImageData(
            self.images[index], self.labels[index], self.classes, self.name, self.mean, self.std
        )

    def batches(self, batch_size: int):
        for start in range(0, len(self), batch_size):
            yield self.images[start : start + batch_size], self.labels[start : start + batch_size]


def class_indices(names: list[str], classes, dataset: str) -> list[int]:
    """Class indices for a list of class indices or names; unknown ones are an error."""
    out = []
    for c in classes:
        if isinstance(c, int) and not isinstance(c, bool):
            if not 0 <= c < len(names):
                raise SeiError(f"class {c} is not in {dataset} (classes 0..{len(names) - 1})")
            out.append(c)
        elif str(c) in names:
            out.append(names.index(str(c)))
        else:
            raise SeiError(f"class {c!r} is not in {dataset} (classes: {', '.join(names)})")
    if not out:
        raise SeiError("an empty class subset selects no image; name at least one class")
    return out


def _split_indices(labels: np.ndarray, seed: int = 0) -> dict[str, np.ndarray]:
    from sklearn.model_selection import train_test_split

    index = np.arange(len(labels))
    train, rest = train_test_split(index, test_size=0.4, random_state=seed, stratify=labels)
    val, test = train_test_split(rest, test_size=0.5, random_state=seed, stratify=labels[rest])
    return {"train": np.sort(train), "val": np.sort(val), "test": np.sort(test)}


@lru_cache(maxsize=8)
def _digits(size: tuple[int, int, int]) -> dict[str, ImageData]:
    from sklearn.datasets import load_digits

    raw = load_digits()
    images = torch.tensor(raw.images, dtype=torch.float32).unsqueeze(1) / 16.0
    channels, height, width = size
    images = F.interpolate(images, size=(height, width), mode="bilinear", align_corners=False)
    images = images.repeat(1, channels, 1, 1)
    images = (images - 0.5) / 0.5
    labels = torch.tensor(raw.target, dtype=torch.int64)
    classes = [str(c) for c in raw.target_names]
    parts = _split_indices(raw.target)
    return {
        name: ImageData(images[idx], labels[idx], classes, "digits") for name, idx in parts.items()
    }


@lru_cache(maxsize=4)
def _imagefolder(root: str, size: tuple[int, int, int]) -> dict[str, ImageData]:
    from PIL import Image, UnidentifiedImageError

    path = Path(root)
    if not path.is_dir():
        raise SeiError(f"{root}: no such image folder")
    classes = sorted(p.name for p in path.iterdir() if p.is_dir())
    if not classes:
        raise SeiError(f"{root}: holds no class folders (expected root/<class>/<image>)")
    files, labels = [], []
    suffixes = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
    for label, name in enumerate(classes):
        for f in sorted((path / name).iterdir()):
            if f.suffix.lower() in suffixes:
                files.append(f)
                labels.append(label)
    if len(files) < 10:
        raise SeiError(f"{root}: found {len(files)} images; need at least 10 to split")
    channels, height, width = size
    mean = torch.tensor(_IMAGENET_MEAN[:channels]).view(-1, 1, 1)
    std = torch.tensor(_IMAGENET_STD[:channels]).view(-1, 1, 1)
    tensors = []
    for f in files:
        try:
            with Image.open(f) as img:
                img = img.convert("RGB" if channels == 3 else "L").resize((width, height))
                arr = np.asarray(img, dtype=np.float32) / 255.0
        except (UnidentifiedImageError, OSError) as exc:
            raise SeiError(f"{f}: not a readable image ({exc})") from None
        t = torch.from_numpy(arr)
        t = t.permute(2, 0, 1) if t.ndim == 3 else t.unsqueeze(0)
        tensors.append((t - mean) / std)
    images = torch.stack(tensors)
    label_t = torch.tensor(labels, dtype=torch.int64)
    try:
        parts = _split_indices(np.asarray(labels))
    except ValueError:
        parts = _split_indices(np.asarray(labels) * 0)  # too few per class to stratify
    return {
        split: ImageData(
            images[idx], label_t[idx], classes, f"imagefolder:{root}", _IMAGENET_MEAN, _IMAGENET_STD
        )
        for split, idx in parts.items()
    }


def load_dataset(
    name: str, split: str, input_shape: tuple[int, int, int], path: str | None = None
) -> ImageData:
    """One split of a dataset at the model's input shape.

    Args:
        name: ``digits`` or ``imagefolder``.
        split: ``train``, ``val`` or ``test``.
        input_shape: (C, H, W) the model takes.
        path: the image folder, for ``imagefolder``.
    """
    if split not in SPLITS:
        raise SeiError(f"unknown split {split!r}; known: {', '.join(SPLITS)}")
    if name == "digits":
        if input_shape[0] not in (1, 3):
            raise SeiError(f"digits images have 1 or 3 channels, the model takes {input_shape[0]}")
        return _digits(tuple(input_shape))[split]
    if name == "imagefolder":
        if not path:
            raise SeiError("imagefolder needs a path (dataset.path)")
        return _imagefolder(path, tuple(input_shape))[split]
    raise SeiError(f"unknown dataset {name!r}; known: digits, imagefolder")
