"""Training of the reference models on the built-in dataset (``sei train``), seeded.

The recipe is fixed per model in :data:`RECIPES` so that ``sei train MODEL`` reproduces the
shipped checkpoint: SGD with Nesterov momentum, cosine learning rate, weight decay, and
random shifts of up to 2 pixels as augmentation. The record written beside the
checkpoint (``<model>.json``) holds the command, the recipe, the seed, the versions and the
measured validation and test accuracy.
"""

from __future__ import annotations

import datetime as _dt
import json
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import __version__
from ..catalog import REFERENCE_MODELS
from ..errors import SeiError
from .rng import seeded
from .zoo import build_architecture, weights_path

__all__ = ["RECIPES", "train_reference", "evaluate", "train_epochs"]

RECIPES: dict[str, dict] = {
    "digits_vgg": {"epochs": 30, "lr": 0.05, "batch_size": 64, "weight_decay": 5e-4},
    "digits_resnet": {"epochs": 30, "lr": 0.05, "batch_size": 64, "weight_decay": 5e-4},
    "digits_mobilenet": {"epochs": 40, "lr": 0.05, "batch_size": 64, "weight_decay": 4e-5},
}


def _shift(images: torch.Tensor, generator: torch.Generator, pixels: int = 2) -> torch.Tensor:
    """Random translation by up to ``pixels`` (background value fills the border)."""
    n, _, h, w = images.shape
    padded = F.pad(images, (pixels, pixels, pixels, pixels), value=float(images.min()))
    dx = torch.randint(0, 2 * pixels + 1, (n,), generator=generator)
    dy = torch.randint(0, 2 * pixels + 1, (n,), generator=generator)
    out = torch.empty_like(images)
    for i in range(n):
        out[i] = padded[i, :, dy[i] : dy[i] + h, dx[i] : dx[i] + w]
    return out


@torch.no_grad()
def evaluate(
    model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 256
) -> float:
    """Top-1 accuracy of ``model`` (put in eval mode) on the given tensors."""
    model.eval()
    correct = 0
    for start in range(0, len(labels), batch_size):
        logits = model(images[start : start + batch_size])
        correct += int((logits.argmax(1) == labels[start : start + batch_size]).sum())
    return correct / max(len(labels), 1)


def train_epochs(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    epochs: int,
    lr: float,
    batch_size: int,
    weight_decay: float,
    generator: torch.Generator,
    parameters=None,
    augment: bool = True,
    on_epoch: Callable[[int, float], None] | None = None,
) -> None:
    """Train in place with SGD (Nesterov), cosine schedule and optional shift augmentation."""
    params = list(parameters) if parameters is not None else list(model.parameters())
    opt = torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay)
    steps = epochs * ((len(labels) + batch_size - 1) // batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(steps, 1))
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(labels), generator=generator)
        total = 0.0
        for start in range(0, len(labels), batch_size):
            idx = order[start : start + batch_size]
            x = images[idx]
            if augment:
                x = _shift(x, generator)
            loss = F.cross_entropy(model(x), labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
        if on_epoch is not None:
            on_epoch(epoch + 1, total / len(labels))


def train_reference(
    model: str,
    *,
    dataset: str = "digits",
    epochs: int | None = None,
    seed: int = 0,
    output: Path | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> dict:
    """Train a reference model and save its checkpoint and training record.

    Returns:
        The training record (also written as JSON beside the checkpoint).
    """
    from ..data.datasets import load_dataset

    if model not in REFERENCE_MODELS:
        raise SeiError(
            f"{model!r} is not a reference model; `sei train` trains {', '.join(REFERENCE_MODELS)}"
        )
    if dataset != "digits":
        raise SeiError(f"unknown dataset {dataset!r}; reference models train on digits")
    recipe = dict(RECIPES[model])
    if epochs is not None:
        recipe["epochs"] = epochs
    generator = torch.Generator().manual_seed(seed)
    shape = (3, 32, 32)
    train = load_dataset(dataset, "train", shape)
    val = load_dataset(dataset, "val", shape)
    test = load_dataset(dataset, "test", shape)
    started = time.perf_counter()

    def on_epoch(epoch: int, loss: float) -> None:
        if progress is not None:
            progress(epoch, recipe["epochs"], f"loss {loss:.3f}")

    with seeded(seed):  # initialisation and dropout
        net = build_architecture(model, 10)
        train_epochs(
            net,
            train.images,
            train.labels,
            epochs=recipe["epochs"],
            lr=recipe["lr"],
            batch_size=recipe["batch_size"],
            weight_decay=recipe["weight_decay"],
            generator=generator,
            on_epoch=on_epoch,
        )
    seconds = time.perf_counter() - started
    net.eval()
    path = Path(output) if output else weights_path(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(net.state_dict(), tmp)
    tmp.replace(path)
    record = {
        "model": model,
        "dataset": dataset,
        "command": f"sei train {model} --dataset {dataset} --seed {seed}"
        + (f" --epochs {epochs}" if epochs is not None else ""),
        "seed": seed,
        **recipe,
        "optimizer": "SGD, momentum 0.9, Nesterov, cosine schedule",
        "augmentation": "random shifts of up to 2 pixels",
        "input_shape": list(shape),
        "num_classes": 10,
        "train_samples": len(train),
        "val_accuracy": evaluate(net, val.images, val.labels),
        "test_accuracy": evaluate(net, test.images, test.labels),
        "test_samples": len(test),
        "train_seconds": seconds,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "sei_version": __version__,
        "date": _dt.date.today().isoformat(),
        "checkpoint": path.name,
        "checkpoint_bytes": path.stat().st_size,
        "parameters": sum(p.numel() for p in net.parameters()),
    }
    path.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    return record
