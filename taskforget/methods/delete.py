"""DELETE: decoupled distillation to erase (Zhou et al., CVPR 2025)."""
from typing import Dict

from torch import Tensor

from taskforget.losses import MaskedDistillationLoss
from taskforget.registry import MODELS

from .base import Unlearner


@MODELS.register_module()
class DELETE(Unlearner):
    """Distil the teacher's forget-data predictions with the forgotten classes masked out.

    Forget-set only. Args as :class:`Unlearner`, plus ``temperature`` and ``alpha`` of
    :class:`~taskforget.losses.MaskedDistillationLoss` (paper defaults 1 and 0).
    """

    def __init__(self, *args, temperature: float = 1.0, alpha: float = 0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss = MaskedDistillationLoss(temperature=temperature, alpha=alpha)

    def unlearn_loss(self, inputs: Tensor, data_samples: dict) -> Dict[str, Tensor]:
        student_logits = self.student(inputs)
        teacher_logits = self.teacher_logits(inputs, data_samples)
        return dict(loss_delete=self.loss(
            student_logits, teacher_logits,
            self.adapter.class_mask(student_logits, data_samples),
            self.adapter.valid(data_samples)))
