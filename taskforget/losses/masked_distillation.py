"""DELETE's masked distillation loss (Zhou et al., CVPR 2025), sample/pixel agnostic."""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from taskforget.errors import check_number
from taskforget.registry import MODELS


def _classes_last(x: Tensor) -> Tensor:
    """(N, K, *) -> (M, K) with M = N * prod(*)."""
    return x.movedim(1, -1).reshape(-1, x.shape[1])


def masked_target(
    teacher_logits: Tensor, class_mask: Tensor, temperature: float = 1.0, alpha: float = 0.0
) -> Tensor:
    """Teacher's distribution with the erased classes removed and the rest renormalized.

    Args:
        teacher_logits: (M, K) logits of the frozen original model.
        class_mask: (M, K) bool, True at the classes to erase.
        temperature: divides the teacher logits (Table 5's retention knob, 1 = paper default).
        alpha: an erased class keeps ``alpha * p_u`` of the teacher's probability and the
            remaining classes share ``1 - alpha * sum_u p_u`` in the teacher's proportions
            (Table 5's forgetting knob, 0 = paper default).

    Returns:
        (M, K) float32 target distribution. Rows whose every class is erased are all zero.
    """
    z = teacher_logits.float() / temperature
    class_mask = class_mask.to(torch.bool)
    all_masked = class_mask.all(dim=1, keepdim=True)
    # Masking in logit space is exact and never underflows: softmax subtracts the max of the
    # classes that remain, so a teacher that is certain of the erased class still yields a
    # proper distribution over the others.
    kept = torch.softmax(z.masked_fill(class_mask | all_masked, float("-inf")).masked_fill(
        all_masked, 0.0), dim=1)
    target = kept.masked_fill(class_mask, 0.0)
    if alpha:
        p = torch.softmax(z, dim=1)
        erased = (p * class_mask).sum(dim=1, keepdim=True)
        target = torch.where(class_mask, alpha * p, target * (1.0 - alpha * erased))
    return target.masked_fill(all_masked, 0.0)


def masked_distillation_loss(
    student_logits: Tensor,
    teacher_logits: Tensor,
    class_mask: Tensor,
    valid: Optional[Tensor] = None,
    temperature: float = 1.0,
    alpha: float = 0.0,
    reduction: str = "mean",
) -> Tensor:
    """KL(softmax(teacher + mask) || softmax(student)) on forget data.

    Classes are dim 1; sample-level (N, K) and pixel-level (N, K, H, W) logits go through the
    same code. The maths runs in float32, so bf16/fp16 logits give no NaN.

    Args:
        student_logits: (N, K, *) logits of the model being unlearned.
        teacher_logits: (N, K, *) logits of the frozen original model (no gradient).
        class_mask: bool tensor broadcastable to the logits, True = erase this class here:
            (1, K) or (1, K, 1, 1) for "these classes everywhere", (N, K, *) per position.
        valid: optional bool (N, *) mask; False positions (ignore label) are left out of the
            loss and get zero gradient. Positions whose every class is erased are left out too.
        temperature: teacher temperature, see :func:`masked_target`.
        alpha: share of the teacher's erased-class probability kept, see :func:`masked_target`.
        reduction: ``'mean'`` over valid positions, ``'sum'``, or ``'none'`` for (N, *).

    Returns:
        Scalar loss, or (N, *) per-position losses when ``reduction='none'``.
    """
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(
            f"student logits {tuple(student_logits.shape)} and teacher logits "
            f"{tuple(teacher_logits.shape)} must have the same shape")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    position_shape = student_logits.shape[:1] + student_logits.shape[2:]
    mask = _classes_last(class_mask.to(torch.bool).expand(student_logits.shape))
    target = masked_target(_classes_last(teacher_logits.detach()), mask, temperature, alpha)
    log_q = F.log_softmax(_classes_last(student_logits).float(), dim=1)
    # xlogy gives 0 * log 0 = 0 for the erased classes.
    per_position = (torch.xlogy(target, target) - target * log_q).sum(dim=1)
    weight = ~mask.all(dim=1)
    if valid is not None:
        weight = weight & valid.to(torch.bool).expand(position_shape).reshape(-1)
    per_position = per_position * weight
    if reduction == "none":
        return per_position.reshape(position_shape)
    if reduction == "sum":
        return per_position.sum()
    return per_position.sum() / weight.sum().clamp_min(1)


@MODELS.register_module()
class MaskedDistillationLoss(nn.Module):
    """Module form of :func:`masked_distillation_loss`; holds only hyperparameters.

    Args:
        temperature: teacher temperature (paper default 1).
        alpha: share of the erased class's teacher probability kept (paper default 0).
        loss_weight: multiplies the loss.
    """

    def __init__(self, temperature: float = 1.0, alpha: float = 0.0, loss_weight: float = 1.0):
        super().__init__()
        check_number("temperature", temperature, low=0, low_open=True)
        check_number("alpha", alpha, 0.0, 1.0)
        check_number("loss_weight", loss_weight, low=0)
        self.temperature, self.alpha, self.loss_weight = temperature, alpha, loss_weight

    def forward(self, student_logits: Tensor, teacher_logits: Tensor, class_mask: Tensor,
                valid: Optional[Tensor] = None) -> Tensor:
        return self.loss_weight * masked_distillation_loss(
            student_logits, teacher_logits, class_mask, valid, self.temperature, self.alpha)
