"""Segmentation networks: smp DeepLabV3+, randomly initialized (nothing is downloaded)."""
import torch.nn.functional as F
from torch import Tensor, nn

from taskforget.registry import MODELS


class PaddedSegmenter(nn.Module):
    """Wraps a segmentation network whose input sides must be multiples of ``divisor``: pads
    the input on the bottom/right with zeros and crops the logits back, so evaluation can run
    at any image size (training crops should already be multiples of ``divisor``)."""

    def __init__(self, net: nn.Module, divisor: int = 16):
        super().__init__()
        self.net, self.divisor = net, divisor

    def forward(self, x: Tensor) -> Tensor:
        """(N, C, H, W) normalized images -> (N, K, H, W) logits."""
        h, w = x.shape[-2:]
        pad_h, pad_w = -h % self.divisor, -w % self.divisor
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h))
        return self.net(x)[..., :h, :w]


@MODELS.register_module()
def deeplabv3plus(num_classes: int, encoder_name: str = "resnet50",
                  encoder_weights=None, output_stride: int = 16,
                  in_channels: int = 3) -> PaddedSegmenter:
    """DeepLabV3+ (Chen et al. 2018) from segmentation_models_pytorch.

    Args:
        num_classes: K output channels.
        encoder_name: any smp encoder ('resnet50' = the paper's, 'resnet18', 'mobilenet_v2').
        encoder_weights: None = random initialization (the paper trains from scratch);
            'imagenet' needs internet on first use.
        output_stride: 16 or 8.
        in_channels: image channels.
    """
    import segmentation_models_pytorch as smp
    net = smp.DeepLabV3Plus(encoder_name=encoder_name, encoder_weights=encoder_weights,
                            encoder_output_stride=output_stride, in_channels=in_channels,
                            classes=num_classes)
    return PaddedSegmenter(net, divisor=16 if output_stride == 16 else 8)


@MODELS.register_module()
def tiny_segnet(num_classes: int, width: int = 16, in_channels: int = 3) -> PaddedSegmenter:
    """4-conv fully convolutional net (stride 4, bilinear upsampling; 17 k parameters at width
    16): tests and quick demos only."""
    def block(cin, cout, stride=1, dilation=1):
        return [nn.Conv2d(cin, cout, 3, stride, dilation, dilation, bias=False),
                nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
    w = width
    net = nn.Sequential(*block(in_channels, w, 2), *block(w, w), *block(w, 2 * w, 2),
                        *block(2 * w, 2 * w, dilation=2), nn.Conv2d(2 * w, num_classes, 1),
                        nn.Upsample(scale_factor=4, mode="bilinear", align_corners=False))
    return PaddedSegmenter(net, divisor=4)
