"""Face-recognition networks: ResNet-18 (the paper's) and facenet-pytorch's InceptionResnetV1.

Both are :class:`~taskforget.tasks.classification.Classifier`\\ s (``head(encoder(x))``), randomly
initialized. ``init_encoder`` loads the encoder of a checkpoint written by a pretraining run on
another identity group and leaves the new head random: the protocol's fine-tune stage.
"""
from pathlib import Path
from typing import Optional

from torch import nn

from taskforget.checkpoint import CheckpointError, read_state_dict
from taskforget.datasets.data_root import PROJECT_ROOT
from taskforget.errors import ConfigError, DataError
from taskforget.registry import MODELS

from ..classification.models import Classifier


def load_encoder(model: Classifier, path: str) -> Classifier:
    """Load the ``encoder.*`` weights of a Classifier checkpoint into ``model.encoder``.

    Args:
        model: the network to initialize; its head is left as it is.
        path: weights file (plain state dict, ``weights_only=True``); a relative path is
            resolved against the project root, like ``work_dirs``.
    """
    path = Path(path)
    path = path if path.is_absolute() else PROJECT_ROOT / path
    if not path.is_file():
        raise DataError(
            f"pretrained encoder {path} does not exist: run the pretraining stage first, e.g. "
            "`python tools/train.py configs/face_yaleb_pretrain.py`, or set "
            "model.network.init_encoder=None")
    state = {k[len("encoder."):]: v for k, v in read_state_dict(path).items()
             if k.startswith("encoder.")}
    try:
        model.encoder.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise CheckpointError(
            f"{path} does not fit this encoder ({str(exc).splitlines()[0][:300]}): the "
            "pretraining config must use the same architecture and input channels") from exc
    return model


def _finish(model: Classifier, init_encoder: Optional[str]) -> Classifier:
    return load_encoder(model, init_encoder) if init_encoder else model


@MODELS.register_module()
def resnet18_face(num_classes: int = 10, in_channels: int = 3,
                  init_encoder: Optional[str] = None) -> Classifier:
    """torchvision ResNet-18 (ImageNet stem, 11.2 M parameters), no pretrained weights.

    Args:
        num_classes: identities of the head.
        in_channels: 3, or 1 for single-channel grey inputs.
        init_encoder: checkpoint whose encoder is loaded (see :func:`load_encoder`).

    The Grad-CAM layer is ``encoder.layer4``.
    """
    from torchvision.models import resnet18
    net = resnet18(weights=None)
    if in_channels != 3:
        net.conv1 = nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False)
    net.fc = nn.Identity()
    return _finish(Classifier(net, 512, num_classes), init_encoder)


@MODELS.register_module()
def inception_resnet_v1(num_classes: int = 10, dropout_prob: float = 0.6,
                        init_encoder: Optional[str] = None) -> Classifier:
    """facenet-pytorch InceptionResnetV1 (``pretrained=None, classify=True``), 23.5 M
    parameters; its 512-d bottleneck (before L2 normalization) feeds the head. Inputs of at
    least 80 x 80 (facenet's 160 x 160 is the usual size). Grad-CAM layer: ``encoder.block8``.
    """
    from facenet_pytorch import InceptionResnetV1
    net = InceptionResnetV1(pretrained=None, classify=True, num_classes=num_classes,
                            dropout_prob=dropout_prob)
    net.logits = nn.Identity()  # the Classifier's head replaces facenet's logits layer
    return _finish(Classifier(net, 512, num_classes), init_encoder)


def gradcam_layer(model: Classifier) -> nn.Module:
    """The last convolutional block of a face network (Grad-CAM's target layer)."""
    encoder = model.encoder
    for name in ("layer4", "block8"):
        if hasattr(encoder, name):
            return getattr(encoder, name)
    convs = [m for m in encoder.modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise ConfigError(f"no convolution in {type(encoder).__name__}: no Grad-CAM layer")
    return convs[-1]
