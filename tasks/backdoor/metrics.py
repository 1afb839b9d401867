"""Backdoor metrics: attack success rate and clean accuracy (DESIGN §4)."""
from typing import Dict, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric

from taskforget.errors import ConfigError
from taskforget.registry import METRICS


def backdoor_scores(labels: np.ndarray, preds: np.ndarray, triggered: np.ndarray,
                    target: int) -> Dict[str, float]:
    """ASR and clean Acc in %.

    Args:
        labels: (N,) true classes.
        preds: (N,) predicted classes.
        triggered: (N,) bool, True for images that carry the trigger.
        target: the backdoor's target class.

    Returns:
        ``Acc``: accuracy on untriggered images; ``ASR``: fraction of triggered images whose
        true class is not the target that are classified as the target; ``ASR_clean``: the
        same fraction on untriggered non-target images, i.e. the ASR a model would show if the
        trigger did nothing (its ordinary confusion into the target class). A key is left
        out when its group is empty.
    """
    labels, preds, triggered = map(np.asarray, (labels, preds, triggered))
    triggered = triggered.astype(bool)
    out = {}
    if (~triggered).any():
        out["Acc"] = 100.0 * float((labels[~triggered] == preds[~triggered]).mean())
    attacked = triggered & (labels != target)
    if attacked.any():
        out["ASR"] = 100.0 * float((preds[attacked] == target).mean())
    clean_other = ~triggered & (labels != target)
    if clean_other.any():
        out["ASR_clean"] = 100.0 * float((preds[clean_other] == target).mean())
    return out


@METRICS.register_module()
class BackdoorMetric(BaseMetric):
    """ASR and clean Acc of a model, and of the original (poisoned) model when predictions
    carry it (``'original'``, see ``Unlearner.predict``) as ``ASR_original``/``Acc_original``.

    Args:
        target: the backdoor's target class id (the tools fill in the experiment's).
    """

    default_prefix = None

    def __init__(self, target: Optional[int] = None, collect_device: str = "cpu",
                 prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.target = target

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        self.results.extend(data_samples)

    @staticmethod
    def calculate(records: Sequence[dict], target: int) -> Dict[str, float]:
        """Scores of a list of prediction dicts (label, pred, triggered[, original])."""
        def scores(rs):
            return backdoor_scores([r["label"] for r in rs], [r["pred"] for r in rs],
                                   [r["triggered"] for r in rs], target)
        out = scores(records)
        if records and "original" in records[0]:
            originals = [dict(r["original"], triggered=r["triggered"]) for r in records]
            out.update({f"{k}_original": v for k, v in scores(originals).items()})
        return out

    def compute_metrics(self, results: list) -> Dict[str, float]:
        if self.target is None:
            raise ConfigError("BackdoorMetric needs target=<target class id>")
        return self.calculate(results, self.target)
