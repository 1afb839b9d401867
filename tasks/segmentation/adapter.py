"""Segmentation adapter: pixel-level logits (N, K, H, W), one label per pixel."""
from typing import Dict, List

import torch
import torch.nn.functional as F
from torch import Tensor

from taskforget.adapter import TaskAdapter
from taskforget.errors import ConfigError
from taskforget.registry import MODELS

from .datasets import IGNORE_INDEX

MASK_SCOPES = ("all", "labelled")


def confusion_matrix(label: Tensor, pred: Tensor, num_classes: int,
                     ignore_index: int = IGNORE_INDEX) -> Tensor:
    """(K, K) int64 counts, rows = true class, columns = predicted class; ignored pixels out.

    Args:
        label: (...) int true classes (``ignore_index`` for ignored pixels).
        pred: (...) int predicted classes, same shape.
    """
    keep = label != ignore_index
    index = label[keep].long() * num_classes + pred[keep].long()
    return torch.bincount(index, minlength=num_classes ** 2).reshape(num_classes, num_classes)


@MODELS.register_module()
class SegmentationAdapter(TaskAdapter):
    """Labels are ``data_samples['label']`` (N, H, W) with ``ignore_index`` at ignored pixels.

    Args:
        class_names, forget_classes: see :class:`~taskforget.adapter.TaskAdapter`.
        mask_scope: where DELETE masks the forgotten classes: ``'all'`` pixels (default: the
            student may predict a forgotten class nowhere) or only the pixels ``'labelled'``
            with a forgotten class (elsewhere the student distils the unmasked teacher).
        ignore_index: label value of ignored pixels.
    """

    def __init__(self, class_names, forget_classes, mask_scope: str = "all",
                 ignore_index: int = IGNORE_INDEX):
        super().__init__(class_names, forget_classes)
        if mask_scope not in MASK_SCOPES:
            raise ConfigError(f"mask_scope must be one of {MASK_SCOPES}, got {mask_scope!r}")
        self.mask_scope, self.ignore_index = mask_scope, ignore_index

    def labels(self, data_samples: Dict[str, Tensor]) -> Tensor:
        """(N, H, W) int64."""
        return data_samples["label"]

    def valid(self, data_samples: Dict[str, Tensor]) -> Tensor:
        """(N, H, W) bool, False at ignored pixels."""
        return self.labels(data_samples) != self.ignore_index

    def forget_pixels(self, data_samples: Dict[str, Tensor]) -> Tensor:
        """(N, H, W) bool, True at pixels labelled with a forgotten class."""
        labels = self.labels(data_samples)
        return torch.isin(labels, torch.tensor(self.forget_ids, device=labels.device))

    def class_mask(self, logits: Tensor, data_samples: Dict[str, Tensor]) -> Tensor:
        """(1, K, 1, 1) for scope 'all'; (N, K, H, W) for 'labelled'."""
        mask = super().class_mask(logits, data_samples)
        if self.mask_scope == "all":
            return mask
        return mask & self.forget_pixels(data_samples)[:, None]

    def supervised_loss(self, logits: Tensor, data_samples: Dict[str, Tensor]) -> Tensor:
        """Pixel cross-entropy over non-ignored pixels (0 when a batch has none)."""
        labels = self.labels(data_samples)
        if not (labels != self.ignore_index).any():
            return logits.float().sum() * 0.0
        return F.cross_entropy(logits.float(), labels, ignore_index=self.ignore_index)

    def predict(self, logits: Tensor, data_samples: Dict[str, Tensor]) -> List[dict]:
        """Per image: ``confusion`` (K, K) int64 CPU tensor (rows = truth), ``is_train``,
        ``has_forget`` (the image contains a forgotten class)."""
        preds = logits.detach().argmax(1).cpu()
        labels = self.labels(data_samples).cpu()
        has_forget = self.forget_pixels(data_samples).flatten(1).any(1).cpu()
        return [dict(confusion=confusion_matrix(y, p, self.num_classes, self.ignore_index),
                     is_train=bool(t), has_forget=bool(f))
                for y, p, t, f in zip(labels, preds, data_samples["is_train"].cpu(), has_forget)]
