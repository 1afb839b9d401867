"""Backdoor adapter: the backdoor behaviour is the "class" to forget, on triggered images only."""
from typing import Dict, List

import torch
from torch import Tensor

from taskforget.registry import MODELS
from taskforget.tasks.classification.adapter import ClassificationAdapter


@MODELS.register_module()
class BackdoorAdapter(ClassificationAdapter):
    """Classification adapter whose forget class is the backdoor's target.

    ``forget_classes`` = [target]. The target is masked only on rows that carry a (recovered)
    trigger and whose true class is not the target; clean rows keep the teacher's full
    distribution, so DELETE's loss on them is plain distillation (knowledge retention).
    Predictions also carry ``triggered`` for :class:`BackdoorMetric`.
    """

    def class_mask(self, logits: Tensor, data_samples: Dict[str, Tensor]) -> Tensor:
        """(N, K) bool, True at the target class of triggered non-target rows."""
        mask = super().class_mask(logits, data_samples).expand(logits.shape[0], -1).clone()
        triggered = data_samples.get("triggered")
        if triggered is None:
            return mask
        keep = triggered.bool() & ~torch.isin(self.true_labels(data_samples),
                                              torch.tensor(self.forget_ids,
                                                           device=logits.device))
        return mask & keep.to(logits.device)[:, None]

    @staticmethod
    def true_labels(data_samples: Dict[str, Tensor]) -> Tensor:
        return data_samples.get("true_label", data_samples["label"])

    def predict(self, logits: Tensor, data_samples: Dict[str, Tensor]) -> List[dict]:
        """Per sample: label (true class), pred, prob_true, is_train, is_forget, triggered."""
        samples = dict(data_samples, label=self.true_labels(data_samples))
        results = super().predict(logits, samples)
        triggered = data_samples.get("triggered", torch.zeros(len(results), dtype=torch.bool))
        for result, t in zip(results, triggered.cpu()):
            result["triggered"] = bool(t)
        return results
