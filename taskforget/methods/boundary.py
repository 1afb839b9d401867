"""Decision-boundary baselines: Boundary Shrink, Boundary Expand and Learn to Unlearn, which
move the forget data across the original model's boundaries (adversarial neighbours or a
shadow class)."""
from typing import Dict, Optional, Sequence

import torch
from torch import Tensor, nn

from taskforget.network import as_contract
from taskforget.registry import MODELS

from .common import BaselineUnlearner, cross_entropy, fixed_random_labels


class _PixelSpace:
    """Maps pixel-space budgets to the network's (normalized) input space.

    Args:
        pixel_mean, pixel_std: the pipeline's per-channel normalization (images in [0, 1]);
            None means the inputs are pixels in [0, 1] already.
    """

    def __init__(self, pixel_mean: Optional[Sequence[float]],
                 pixel_std: Optional[Sequence[float]]):
        self.mean = torch.tensor(pixel_mean or (0.0,)).view(1, -1, 1, 1)
        self.std = torch.tensor(pixel_std or (1.0,)).view(1, -1, 1, 1)

    def scale(self, x: Tensor) -> Tensor:
        return (1.0 / self.std).to(x)

    def clamp(self, x: Tensor) -> Tensor:
        mean, std = self.mean.to(x), self.std.to(x)
        return torch.max(torch.min(x, (1 - mean) / std), -mean / std)


