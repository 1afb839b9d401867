"""Classification networks, randomly initialized, all shaped ``head(features(x))``.

Every network is a :class:`Classifier`: ``features(x)`` gives (N, D) penultimate features
(t-SNE, linear probes, frozen-classifier unlearning) and ``head`` is the final ``nn.Linear``.
"""
from typing import List

import torch
from torch import Tensor, nn

from taskforget.registry import MODELS


class Classifier(nn.Module):
    """``head(encoder(x))``; ``encoder`` maps (N, C, H, W) images to (N, D) features.

    Implements the network contract (:mod:`taskforget.network`, timm's
    ``forward_features`` / ``forward_head`` / ``get_classifier``).
    """

    def __init__(self, encoder: nn.Module, feature_dim: int, num_classes: int):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(feature_dim, num_classes)

    def features(self, x: Tensor) -> Tensor:
        """(N, C, H, W) images -> (N, D) penultimate features."""
        return self.encoder(x)

    def forward_features(self, x: Tensor) -> Tensor:
        """(N, C, H, W) -> (N, D), as :meth:`features`."""
        return self.encoder(x)

    def forward_head(self, x: Tensor, pre_logits: bool = False) -> Tensor:
        """(N, D) features -> (N, K) logits (the features themselves when ``pre_logits``)."""
        return x if pre_logits else self.head(x)

    def get_classifier(self) -> nn.Linear:
        return self.head

    def forward(self, x: Tensor) -> Tensor:
        """(N, C, H, W) images -> (N, K) logits."""
        return self.head(self.encoder(x))


class _BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                          nn.BatchNorm2d(cout))

    def forward(self, x: Tensor) -> Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


def _resnet_encoder(widths: List[int], blocks: List[int], in_channels: int = 3) -> nn.Module:
    layers: List[nn.Module] = [nn.Conv2d(in_channels, widths[0], 3, 1, 1, bias=False),
                               nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True)]
    cin = widths[0]
    for stage, (width, count) in enumerate(zip(widths, blocks)):
        for b in range(count):
            layers.append(_BasicBlock(cin, width, 2 if stage > 0 and b == 0 else 1))
            cin = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    return nn.Sequential(*layers)


@MODELS.register_module()
def resnet18_cifar(num_classes: int = 10, in_channels: int = 3) -> Classifier:
    """ResNet-18 with the CIFAR stem (3x3 conv, no max-pool), 11.2 M parameters."""
    return Classifier(_resnet_encoder([64, 128, 256, 512], [2, 2, 2, 2], in_channels), 512,
                      num_classes)


@MODELS.register_module()
def resnet20(num_classes: int = 10, in_channels: int = 3) -> Classifier:
    """ResNet-20 (He et al. 2016, CIFAR variant), 0.27 M parameters."""
    return Classifier(_resnet_encoder([16, 32, 64], [3, 3, 3], in_channels), 64, num_classes)


@MODELS.register_module()
def resnet8(num_classes: int = 10, in_channels: int = 3) -> Classifier:
    """ResNet-8 (one block per stage), 0.08 M parameters: tests and quick demos."""
    return Classifier(_resnet_encoder([16, 32, 64], [1, 1, 1], in_channels), 64, num_classes)


@MODELS.register_module()
def vgg16_bn(num_classes: int = 10, in_channels: int = 3) -> Classifier:
    """VGG-16 with batch norm, global-pooled 512-d features (CIFAR-sized inputs)."""
    from torchvision.models import vgg16_bn as tv_vgg16_bn
    net = tv_vgg16_bn(weights=None)
    if in_channels != 3:
        net.features[0] = nn.Conv2d(in_channels, 64, 3, padding=1)
    return Classifier(nn.Sequential(net.features, nn.AdaptiveAvgPool2d(1), nn.Flatten()), 512,
                      num_classes)


def _timm_classifier(name: str, num_classes: int, **kwargs) -> Classifier:
    import timm
    encoder = timm.create_model(name, pretrained=False, num_classes=0, **kwargs)
    return Classifier(encoder, encoder.num_features, num_classes)


@MODELS.register_module()
def vit_small(num_classes: int = 10, img_size: int = 32, patch_size: int = 4) -> Classifier:
    """ViT-S/`patch_size` (timm ``vit_small_patch16_224`` layout) for ``img_size`` inputs."""
    return _timm_classifier("vit_small_patch16_224", num_classes, img_size=img_size,
                            patch_size=patch_size)


@MODELS.register_module()
def swin_tiny(num_classes: int = 10, img_size: int = 224, window_size: int = 7) -> Classifier:
    """Swin-T (timm ``swin_tiny_patch4_window7_224``); the paper resizes inputs to 224."""
    return _timm_classifier("swin_tiny_patch4_window7_224", num_classes, img_size=img_size,
                            window_size=window_size)


@MODELS.register_module()
def small_cnn(num_classes: int = 10, in_channels: int = 3, width: int = 32) -> Classifier:
    """4-conv CNN (0.3 M parameters at width 32): the CPU demo and the tests."""
    def block(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                nn.ReLU(inplace=True)]
    w = width
    encoder = nn.Sequential(*block(in_channels, w), *block(w, 2 * w), nn.MaxPool2d(2),
                            *block(2 * w, 4 * w), nn.MaxPool2d(2), *block(4 * w, 8 * w),
                            nn.AdaptiveAvgPool2d(1), nn.Flatten())
    return Classifier(encoder, 8 * w, num_classes)
