"""Forget/retain accuracies, H-Mean and the confidence MIA (DESIGN §4)."""
from typing import Dict, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric

from taskforget.registry import METRICS

MIA_CONVENTION = ("MIA = % of forget-set training images that the confidence attack (SVC on the "
                  "true-label probability) calls 'member' (DELETE's convention, lower is better); "
                  "MIA_efficacy = 100 - MIA (SalUn's convention, higher is better)")


def h_mean(acc_rt: float, drop_ft: float) -> float:
    """Harmonic mean of retained test accuracy and the drop in forget test accuracy (in %).

    ``H = 2 Acc_rt Drop_ft / (Acc_rt + Drop_ft)``, Drop_ft = Acc_ft(original) - Acc_ft(model),
    clamped at 0 (a model that forgets nothing scores 0).
    """
    drop_ft = max(drop_ft, 0.0)
    return 0.0 if acc_rt + drop_ft == 0 else 2 * acc_rt * drop_ft / (acc_rt + drop_ft)


def split_accuracies(labels: np.ndarray, preds: np.ndarray, is_train: np.ndarray,
                     is_forget: np.ndarray) -> Dict[str, float]:
    """Acc_f, Acc_r (train images) and Acc_ft, Acc_rt (test images), in %.

    All args are (N,) arrays; a group with no sample is left out of the result.
    """
    correct = np.asarray(labels) == np.asarray(preds)
    groups = {"Acc_f": is_train & is_forget, "Acc_r": is_train & ~is_forget,
              "Acc_ft": ~is_train & is_forget, "Acc_rt": ~is_train & ~is_forget}
    return {k: 100.0 * float(correct[g].mean()) for k, g in groups.items() if g.any()}


def mia_confidence(member_conf: np.ndarray, nonmember_conf: np.ndarray,
                   target_conf: np.ndarray) -> float:
    """Song & Mittal confidence attack as wired in DELETE and SalUn; returns % of targets
    predicted "member".

    Args:
        member_conf: (M,) true-label probabilities of remaining-class training images.
        nonmember_conf: (M',) the same for remaining-class test images.
        target_conf: (F,) the same for the forget set D_f.
    """
    from sklearn.svm import SVC
    features = np.concatenate([member_conf, nonmember_conf]).reshape(-1, 1)
    is_member = np.concatenate([np.ones(len(member_conf)), np.zeros(len(nonmember_conf))])
    attacker = SVC(C=3, gamma="auto", kernel="rbf").fit(features, is_member)
    return 100.0 * float(attacker.predict(np.asarray(target_conf).reshape(-1, 1)).mean())


@METRICS.register_module()
class UnlearningMetric(BaseMetric):
    """Acc_f/Acc_r/Acc_ft/Acc_rt, H-Mean and MIA of a model, and of the original model when the
    predictions carry it (``'original'``, see ``Unlearner.predict``).

    Evaluate on a dataset holding both splits (``split=['train', 'test']``) with test-time
    transforms. MIA members are a seeded random sample of the remaining-class training images
    of the size of the remaining-class test set (all of them when fewer are evaluated).

    Args:
        mia: compute the MIA (an SVC fit; off for quick per-epoch checks).
        original_acc_ft: the original model's Acc_ft for H-Mean when predictions carry no
            original model's (e.g. when evaluating a retrain model alone).
        seed: seed of the member sample.
    """

    default_prefix = None

    def __init__(self, mia: bool = True, original_acc_ft: Optional[float] = None, seed: int = 0,
                 collect_device: str = "cpu", prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.mia, self.original_acc_ft, self.seed = mia, original_acc_ft, seed

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        self.results.extend(data_samples)

    @staticmethod
    def calculate(records: Sequence[dict], mia: bool = True, seed: int = 0) -> Dict[str, float]:
        """Accuracies (and MIA) of one model from per-sample records."""
        fields = {k: np.array([r[k] for r in records])
                  for k in ("label", "pred", "prob_true", "is_train", "is_forget")}
        if not np.isfinite(fields["prob_true"]).all():
            raise FloatingPointError(
                "the model's predicted probabilities contain NaN or inf: its weights diverged "
                "(lower the unlearning learning rate or the method's step size)")
        is_train, is_forget = fields["is_train"].astype(bool), fields["is_forget"].astype(bool)
        metrics = split_accuracies(fields["label"], fields["pred"], is_train, is_forget)
        members = np.flatnonzero(is_train & ~is_forget)
        nonmembers = np.flatnonzero(~is_train & ~is_forget)
        targets = np.flatnonzero(is_train & is_forget)
        if mia and len(members) and len(nonmembers) and len(targets):
            rng = np.random.default_rng(seed)
            members = rng.choice(members, size=min(len(members), len(nonmembers)), replace=False)
            conf = fields["prob_true"]
            metrics["MIA"] = mia_confidence(conf[members], conf[nonmembers], conf[targets])
            metrics["MIA_efficacy"] = 100.0 - metrics["MIA"]
        return metrics

    def compute_metrics(self, results: list) -> Dict[str, float]:
        metrics = self.calculate(results, self.mia, self.seed)
        original_acc_ft = self.original_acc_ft
        if "original" in results[0]:
            original = self.calculate([r["original"] for r in results], self.mia, self.seed)
            metrics.update({f"original/{k}": v for k, v in original.items()})
            original_acc_ft = original.get("Acc_ft", original_acc_ft)
        if original_acc_ft is not None and "Acc_rt" in metrics and "Acc_ft" in metrics:
            metrics["H-Mean"] = h_mean(metrics["Acc_rt"], original_acc_ft - metrics["Acc_ft"])
        return metrics
