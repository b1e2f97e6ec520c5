"""Names of the models `sei` knows, without importing torch.

The scenario loader checks model names against this catalogue, so that it stays fast to
import; the torch side (:mod:`splitetimpera.models.zoo`) builds the models.
``tests/test_zoo.py`` checks that the torchvision list below matches the installed
torchvision.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "REFERENCE_MODELS",
    "TORCHVISION_CLASSIFIERS",
    "known_models",
    "default_input",
    "weights_dir",
]

#: Built-in reference models, trained by ``sei train`` on the built-in ``digits`` dataset.
REFERENCE_MODELS: dict[str, str] = {
    "digits_vgg": "VGG-style CNN (6 conv layers, BatchNorm) for 3x32x32 digits",
    "digits_resnet": "ResNet-style CNN (torchvision BasicBlock, 4 stages) for 3x32x32 digits",
    "digits_mobilenet": "torchvision MobileNetV2 (width_mult 0.5) for 3x32x32 digits",
}

#: Every classification architecture in torchvision.models (torchvision 0.17 and newer).
TORCHVISION_CLASSIFIERS: tuple[str, ...] = (
    "alexnet", "convnext_base", "convnext_large", "convnext_small", "convnext_tiny",
    "densenet121", "densenet161", "densenet169", "densenet201",
    "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3",
    "efficientnet_b4", "efficientnet_b5", "efficientnet_b6", "efficientnet_b7",
    "efficientnet_v2_l", "efficientnet_v2_m", "efficientnet_v2_s",
    "googlenet", "inception_v3", "maxvit_t",
    "mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3",
    "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small",
    "regnet_x_16gf", "regnet_x_1_6gf", "regnet_x_32gf", "regnet_x_3_2gf", "regnet_x_400mf",
    "regnet_x_800mf", "regnet_x_8gf", "regnet_y_128gf", "regnet_y_16gf", "regnet_y_1_6gf",
    "regnet_y_32gf", "regnet_y_3_2gf", "regnet_y_400mf", "regnet_y_800mf", "regnet_y_8gf",
    "resnet101", "resnet152", "resnet18", "resnet34", "resnet50",
    "resnext101_32x8d", "resnext101_64x4d", "resnext50_32x4d",
    "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0",
    "squeezenet1_0", "squeezenet1_1",
    "swin_b", "swin_s", "swin_t", "swin_v2_b", "swin_v2_s", "swin_v2_t",
    "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
    "vit_b_16", "vit_b_32", "vit_h_14", "vit_l_16", "vit_l_32",
    "wide_resnet101_2", "wide_resnet50_2",
)  # fmt: skip

_DEFAULT_INPUT = {"inception_v3": (3, 299, 299)}


def known_models() -> list[str]:
    """All model names, reference models first."""
    return [*REFERENCE_MODELS, *TORCHVISION_CLASSIFIERS]


def default_input(name: str) -> tuple[int, int, int]:
    """The input shape (C, H, W) a model is profiled and split at unless told otherwise."""
    if name in REFERENCE_MODELS:
        return (3, 32, 32)
    return _DEFAULT_INPUT.get(name, (3, 224, 224))


def weights_dir() -> Path:
    """Where the reference models' checkpoints ship, with their accuracy and I-SPLIT tables."""
    return Path(__file__).resolve().parent / "models" / "weights"
