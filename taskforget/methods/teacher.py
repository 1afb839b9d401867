"""Teacher-student baselines: Bad Teacher and SCRUB."""
import copy
from typing import Dict

import torch
from torch import Tensor

from taskforget.errors import ConfigError
from taskforget.registry import MODELS

from .common import BaselineUnlearner, cross_entropy, kl_divergence


@MODELS.register_module()
class BadTeacher(BaselineUnlearner):
    """Bad Teacher (Chundawat et al., AAAI 2023): distil an incompetent teacher on D_f.

    The incompetent teacher is a randomly re-initialized copy of the network (seeded by the
    run's seed); the student minimizes ``KL_T(incompetent || student)`` on forget batches. With
    ``remain_dataloader`` (uses D_r, the published setting) the forget set and a random
    ``remain_fraction`` of D_r (30%, drawn once, fixed by the run's seed) become one shuffled
    dataset (``epoch_data = 'mix'``, batched like the forget loader) under one KL loss: forget
    rows distil the incompetent teacher, remaining rows the competent (original) one. Adam
    1e-4, 1 epoch, T 1. Task-agnostic.

    Official code: vikram2000b/bad-teaching-unlearning ``unlearn.py`` lines 9-19
    (``UnlearnerLoss``: per-row mix of the two teachers' softmaxes, one KL), lines 67-88
    (``blindspot_unlearner``: one shuffled loader over ``UnLearningData``) and ``dataset.py``
    lines 64-83 (``UnLearningData``: forget rows flagged 1, retain rows 0);
    ``CIFARSuper20_Rocket_Unlearn.ipynb`` cell 6 (``random.sample(retain_train,
    int(0.3 * len(retain_train)))``) and cell 15 (Adam 1e-4, 1 epoch, T 1). The official KL
    uses ``F.kl_div``'s default element mean (1/K of the batch mean here: a constant factor
    that Adam's steps do not see).

    Args:
        temperature: distillation temperature T.
        remain_fraction: share of D_r mixed in (remaining-data variant).
        **kwargs: see :class:`BaselineUnlearner`.
    """

    epoch_data = "mix"

    def __init__(self, *args, temperature: float = 1.0, remain_fraction: float = 0.3,
                 **kwargs):
        super().__init__(*args, **kwargs)
        if not 0 < remain_fraction <= 1:
            raise ConfigError(f"remain_fraction must be in (0, 1], got {remain_fraction}")
        self.temperature = temperature
        self.mix_fraction = remain_fraction
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
        return dict(loss_bad_teacher=kl_divergence(self.student(inputs), bad, self.temperature,
                                                   self.adapter.valid(data_samples)))

    def epoch_loss(self, inputs: Tensor, data_samples: dict) -> Dict[str, Tensor]:
        """One KL on a mixed batch: each row's target is the incompetent teacher's (D_f rows)
        or the original's (D_r rows)."""
        with torch.no_grad():
            good, bad = self.teacher(inputs), self.incompetent(inputs)
            rows = data_samples["from_forget"].bool().view(-1, *[1] * (good.dim() - 1))
            target = torch.where(rows, bad, good)
        return dict(loss_bad_teacher=kl_divergence(self.student(inputs), target,
                                                   self.temperature,
                                                   self.adapter.valid(data_samples)))


@MODELS.register_module()
class SCRUB(BaselineUnlearner):
    """SCRUB (Kurmanji et al., NeurIPS 2023): max steps on D_f, then min steps on D_r.

    Every epoch: in the first ``max_epochs`` epochs, one max step per forget batch maximizes
    ``KL_T(original || student)``; then (uses D_r) a full pass over D_r, one min step per
    batch, minimizes ``gamma CE + kl_weight KL_T(original || student)`` (``remain_pass =
    'after'``: the min pass follows the epoch's last max step). Forget-only variant (no
    ``remain_dataloader``): the max steps alone; they move the student only with batch norm in
    train mode (``norm_eval=False``, the original's ``module.train()``): with frozen
    statistics the student starts equal to the teacher and the KL's gradient is zero. SGD
    5e-4, momentum 0.9, weight decay 5e-4, 3 epochs, 2 max epochs, T 4, gamma 0.99, kl_weight
    0.001. Task-agnostic.

    Official code: meghdadk/SCRUB ``large_scale_unlearning.ipynb`` cell 36 (per epoch:
    ``if epoch <= args.msteps`` a ``train_distill(..., "maximize")`` pass over the forget
    loader, then a ``"minimize"`` pass over the retain loader), cell 32 (settings) and
    ``thirdparty/repdistiller/helper/loops.py`` lines 137-265 (``train_distill``: student in
    train mode, lines 139-143; ``loss = gamma * CE + alpha * KL`` or ``-KL``, lines 241-244;
    one optimizer step per batch, lines 262-265).

    Args:
        temperature: T.
        max_epochs: epochs with max steps (msteps).
        gamma: weight of the cross-entropy in min steps.
        kl_weight: weight of the KL term in min steps.
        **kwargs: see :class:`BaselineUnlearner`.
    """

    epoch_data = "remain"
    remain_pass = "after"

    def __init__(self, *args, temperature: float = 4.0, max_epochs: int = 2,
                 gamma: float = 0.99, kl_weight: float = 0.001, **kwargs):
        super().__init__(*args, **kwargs)
        self.temperature, self.max_epochs = temperature, max_epochs
        self.gamma, self.kl_weight = gamma, kl_weight

    def forget_step(self) -> bool:
        return self.epoch < self.max_epochs

    def unlearn_loss(self, inputs: Tensor, data_samples: dict) -> Dict[str, Tensor]:
        """The max-step loss on a forget batch."""
        return dict(loss_max=-kl_divergence(
            self.student(inputs), self.teacher_logits(inputs, data_samples), self.temperature,
            self.adapter.valid(data_samples)))

    def epoch_loss(self, inputs: Tensor, data_samples: dict) -> Dict[str, Tensor]:
        """The min-step loss on a D_r batch."""
        logits, valid = self.student(inputs), self.adapter.valid(data_samples)
        with torch.no_grad():
            teacher = self.teacher(inputs)
        return dict(
            loss_min_ce=self.gamma * cross_entropy(logits, self.adapter.labels(data_samples),
                                                   valid),
            loss_min_kl=self.kl_weight * kl_divergence(logits, teacher, self.temperature, valid))
