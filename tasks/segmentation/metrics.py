"""Segmentation unlearning metrics: per-class IoU from a confusion matrix, IoU_ft, IoU_rt."""
from typing import Dict, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from taskforget.evaluation import h_mean
from taskforget.registry import METRICS

from .datasets import IGNORE_INDEX


def intersect_and_union(pred: np.ndarray, label: np.ndarray, num_classes: int,
                        ignore_index: int = IGNORE_INDEX):
    """Per-class pixel areas of one prediction (ignored pixels excluded).

    Args:
        pred: (H, W) int predicted classes.
        label: (H, W) int true classes, ``ignore_index`` where ignored.

    Returns:
        (area_intersect, area_union, area_pred, area_label), each (K,) int64.
    """
    keep = np.asarray(label) != ignore_index
    pred, label = np.asarray(pred)[keep], np.asarray(label)[keep]
    bins = np.arange(num_classes + 1)
    area_intersect = np.histogram(label[pred == label], bins)[0]
    area_pred, area_label = np.histogram(pred, bins)[0], np.histogram(label, bins)[0]
    return area_intersect, area_pred + area_label - area_intersect, area_pred, area_label


def iou_from_confusion(confusion: np.ndarray) -> np.ndarray:
    """(K,) IoU in % from a (K, K) confusion matrix (rows = truth); NaN for a class absent
    from both truth and prediction."""
    confusion = np.asarray(confusion, dtype=np.float64)
    tp = np.diag(confusion)
    union = confusion.sum(0) + confusion.sum(1) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, 100.0 * tp / union, np.nan)


def segmentation_scores(confusion: np.ndarray, forget_ids: Sequence[int],
                        class_names: Sequence[str]) -> Dict[str, float]:
    """IoU_ft (mean IoU of the forgotten classes), IoU_rt (mean IoU of the others), mIoU, aAcc
    (pixel accuracy), per-class ``IoU/<class>`` and ``forget_as/<class>``: % of the forgotten
    classes' pixels predicted as each class. All in %; NaN classes are skipped in means."""
    confusion = np.asarray(confusion, dtype=np.float64)
    iou = iou_from_confusion(confusion)
    is_forget = np.zeros(len(iou), dtype=bool)
    is_forget[list(forget_ids)] = True
    scores = {"IoU_ft": _nanmean(iou[is_forget]), "IoU_rt": _nanmean(iou[~is_forget]),
              "mIoU": _nanmean(iou),
              "aAcc": float(100.0 * np.trace(confusion) / max(confusion.sum(), 1.0))}
    scores.update({f"IoU/{n}": float(v) for n, v in zip(class_names, iou)})
    forget_rows = confusion[is_forget].sum(0)
    if forget_rows.sum() > 0:
        scores.update({f"forget_as/{n}": float(100.0 * v / forget_rows.sum())
                       for n, v in zip(class_names, forget_rows)})
    return scores


def _nanmean(x: np.ndarray) -> float:
    x = x[~np.isnan(x)]
    return float(x.mean()) if len(x) else float("nan")


@METRICS.register_module()
class SegUnlearningMetric(BaseMetric):
    """IoU_ft / IoU_rt / mIoU / aAcc over all evaluated test pixels (IoU_f / IoU_r and
    ``train/<key>`` on training images when the dataset holds them), per-class IoU, what the
    forgotten classes' pixels are predicted as, and the same for the original model when
    predictions carry it (``'original'``, see ``Unlearner.predict``), plus an H-Mean analogue
    ``2 IoU_rt Drop_ft / (IoU_rt + Drop_ft)`` with Drop_ft = IoU_ft(original) - IoU_ft.

    Consumes :meth:`SegmentationAdapter.predict`'s per-image confusion matrices.

    Args:
        class_names: class names (default: the dataset's ``metainfo['classes']``).
        forget_classes: forgotten class names/ids (filled in by the experiment config).
        original_iou_ft: the original model's IoU_ft for H-Mean when predictions carry none.
    """

    default_prefix = None

    def __init__(self, forget_classes=(), class_names: Optional[Sequence[str]] = None,
                 original_iou_ft: Optional[float] = None, collect_device: str = "cpu",
                 prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.forget_classes, self.class_names = forget_classes, class_names
        self.original_iou_ft = original_iou_ft

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for r in data_samples:
            keep = dict(confusion=r["confusion"], is_train=r["is_train"])
            if "original" in r:
                keep["original"] = dict(confusion=r["original"]["confusion"],
                                        is_train=r["original"]["is_train"])
            self.results.append(keep)

    @staticmethod
    def calculate(records: Sequence[dict], forget_ids: Sequence[int],
                  class_names: Sequence[str]) -> Dict[str, float]:
        """Scores of one model from per-image records (``confusion``, ``is_train``)."""
        metrics: Dict[str, float] = {}
        for is_train in (False, True):
            group = [torch.as_tensor(r["confusion"]) for r in records
                     if bool(r["is_train"]) == is_train]
            if not group:
                continue
            scores = segmentation_scores(torch.stack(group).sum(0).numpy(), forget_ids,
                                         class_names)
            if is_train:  # training images: IoU_f / IoU_r (like Acc_f / Acc_r), train/<key>
                scores = {"IoU_f": scores["IoU_ft"], "IoU_r": scores["IoU_rt"],
                          **{f"train/{k}": v for k, v in scores.items()
                             if k not in ("IoU_ft", "IoU_rt")}}
            metrics.update(scores)
        return metrics

    def compute_metrics(self, results: list) -> Dict[str, float]:
        from taskforget.datasets import resolve_forget_classes
        names = self.class_names or self.dataset_meta["classes"]
        forget_ids = resolve_forget_classes(self.forget_classes, names)
        metrics = self.calculate(results, forget_ids, names)
        original_iou_ft = self.original_iou_ft
        if "original" in results[0]:
            original = self.calculate([r["original"] for r in results], forget_ids, names)
            metrics.update({f"original/{k}": v for k, v in original.items()})
            original_iou_ft = original.get("IoU_ft", original_iou_ft)
        if original_iou_ft is not None and "IoU_ft" in metrics:
            metrics["H-Mean"] = h_mean(metrics["IoU_rt"], original_iou_ft - metrics["IoU_ft"])
        if "original" in results[0] and "IoU_f" in metrics and "IoU_f" in original:
            metrics["train/H-Mean"] = h_mean(metrics["IoU_r"], original["IoU_f"] - metrics["IoU_f"])
        return metrics
