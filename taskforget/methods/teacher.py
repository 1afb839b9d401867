"""Teacher-student baselines: Bad Teacher and SCRUB."""
import copy
from typing import Dict

import torch
from torch import Tensor

from taskforget.registry import MODELS

from .common import BaselineUnlearner, cross_entropy, kl_divergence


@MODELS.register_module()
class BadTeacher(BaselineUnlearner):
    """Bad Teacher (Chundawat et al., AAAI 2023): distil an incompetent teacher on D_f.

    The incompetent teacher is a randomly re-initialized copy of the network (seeded by the
    run's seed); the student minimizes ``KL_T(incompetent || student)`` on forget batches. The
    original mixes in about 30% remaining data distilled from the competent (original) teacher:
    give ``remain_dataloader`` (uses D_r; its batch size sets the mix, e.g. 55 beside 128 forget
    samples is 30%) to add ``KL_T(original || student)`` on one D_r batch per step. Adam 1e-4,
    1 epoch, T 1. Task-agnostic.

    Args:
        temperature: distillation temperature T.
        **kwargs: see :class:`BaselineUnlearner`.
    """

    def __init__(self, *args, temperature: float = 1.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.temperature = temperature
        self.incompetent = copy.deepcopy(self.teacher)
        for module in self.incompetent.modules():
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()
        self.incompetent.requires_grad_(False).eval()

    def train(self, mode: bool = True) -> "BadTeacher":
        super().train(mode)
        self.incompetent.eval()
        return self

    def unlearn_loss(self, inputs: Tensor, data_samples: dict) -> Dict[str, Tensor]:
        with torch.no_grad():
            bad = self.incompetent(inputs)
        losses = dict(loss_bad_teacher=kl_divergence(self.student(inputs), bad, self.temperature,
                                                     self.adapter.valid(data_samples)))
        if self.uses_remaining_data:
            batch = self.remain_batch()
            losses["loss_good_teacher"] = kl_divergence(
                self.student(batch["inputs"]), self.teacher(batch["inputs"]), self.temperature,
                self.adapter.valid(batch["data_samples"]))
        return losses


@MODELS.register_module()
class SCRUB(BaselineUnlearner):
    """SCRUB (Kurmanji et al., NeurIPS 2023): alternate max steps on D_f and min steps on D_r.

    For every forget batch of the first ``max_epochs`` epochs, a max step maximizes
    ``KL_T(original || student)`` on it; then (uses D_r) a min step on one D_r batch minimizes
    ``gamma CE + kl_weight KL_T(original || student)``. The original runs all max steps of an
    epoch before its min steps over the whole D_r; here they alternate per forget batch (the
    runner's one loop). Forget-only variant (no ``remain_dataloader``): max steps alone. SGD
    5e-4, 3 epochs, 2 max epochs, T 4, gamma 0.99, kl_weight 0.001. Task-agnostic.

    Args:
        temperature: T.
        max_epochs: epochs with max steps (msteps).
        gamma: weight of the cross-entropy in min steps.
        kl_weight: weight of the KL term in min steps.
        **kwargs: see :class:`BaselineUnlearner`.
    """

    def __init__(self, *args, temperature: float = 4.0, max_epochs: int = 2,
                 gamma: float = 0.99, kl_weight: float = 0.001, **kwargs):
        super().__init__(*args, **kwargs)
        self.temperature, self.max_epochs = temperature, max_epochs
        self.gamma, self.kl_weight = gamma, kl_weight

    def unlearn_loss(self, inputs: Tensor, data_samples: dict) -> Dict[str, Tensor]:
        """The max-step loss on a forget batch."""
        return dict(loss_max=-kl_divergence(
            self.student(inputs), self.teacher_logits(inputs, data_samples), self.temperature,
            self.adapter.valid(data_samples)))

    def min_loss(self) -> Dict[str, Tensor]:
        """The min-step loss on the next D_r batch."""
        batch = self.remain_batch()
        x, ds = batch["inputs"], batch["data_samples"]
        logits, valid = self.student(x), self.adapter.valid(ds)
        with torch.no_grad():
            teacher = self.teacher(x)
        return dict(loss_min_ce=self.gamma * cross_entropy(logits, self.adapter.labels(ds), valid),
                    loss_min_kl=self.kl_weight * kl_divergence(logits, teacher, self.temperature,
                                                               valid))

    def _update(self, compute, optim_wrapper) -> Dict[str, Tensor]:
        with optim_wrapper.optim_context(self):
            losses = compute()
        loss, log_vars = self.parse_losses(losses)
        optim_wrapper.update_params(loss)
        return log_vars

    def train_step(self, data, optim_wrapper) -> Dict[str, Tensor]:
        log_vars = {}
        if self.epoch < self.max_epochs:
            batch = self.data_preprocessor(data, True)
            log_vars.update(self._update(
                lambda: self.unlearn_loss(batch["inputs"], batch["data_samples"]), optim_wrapper))
        if self.uses_remaining_data:
            log_vars.update(self._update(self.min_loss, optim_wrapper))
        self._iter += 1
        return log_vars
