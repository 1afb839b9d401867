"""Gradient-style baselines: Negative Gradient, Fine-tune, SalUn and UNSIR."""
from typing import Dict

import torch
from torch import Tensor

from taskforget.errors import ConfigError
from taskforget.registry import MODELS

from .common import BaselineUnlearner, cross_entropy
from .relabel import RandomLabel


@MODELS.register_module()
class NegativeGradient(BaselineUnlearner):
    """Negative Gradient (Golatkar et al. 2020): gradient ascent on the cross-entropy of the
    forgotten-class positions of D_f.

    Forget-set only (``remain_dataloader`` adds descent on D_r, "NG+"). Paper lr 1e-5, very
    lr-sensitive. Task-agnostic (positions come from the adapter).
    """

    def unlearn_loss(self, inputs: Tensor, data_samples: dict) -> Dict[str, Tensor]:
        logits = self.student(inputs)
        losses = dict(loss_ascent=-cross_entropy(logits, self.adapter.labels(data_samples),
                                                 self.forget_positions(data_samples)))
        if self.remain_beside_forget:
            losses["loss_remain"] = self.remain_ce()
        return losses


@MODELS.register_module()
class FineTune(BaselineUnlearner):
    """Fine-tune (Warnecke et al. 2023): cross-entropy on the remaining data only; forgetting
    comes from catastrophic forgetting. Uses D_r; an epoch is one pass over D_r (one optimizer
    step per D_r batch, spread over the runner's forget iterations; D_f itself is not used).
    Paper lr 2e-2, 10 epochs.

    Official code: OPTML-Group/Unlearn-Saliency ``Classification/unlearn/FT.py`` lines 44-68
    and 116-123 (``FT_iter``: every epoch iterates ``data_loaders["retain"]``); DELETE's copy
    in shaaaaron/DELETE ``main.py`` lines 324-329 (``method.finetune`` on
    ``train_remain_loader``).
    """

    requires_remaining_data = True
    epoch_data = "remain"

    def forget_step(self) -> bool:
        return False

    def epoch_loss(self, inputs: Tensor, data_samples: dict) -> Dict[str, Tensor]:
        return dict(loss_remain=self.remain_ce(dict(inputs=inputs, data_samples=data_samples)))


@MODELS.register_module()
class SalUn(RandomLabel):
    """SalUn, saliency unlearning (Fan et al., ICLR 2024): Random Label training restricted to
    the salient weights.

    Before training, the saliency of each trainable weight is ``|sum over D_f of grad CE|``
    (student in eval mode); the global top ``ratio`` of them train, the others get zero
    gradient, are reset to their original values after every step (weight decay would move
    them) and have their optimizer state (momentum, Adam moments) masked. Forget-set only; the
    original trains with D_r (``remain_dataloader``: uses D_r): then an epoch is the Random
    Label pass over D_f followed by a cross-entropy pass over all of D_r, one masked step per
    batch (``remain_pass = 'after'``). lr 1.3e-2, ratio 0.5.

    Official code: OPTML-Group/Unlearn-Saliency ``Classification/unlearn/RL.py`` lines 109-159
    (CIFAR-10: the forget loader with ``torch.randint(0, num_classes)`` labels, then the whole
    retain loader, masking gradients and restoring masked weights and momentum after each step,
    lines 11-34); its CIFAR-100 branch (lines 51-59) shuffles the two sets together instead.
    The labels here are fixed per sample (:class:`RandomLabel`), not redrawn every step.

    Args:
        ratio: fraction of weights that train.
        **kwargs: see :class:`RandomLabel`.
    """

    epoch_data = "remain"
    remain_pass = "after"

    def __init__(self, *args, ratio: float = 0.5, **kwargs):
        super().__init__(*args, **kwargs)
        if not 0 < ratio <= 1:
            raise ConfigError(f"ratio must be in (0, 1], got {ratio}")
        self.ratio = ratio
        self.masks: Dict[str, Tensor] = {}
        self._frozen_values: Dict[str, Tensor] = {}

    def prepare(self, forget_loader) -> None:
        params = self.trainable()
        grads = {k: torch.zeros_like(p) for k, p in params.items()}
        self.student.eval()
        for batch in self.iterate(forget_loader):
            ds = batch["data_samples"]
            loss = cross_entropy(self.student(batch["inputs"]), self.adapter.labels(ds),
                                 self.forget_positions(ds))
            for k, g in zip(params, torch.autograd.grad(loss, list(params.values()),
                                                        allow_unused=True)):
                if g is not None:
                    grads[k] += g
        self.student.train()
        self.masks = self.saliency_masks(grads, self.ratio)
        for k, p in params.items():
            self._frozen_values[k] = p.detach().clone()
            p.register_hook(lambda g, m=self.masks[k]: g * m)

    @staticmethod
    def saliency_masks(grads: Dict[str, Tensor], ratio: float) -> Dict[str, Tensor]:
        """Masks (same shapes as ``grads``, float 0/1) of the global top ``ratio`` of |grad|."""
        flat = torch.cat([g.abs().flatten() for g in grads.values()])
        keep = max(1, int(round(ratio * flat.numel())))
        threshold = flat.kthvalue(flat.numel() - keep + 1).values
        return {k: (g.abs() >= threshold).to(g.dtype) for k, g in grads.items()}

    def epoch_loss(self, inputs: Tensor, data_samples: dict) -> Dict[str, Tensor]:
        """Cross-entropy on a D_r batch (the remaining-data pass)."""
        return dict(loss_remain=self.remain_ce(dict(inputs=inputs, data_samples=data_samples)))

    def after_update(self, optim_wrapper) -> None:
        with torch.no_grad():
            for k, p in self.trainable().items():
                mask = self.masks[k]
                p.copy_(mask * p + (1 - mask) * self._frozen_values[k])
                for state in optim_wrapper.optimizer.state.get(p, {}).values():
                    if torch.is_tensor(state) and state.shape == p.shape:
                        state.mul_(mask)


