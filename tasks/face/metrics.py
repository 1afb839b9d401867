"""Face-recognition unlearning metric: the shared metrics plus accuracy per identity."""
from typing import Dict, Sequence

import numpy as np

from taskforget.evaluation.metrics import UnlearningMetric
from taskforget.registry import METRICS


def per_identity_accuracy(labels: np.ndarray, preds: np.ndarray, is_train: np.ndarray,
                          num_classes: int) -> Dict[str, float]:
    """Accuracy (%) of each identity on train and test images.

    Args:
        labels, preds: (N,) int identity ids.
        is_train: (N,) bool, True for training images.
        num_classes: number of identities.

    Returns:
        ``{'id<c>/train': acc, 'id<c>/test': acc}`` for every identity with such images.
    """
    labels, preds, is_train = map(np.asarray, (labels, preds, is_train))
    out = {}
    for c in range(num_classes):
        for split, rows in (("train", is_train), ("test", ~is_train)):
            chosen = rows & (labels == c)
            if chosen.any():
                out[f"id{c}/{split}"] = 100.0 * float((preds[chosen] == c).mean())
    return out


@METRICS.register_module()
class FaceUnlearningMetric(UnlearningMetric):
    """:class:`UnlearningMetric` (Acc_f, Acc_r, Acc_ft, Acc_rt, H-Mean, MIA) plus ``Acc_test``
    (all test images) and per-identity accuracies ``id<c>/{train,test}`` of the evaluated
    model (see :func:`per_identity_accuracy`)."""

    @staticmethod
    def calculate(records: Sequence[dict], mia: bool = True, seed: int = 0) -> Dict[str, float]:
        metrics = UnlearningMetric.calculate(records, mia, seed)
        labels = np.array([r["label"] for r in records])
        preds = np.array([r["pred"] for r in records])
        is_train = np.array([r["is_train"] for r in records], dtype=bool)
        if (~is_train).any():
            metrics["Acc_test"] = 100.0 * float((labels == preds)[~is_train].mean())
        metrics.update(per_identity_accuracy(labels, preds, is_train, int(labels.max()) + 1))
        return metrics


def identity_table(results: Dict[str, Dict[str, float]], identities: Sequence[str],
                   forget_ids: Sequence[int], split: str = "test") -> str:
    """Markdown table of per-identity accuracy (%), one column per model.

    Args:
        results: model name -> metrics holding ``id<c>/<split>`` keys.
        identities: folder name per class id.
        forget_ids: forgotten class ids (marked in the table).
        split: 'test' or 'train'.
    """
    names = list(results)
    lines = ["| identity | " + " | ".join(f"{n} ({split})" for n in names) + " |",
             "|---|" + "---|" * len(names)]
    for c, folder in enumerate(identities):
        tag = f"id{c} {folder}" + (" **(forgotten)**" if c in forget_ids else "")
        cells = [results[n].get(f"id{c}/{split}") for n in names]
        lines.append(f"| {tag} | " + " | ".join("-" if v is None else f"{v:.1f}" for v in cells)
                     + " |")
    return "\n".join(lines) + "\n"
