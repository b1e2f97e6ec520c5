"""Model registry: every torchvision classifier by name, the built-in reference models, and
saved (e.g. pruned) models; checkpoints load safely.

Checkpoints are read with ``torch.load(..., weights_only=True)``: a file that would run
code when unpickled is refused. A checkpoint is a ``state_dict`` (or a dict holding one
under ``state_dict`` or ``model``). A saved sei model (``sei prune`` writes one) is a dict
with ``sei_format: "pruned"``, the base architecture's name, every module's plain attributes
(channel counts, groups: numbers, tuples, strings) and the tensors; loading rebuilds the
base architecture, sets those attributes and puts the tensors back, without unpickling
any class. (Torch-Pruning's own ``state_dict`` pickles module objects, which a safe load
refuses.)
"""

from __future__ import annotations

import difflib
import json
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn as nn
from torchvision.models.resnet import BasicBlock

from ..catalog import REFERENCE_MODELS, TORCHVISION_CLASSIFIERS, default_input, weights_dir
from ..errors import NotFoundError, SeiError
from .rng import seeded

__all__ = [
    "LoadedModel",
    "load_model",
    "build_architecture",
    "DigitsVGG",
    "DigitsResNet",
    "digits_mobilenet",
    "weights_path",
    "read_checkpoint",
    "save_pruned",
]