@MODELS.register_module()
class BoundaryShrink(BaselineUnlearner):
    """Boundary Shrink (Chen et al., CVPR 2023): pull each forget sample to its nearest wrong
    class, found by attacking the frozen original model.

    One-step FGSM of budget ``eps`` in pixel space (on the de-normalized image) maximizing the
    original model's cross-entropy; the target is the original model's argmax on the
    adversarial image among the remaining classes (the nearest wrong class); the student
    minimizes ``CE(student(x), target)`` on the forgotten-class positions. Forget-set only.
    lr 5e-5 (paper 1e-5, 10 epochs). Targets are cached per sample when the forget pipeline is
    deterministic.

    Args:
        eps: FGSM budget in [0, 1] pixel units.
        pixel_mean, pixel_std: the input normalization (to attack the de-normalized image).
        **kwargs: see :class:`BaselineUnlearner`.
    """

    accepts_remaining_data = False

    def __init__(self, *args, eps: float = 0.1, pixel_mean: Optional[Sequence[float]] = None,
                 pixel_std: Optional[Sequence[float]] = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.eps, self.space = eps, _PixelSpace(pixel_mean, pixel_std)
        self._targets: Dict[int, Tensor] = {}

    def nearest_wrong_class(self, inputs: Tensor, data_samples: dict) -> Tensor:
        """(N,) or (N, H, W) target labels from the FGSM neighbour (see class doc)."""
        keys = data_samples["uid"].tolist()
        if self.cache_teacher_logits and all(k in self._targets for k in keys):
            return torch.stack([self._targets[k] for k in keys]).to(inputs.device)
        x = inputs.detach().clone().requires_grad_(True)
        with torch.enable_grad():
            loss = cross_entropy(self.teacher(x), self.adapter.labels(data_samples),
                                 self.adapter.valid(data_samples))
            grad, = torch.autograd.grad(loss, x)
        x_adv = self.space.clamp(inputs + self.eps * self.space.scale(x) * grad.sign())
        with torch.no_grad():
            logits = self.teacher(x_adv).float()
        logits[:, list(self.adapter.forget_ids)] = -float("inf")
        targets = logits.argmax(1)
        if self.cache_teacher_logits:
            self._targets.update(zip(keys, targets.cpu()))
        return targets

    def unlearn_loss(self, inputs: Tensor, data_samples: dict) -> Dict[str, Tensor]:
        targets = self.nearest_wrong_class(inputs, data_samples)
        return dict(loss_shrink=cross_entropy(self.student(inputs), targets,
                                              self.forget_positions(data_samples)))


@MODELS.register_module()
class BoundaryExpand(BaselineUnlearner):
    """Boundary Expand (Chen et al., CVPR 2023): add a shadow class, move D_f into it, drop it.

    The classifier is widened to K + 1 outputs: the K original rows plus a new shadow row
    (xavier-initialized; it trains even when ``frozen=('head',)``); the student minimizes the
    cross-entropy of D_f to the shadow class K. Predictions and the exported weights use the K
    original outputs only (the shadow row is dropped). Needs the network contract
    (:mod:`taskforget.network`: penultimate features and a linear classifier; every
    classification network here, torchvision and timm classifiers). Forget-set only. lr 8e-4.
    """

    accepts_remaining_data = False
    needs_network_contract = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.contract = as_contract(self.student, "BoundaryExpand")
        self.shadow = nn.Linear(self.contract.head.in_features, 1)
        nn.init.xavier_uniform_(self.shadow.weight)
        nn.init.zeros_(self.shadow.bias)

    def unlearn_loss(self, inputs: Tensor, data_samples: dict) -> Dict[str, Tensor]:
        features, logits = self.contract.features_and_logits(inputs)
        logits = torch.cat([logits, self.shadow(features)], 1)
        shadow = torch.full((len(inputs),), self.adapter.num_classes, device=inputs.device)
        return dict(loss_expand=cross_entropy(logits, shadow))


@MODELS.register_module()
class LearnToUnlearn(BaselineUnlearner):
    """Learning to Unlearn, adversarial variant (Cha et al., AAAI 2024): ascend on D_f while
    keeping targeted adversarial neighbours of D_f classified as the attack's labels.

    For each forget sample, a random label ``y_adv`` among the remaining classes (fixed per
    sample) and a targeted L2-PGD example ``x_adv`` on the frozen original model (random start
    in the ball, ``steps`` steps of size ``step`` minimizing ``CE(f(x_adv), y_adv)``, projected
    to an L2 ball of radius ``eps`` in the network's input space); loss ``-CE(student(x), y)
    + adv_weight CE(student(x_adv), y_adv)``. Adversarial examples are cached per sample when
    the forget pipeline is deterministic. Forget-set only; the "imp" variant's weight-importance
    regularizer is not implemented. lr 1e-5; eps 0.4, step 0.1, 10 steps, weight 0.1.
    Classification (one label per sample).
    """

    accepts_remaining_data = False

    def __init__(self, *args, eps: float = 0.4, step: float = 0.1, steps: int = 10,
                 adv_weight: float = 0.1, label_seed: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self.eps, self.step, self.steps = eps, step, steps
        self.adv_weight, self.label_seed = adv_weight, label_seed
        self._adv: Dict[int, Tensor] = {}

    @staticmethod
    def _l2(x: Tensor) -> Tensor:
        return x.flatten(1).norm(dim=1).clamp(min=1e-12).view(-1, *[1] * (x.dim() - 1))

    def adversarial(self, inputs: Tensor, targets: Tensor, uids: Tensor) -> Tensor:
        """Targeted L2-PGD examples (N, ...) on the original model."""
        keys = uids.tolist()
        if self.cache_teacher_logits and all(k in self._adv for k in keys):
            return torch.stack([self._adv[k] for k in keys]).to(inputs.device)
        delta = torch.randn_like(inputs)
        radius = torch.rand(len(inputs), device=inputs.device) * self.eps
        delta = delta / self._l2(delta) * radius.view(-1, *[1] * (inputs.dim() - 1))
        with torch.enable_grad():
            for _ in range(self.steps):
                delta.requires_grad_(True)
                loss = cross_entropy(self.teacher(inputs + delta), targets)
                grad, = torch.autograd.grad(loss, delta)
                delta = delta.detach() - self.step * grad / self._l2(grad)
                delta = delta * (self.eps / self._l2(delta)).clamp(max=1.0)
        x_adv = (inputs + delta).detach()
        if self.cache_teacher_logits:
            self._adv.update(zip(keys, x_adv.cpu()))
        return x_adv

    def unlearn_loss(self, inputs: Tensor, data_samples: dict) -> Dict[str, Tensor]:
        labels = self.adapter.labels(data_samples)
        y_adv = fixed_random_labels(labels, data_samples["uid"], self.adapter.forget_ids,
                                    self.adapter.num_classes, self.label_seed)
        x_adv = self.adversarial(inputs, y_adv, data_samples["uid"])
        return dict(loss_ascent=-cross_entropy(self.student(inputs), labels),
                    loss_adv=self.adv_weight * cross_entropy(self.student(x_adv), y_adv))