@MODELS.register_module()
class UNSIR(BaselineUnlearner):
    """UNSIR (Tarun et al. 2023): learn an error-maximizing noise batch per forgotten class on
    the original model, then impair and repair.

    Noise: minimize ``-CE(f(N), u) + noise_l2 * mean(N^2)`` (Adam ``noise_lr``, ``noise_steps``)
    for each forgotten class u. Epoch 0 (impair): cross-entropy of the student on the noise
    labelled u, plus one D_r batch per step; later epochs (repair): cross-entropy on D_r only.
    Requires D_r: on the noise alone the student learns to predict u everywhere (the noise is
    labelled u), which erases nothing, so there is no forget-only variant. Adam lr 1e-4,
    1 impair + 1 repair epoch. Classification (one label per sample).

    Official code: vikram2000b/bad-teaching-unlearning ``unlearn.py`` lines 92-134 (noise
    learning; the impair loader is the noise plus retain samples, shuffled) and
    ``CIFARSuper20_Rocket_Unlearn.ipynb`` cells 28-37 (impair, then repair on the retain
    samples).

    Args:
        noise_size: noise rows per forgotten class (default: the forget batch size).
        noise_steps: Adam steps.
        noise_lr: Adam lr of the noise.
        noise_l2: weight of the mean squared L2 norm of the noise rows.
        impair_epochs: epochs of impair before repair.
    """

    requires_remaining_data = True

    def __init__(self, *args, noise_size: int = 0, noise_steps: int = 25,
                 noise_lr: float = 0.1, noise_l2: float = 0.1, impair_epochs: int = 1,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.noise_size, self.noise_steps = noise_size, noise_steps
        self.noise_lr, self.noise_l2 = noise_lr, noise_l2
        self.impair_epochs = impair_epochs
        self.noise: Dict[int, Tensor] = {}

    def prepare(self, forget_loader) -> None:
        like = next(iter(self.iterate(forget_loader, 1)))["inputs"]
        size = self.noise_size or len(like)
        for u in self.adapter.forget_ids:
            noise = torch.randn((size, *like.shape[1:]), device=like.device).requires_grad_()
            optimizer = torch.optim.Adam([noise], lr=self.noise_lr)
            target = torch.full((size,), u, device=like.device)
            for _ in range(self.noise_steps):
                loss = -cross_entropy(self.teacher(noise), target) + \
                    self.noise_l2 * noise.pow(2).flatten(1).sum(1).mean()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            self.noise[u] = noise.detach()

    def unlearn_loss(self, inputs: Tensor, data_samples: dict) -> Dict[str, Tensor]:
        losses = {}
        if self.epoch < self.impair_epochs:
            noise = torch.cat(list(self.noise.values()))
            labels = torch.cat([torch.full((len(n),), u, device=noise.device)
                                for u, n in self.noise.items()])
            losses["loss_impair"] = cross_entropy(self.student(noise), labels)
        losses["loss_remain"] = self.remain_ce()
        return losses