class DigitsVGG(nn.Module):
    """A VGG-style network for 3x32x32 inputs: 3 blocks of two 3x3 conv + BN + ReLU and
    a max-pool (32-64-128 channels), then a two-layer classifier."""

    def __init__(self, num_classes: int = 10, in_channels: int = 3):
        super().__init__()
        layers: list[nn.Module] = []
        channels = in_channels
        for width in (32, 64, 128):
            for _ in range(2):
                layers += [
                    nn.Conv2d(channels, width, 3, padding=1, bias=False),
                    nn.BatchNorm2d(width),
                    nn.ReLU(inplace=True),
                ]
                channels = width
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(128 * 4 * 4, 256),
            nn.ReLU(inplace=True),
            nn.Dropout(0.3),
            nn.Linear(256, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


class DigitsResNet(nn.Module):
    """A ResNet for 3x32x32 inputs built from torchvision's ``BasicBlock``: a 3x3 stem,
    four stages of one block (16-32-64-128 channels, stride 2 from the second), global
    average pooling and a linear classifier."""

    def __init__(self, num_classes: int = 10, in_channels: int = 3):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        stages = []
        channels = 16
        for width, stride in ((16, 1), (32, 2), (64, 2), (128, 2)):
            down = None
            if stride != 1 or channels != width:
                down = nn.Sequential(
                    nn.Conv2d(channels, width, 1, stride=stride, bias=False),
                    nn.BatchNorm2d(width),
                )
            stages.append(nn.Sequential(BasicBlock(channels, width, stride, down)))
            channels = width
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(128, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.flatten(self.avgpool(x)))


def digits_mobilenet(num_classes: int = 10) -> nn.Module:
    """torchvision's MobileNetV2 with ``width_mult=0.5`` and a stride-1 stem for 32x32."""
    from torchvision.models import mobilenet_v2

    model = mobilenet_v2(num_classes=num_classes, width_mult=0.5)
    model.features[0][0].stride = (1, 1)
    return model


_REFERENCE_BUILDERS = {
    "digits_vgg": DigitsVGG,
    "digits_resnet": DigitsResNet,
    "digits_mobilenet": digits_mobilenet,
}


def weights_path(name: str) -> Path:
    """Where a reference model's built-in checkpoint lives."""
    return weights_dir() / f"{name}.pt"


def build_architecture(name: str, num_classes: int | None = None) -> nn.Module:
    """A fresh (randomly initialised) model of a known architecture."""
    if name in _REFERENCE_BUILDERS:
        return _REFERENCE_BUILDERS[name](num_classes or 10)
    if name in TORCHVISION_CLASSIFIERS or _torchvision_has(name):
        import warnings

        import torchvision.models as tvm

        kwargs = {"weights": None}
        if num_classes is not None:
            kwargs["num_classes"] = num_classes
        if name in ("googlenet", "inception_v3"):
            kwargs["aux_logits"] = False
            kwargs["init_weights"] = True
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return tvm.get_model(name, **kwargs)
    names = [*REFERENCE_MODELS, *TORCHVISION_CLASSIFIERS]
    close = difflib.get_close_matches(name, names, n=3)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    raise NotFoundError(
        f"unknown model {name!r}.{hint} Known: {', '.join(REFERENCE_MODELS)} and every "
        f"torchvision classifier ({', '.join(TORCHVISION_CLASSIFIERS[:6])}, ...)"
    )


def _torchvision_has(name: str) -> bool:
    try:
        import torchvision.models as tvm
        from torchvision.models import list_models

        return name in list_models(module=tvm)
    except Exception:  # pragma: no cover - very old torchvision
        return False


def read_checkpoint(path: str | Path) -> dict:
    """Load a checkpoint without running any code from it.

    Raises:
        SeiError: missing file, or a file that would execute code when unpickled, or not a
            mapping of tensors.
    """
    path = Path(path)
    if not path.is_file():
        raise SeiError(f"{path}: no such checkpoint")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "unsafe content"
        raise SeiError(
            f"{path}: refused: loading it would run code from the file ({first[:160]}). "
            "Save a state_dict (torch.save(model.state_dict(), path)) instead"
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise SeiError(
            f"{path}: not a PyTorch checkpoint ({str(exc).splitlines()[0][:160]})"
        ) from None
    if not isinstance(data, dict):
        raise SeiError(
            f"{path}: expected a state_dict (a mapping of tensors), got {type(data).__name__}"
        )
    return data


def _state_dict(data: dict, path: Path) -> dict:
    for key in ("state_dict", "model", "model_state_dict"):
        inner = data.get(key)
        if (
            isinstance(inner, dict)
            and inner
            and all(isinstance(v, torch.Tensor) for v in inner.values())
        ):
            data = inner
            break
    if not data or not all(isinstance(v, torch.Tensor) for v in data.values()):
        raise SeiError(f"{path}: not a state_dict (its values are not all tensors)")
    return {k.removeprefix("module."): v for k, v in data.items()}


def _load_state(model: nn.Module, state: dict, path: Path, name: str) -> None:
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    wrong = [
        f"{k} {tuple(state[k].shape)} vs {tuple(v.shape)}"
        for k, v in own.items()
        if k in state and state[k].shape != v.shape
    ]
    if missing or unexpected or wrong:
        parts = []
        if wrong:
            parts.append(
                f"shapes differ: {wrong[0]}"
                + (f" and {len(wrong) - 1} more" if len(wrong) > 1 else "")
            )
        if missing:
            parts.append(
                f"missing {missing[0]}"
                + (f" and {len(missing) - 1} more" if len(missing) > 1 else "")
            )
        if unexpected:
            parts.append(
                f"unexpected {unexpected[0]}"
                + (f" and {len(unexpected) - 1} more" if len(unexpected) > 1 else "")
            )
        raise SeiError(f"{path}: checkpoint does not fit {name} ({'; '.join(parts)})")
    model.load_state_dict(state)


def _num_classes(state: dict) -> int | None:
    """Classes of a checkpoint, read from its last linear layer's bias."""
    last = None
    for key, value in state.items():
        if key.endswith("bias") and value.ndim == 1:
            last = value
    return int(last.numel()) if last is not None else None


@dataclass
class LoadedModel:
    """A model ready to split, profile or train.

    Attributes:
        name: registry name (or the saved file's base model).
        module: the ``nn.Module``, in eval mode, on the CPU.
        input_shape: (C, H, W) at which it is used.
        weights: ``builtin``, ``none`` or a checkpoint path.
        meta: training record or saved-model metadata, if any.
    """

    name: str
    module: nn.Module
    input_shape: tuple[int, int, int]
    weights: str
    meta: dict = field(default_factory=dict)

    @property
    def trained(self) -> bool:
        return self.weights != "none"


_PLAIN = (bool, int, float, str, type(None))


def _plain(value) -> bool:
    if isinstance(value, (tuple, list)):
        return all(_plain(v) for v in value)
    return isinstance(value, _PLAIN)


def _structure(module: nn.Module) -> dict[str, dict]:
    """Every module's public plain attributes (channel counts, kernel sizes, groups...)."""
    out = {}
    for name, sub in module.named_modules():
        out[name] = {
            k: v
            for k, v in vars(sub).items()
            if not k.startswith("_") and k != "training" and _plain(v)
        }
    return out


def _restore(module: nn.Module, structure: dict, state: dict) -> None:
    """Set the saved attributes, then put every saved tensor in place, shapes included."""
    for name, attrs in structure.items():
        sub = module.get_submodule(name) if name else module
        for key, value in attrs.items():
            setattr(sub, key, tuple(value) if isinstance(value, list) else value)
    own = dict(module.named_parameters(remove_duplicate=False)) | dict(
        module.named_buffers(remove_duplicate=False)
    )
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    if missing or unexpected:
        raise SeiError(
            f"saved model does not fit its base architecture (missing {missing[:2]}, unexpected {unexpected[:2]})"
        )
    for key, tensor in state.items():
        owner_name, _, attr = key.rpartition(".")
        owner = module.get_submodule(owner_name) if owner_name else module
        if isinstance(getattr(owner, attr), nn.Parameter):
            setattr(owner, attr, nn.Parameter(tensor.clone()))
        else:
            owner.register_buffer(attr, tensor.clone())


def save_pruned(module: nn.Module, base: str, path: Path, input_shape, meta: dict) -> Path:
    """Save a pruned model so that :func:`load_model` rebuilds it safely."""
    payload = {
        "sei_format": "pruned",
        "base_model": base,
        "input_shape": list(input_shape),
        "meta_json": json.dumps(meta),
        "structure": _structure(module),
        "state": module.state_dict(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(payload, tmp)
    tmp.replace(path)
    return path


def _load_saved(path: Path, input_shape) -> LoadedModel:
    data = read_checkpoint(path)
    if data.get("sei_format") != "pruned":
        raise SeiError(
            f"{path}: not a saved sei model; give a model name with --weights {path} for a plain checkpoint"
        )
    base = str(data["base_model"])
    meta = json.loads(data.get("meta_json", "{}"))
    module = build_architecture(base, meta.get("num_classes"))
    try:
        _restore(module, data["structure"], data["state"])
    except (KeyError, AttributeError, TypeError) as exc:
        raise SeiError(f"{path}: cannot rebuild the pruned {base} ({exc})") from None
    shape = tuple(input_shape or data.get("input_shape") or default_input(base))
    return LoadedModel(base, module.eval(), shape, str(path), meta)


def load_model(
    name: str,
    weights: str | None = None,
    input_shape: tuple[int, int, int] | None = None,
) -> LoadedModel:
    """Build a model by name with its weights.

    Args:
        name: a reference model, a torchvision classifier, or the path of a saved sei
            model (``.pt`` written by ``sei prune``).
        weights: ``builtin`` (reference models' shipped checkpoint), ``none`` (random
            initialisation), or a checkpoint path. Reference models default to builtin,
            others to none.
        input_shape: (C, H, W); the model's usual input by default.
    """
    if name.endswith(".pt") or "/" in name:
        return _load_saved(Path(name), input_shape)
    if weights is None:
        weights = "builtin" if name in REFERENCE_MODELS else "none"
    shape = tuple(input_shape or default_input(name))
    meta: dict = {}
    if weights == "none":
        with seeded(0):  # random weights are reproducible
            module = build_architecture(name)
    elif weights == "builtin":
        if name not in REFERENCE_MODELS:
            raise SeiError(
                f"{name} has no built-in weights; give a checkpoint path or 'none' "
                f"(built-in weights exist for {', '.join(REFERENCE_MODELS)})"
            )
        path = weights_path(name)
        if not path.is_file():
            raise SeiError(
                f"{name}: built-in weights missing at {path}; train them with `sei train {name}`"
            )
        state = _state_dict(read_checkpoint(path), path)
        module = build_architecture(name, _num_classes(state))
        _load_state(module, state, path, name)
        record = path.with_suffix(".json")
        if record.is_file():
            meta = json.loads(record.read_text())
    else:
        path = Path(weights)
        state = _state_dict(read_checkpoint(path), path)
        module = build_architecture(name, _num_classes(state))
        _load_state(module, state, path, name)
    return LoadedModel(name, module.eval(), shape, weights, meta)
