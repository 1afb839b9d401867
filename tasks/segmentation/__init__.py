"""Semantic segmentation: VOC/CamVid with a pixel-level forget split, DeepLabV3+, the adapter
(pixel-level DELETE) and IoU metrics. The NG/RL baselines are the shared pixel-agnostic
``NegativeGradient`` / ``RandomLabel`` of :mod:`taskforget.methods`."""

from .adapter import SegmentationAdapter, confusion_matrix
from .datasets import (
    IGNORE_INDEX,
    VOC_CLASSES,
    CamVid,
    PascalVOC,
    SegmentationDataset,
    forget_pixels_to_ignore,
)
from .metrics import (
    SegUnlearningMetric,
    intersect_and_union,
    iou_from_confusion,
    segmentation_scores,
)
from .models import PaddedSegmenter, deeplabv3plus, tiny_segnet

__all__ = [
    "SegmentationAdapter",
    "confusion_matrix",
    "IGNORE_INDEX",
    "VOC_CLASSES",
    "CamVid",
    "PascalVOC",
    "SegmentationDataset",
    "forget_pixels_to_ignore",
    "SegUnlearningMetric",
    "intersect_and_union",
    "iou_from_confusion",
    "segmentation_scores",
    "PaddedSegmenter",
    "deeplabv3plus",
    "tiny_segnet",
]
