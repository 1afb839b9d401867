from .adapter import ClassificationAdapter
from .datasets import ImageFolderClassification, TinyImageNet, TorchvisionCIFAR
from .models import (
                     Classifier,
                     resnet8,
                     resnet18_cifar,
                     resnet20,
                     small_cnn,
                     swin_tiny,
                     vgg16_bn,
                     vit_small,
)

__all__ = ["ClassificationAdapter", "ImageFolderClassification", "TinyImageNet",
           "TorchvisionCIFAR", "Classifier", "resnet8", "resnet18_cifar", "resnet20",
           "small_cnn", "swin_tiny", "vgg16_bn", "vit_small"]
