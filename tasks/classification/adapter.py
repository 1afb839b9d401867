"""Classification adapter: sample-level logits (N, K), one label per image."""
from typing import Dict, List

import torch
import torch.nn.functional as F
from torch import Tensor

from taskforget.adapter import TaskAdapter
from taskforget.registry import MODELS


@MODELS.register_module()
class ClassificationAdapter(TaskAdapter):
    """Labels come from ``data_samples['label']`` (N,); every forgotten class is masked."""

    def labels(self, data_samples: Dict[str, Tensor]) -> Tensor:
        return data_samples["label"]

    def supervised_loss(self, logits: Tensor, data_samples: Dict[str, Tensor]) -> Tensor:
        return F.cross_entropy(logits.float(), self.labels(data_samples))

    def predict(self, logits: Tensor, data_samples: Dict[str, Tensor]) -> List[dict]:
        """Per sample: label, pred, prob_true (softmax prob. of the true label, MIA's feature),
        is_train, is_forget."""
        probs = torch.softmax(logits.detach().float(), dim=1).cpu()
        labels = data_samples["label"].cpu()
        prob_true = probs.gather(1, labels[:, None])[:, 0]
        is_forget = torch.isin(labels, torch.tensor(self.forget_ids))
        return [dict(label=int(y), pred=int(p), prob_true=float(c), is_train=bool(t),
                     is_forget=bool(f))
                for y, p, c, t, f in zip(labels, probs.argmax(1), prob_true,
                                         data_samples["is_train"].cpu(), is_forget)]
