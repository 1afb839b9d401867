"""The task adapter interface: what a task tells the shared unlearning code."""
from typing import Dict, List, Optional, Sequence

from torch import Tensor

from taskforget.datasets import resolve_forget_classes


class TaskAdapter:
    """Turns a task's batches into what losses and metrics need.

    Logits have classes on dim 1: (N, K) for sample-level tasks, (N, K, H, W) for dense ones.

    Args:
        class_names: the model's classes, index = class id.
        forget_classes: class names and/or ids to erase (validated here).
    """

    def __init__(self, class_names: Sequence[str], forget_classes):
        self.class_names = tuple(class_names)
        self.num_classes = len(self.class_names)
        self.forget_ids = resolve_forget_classes(forget_classes, self.class_names)

    def labels(self, data_samples: Dict[str, Tensor]) -> Tensor:
        """(N,) or (N, H, W) long targets for cross-entropy-style losses."""
        raise NotImplementedError

    def valid(self, data_samples: Dict[str, Tensor]) -> Optional[Tensor]:
        """(N,) or (N, H, W) bool positions that count, or None for all."""
        return None

    def class_mask(self, logits: Tensor, data_samples: Dict[str, Tensor]) -> Tensor:
        """Bool mask broadcastable to ``logits``, True at the classes to erase."""
        mask = logits.new_zeros((1, self.num_classes) + (1,) * (logits.dim() - 2),
                                dtype=bool)
        mask[:, list(self.forget_ids)] = True
        return mask

    def supervised_loss(self, logits: Tensor, data_samples: Dict[str, Tensor]) -> Tensor:
        """Training loss of the original/retrain model."""
        raise NotImplementedError

    def predict(self, logits: Tensor, data_samples: Dict[str, Tensor]) -> List[dict]:
        """One dict of CPU values per sample, consumed by the task's metric."""
        raise NotImplementedError
