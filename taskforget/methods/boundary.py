"""Decision-boundary baselines: Boundary Shrink, Boundary Expand and Learn to Unlearn, which
move the forget data across the original model's boundaries (adversarial neighbours or a
shadow class). Each class cites the public reference code it follows (repository, path at the
commit read, line range)."""
from typing import Dict, Optional, Sequence

import torch
from torch import Tensor, nn

from taskforget.network import as_contract
from taskforget.registry import MODELS

from .common import BaselineUnlearner, cross_entropy


class _PixelSpace:
    """Maps between the network's (normalized) inputs and [0, 1] pixels.

    Args:
        pixel_mean, pixel_std: the pipeline's per-channel normalization (images in [0, 1]);
            None means the inputs are pixels in [0, 1] already.
    """

    def __init__(self, pixel_mean: Optional[Sequence[float]],
                 pixel_std: Optional[Sequence[float]]):
        self.mean = torch.tensor(pixel_mean or (0.0,)).view(1, -1, 1, 1)
        self.std = torch.tensor(pixel_std or (1.0,)).view(1, -1, 1, 1)

    def to_pixels(self, x: Tensor) -> Tensor:
        return x * self.std.to(x) + self.mean.to(x)

    def from_pixels(self, x: Tensor) -> Tensor:
        return (x - self.mean.to(x)) / self.std.to(x)


@MODELS.register_module()
class BoundaryShrink(BaselineUnlearner):
    """Boundary Shrink (Chen et al., CVPR 2023): pull each forget sample to its nearest wrong
    class, found by attacking the frozen original model.

    One-step FGSM of budget ``eps`` on the de-normalized image (pixels in [0, 1]) maximizing
    the original model's cross-entropy: ``x_adv = round(255 clamp(x + eps sign(grad), 0,
    1)) / 255``, normalized again; the target is the original model's plain argmax on
    ``x_adv`` (the true class where the attack fails, as in the original); the student
    minimizes ``CE(student(x), target)`` on the forgotten-class positions. Forget-set only.
    lr 5e-5 (paper 1e-5, 10 epochs). Targets are cached per sample when the forget pipeline
    is deterministic (the attack on the frozen model is deterministic).

    Reference: the authors' code as kept in github.com/shaaaaron/DELETE (commit 60018a1):
    ``method/boundary_shrink.py`` 26-33 (FGSM, bound 0.1, normalized, no random start) and
    57-75 (``pred_label = argmax(test_model(x_adv))``, ``CE(unlearn_model(x), pred_label)``);
    ``method/_adv_generator.py`` FGSM ``perturb`` 86-115 and ``clamper`` 56-73 (clamp to the
    bound and to [0, 1], ``discretize`` 52-53 = round to 1/255, normalize).

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

    def fgsm(self, inputs: Tensor, data_samples: dict) -> Tensor:
        """The FGSM neighbour (N, C, H, W) of ``inputs`` on the original model, in the
        network's input space; its pixels lie on the 1/255 grid."""
        x = inputs.detach().clone().requires_grad_(True)
        with torch.enable_grad():
            loss = cross_entropy(self.teacher(x), self.adapter.labels(data_samples),
                                 self.adapter.valid(data_samples))
            grad, = torch.autograd.grad(loss, x)
        adv = (self.space.to_pixels(inputs.detach()) + self.eps * grad.sign()).clamp(0.0, 1.0)
        return self.space.from_pixels(torch.round(adv * 255) / 255)

    def nearest_wrong_class(self, inputs: Tensor, data_samples: dict) -> Tensor:
        """(N,) or (N, H, W) targets: the original model's argmax on the FGSM neighbour."""
        keys = data_samples["uid"].tolist()
        if self.cache_teacher_logits and all(k in self._targets for k in keys):
            return torch.stack([self._targets[k] for k in keys]).to(inputs.device)
        with torch.no_grad():
            targets = self.teacher(self.fgsm(inputs, data_samples)).argmax(1)
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
    (it trains even when ``frozen=('head',)``); the student minimizes the cross-entropy of D_f
    to the shadow class K. Predictions and the exported weights use the K original outputs
    only (the shadow row is dropped). Needs the network contract (:mod:`taskforget.network`:
    penultimate features and a linear classifier; every classification network here,
    torchvision and timm classifiers). Forget-set only. lr 8e-4.

    The shadow row is drawn as the original draws it: the widened ``Linear(D, K + 1)`` is
    xavier-normal initialized (std ``sqrt(2 / (D + K + 1))``), bias 0, and the K original rows
    are copied over it. Reference: github.com/shaaaaron/DELETE (commit 60018a1)
    ``method/boundary_expand.py`` 11-21 (``init_params``: ``xavier_normal_``, zero bias) and
    33-47 (widen, initialize, copy the K rows).
    """

    accepts_remaining_data = False
    needs_network_contract = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.contract = as_contract(self.student, "BoundaryExpand")
        head = self.contract.head
        self.shadow = nn.Linear(head.in_features, 1).to(head.weight)
        with torch.no_grad():
            widened = torch.empty(head.out_features + 1, head.in_features)
            self.shadow.weight.copy_(nn.init.xavier_normal_(widened)[-1:])
            self.shadow.bias.zero_()

    def unlearn_loss(self, inputs: Tensor, data_samples: dict) -> Dict[str, Tensor]:
        features, logits = self.contract.features_and_logits(inputs)
        logits = torch.cat([logits, self.shadow(features)], 1)
        shadow = torch.full((len(inputs),), self.adapter.num_classes, device=inputs.device)
        return dict(loss_expand=cross_entropy(logits, shadow))


@MODELS.register_module()
class LearnToUnlearn(BaselineUnlearner):
    """Learning to Unlearn, adversarial variant (Cha et al., AAAI 2024): ascend on D_f while
    keeping targeted adversarial neighbours of D_f classified as the attack's labels.

    Every batch, each forget sample gets a fresh random label ``y_adv`` (uniform over the
    remaining classes) and a targeted L2-PGD example ``x_adv`` on the frozen original model
    (random start in the ball, ``steps`` steps of size ``step`` minimizing ``CE(f(x_adv),
    y_adv)``, projected to an L2 ball of radius ``eps`` in the network's input space); loss
    ``-CE(student(x), y) + adv_weight CE(student(x_adv), y_adv)``. Forget-set only; the "imp"
    variant's weight-importance regularizer is not implemented. lr 1e-5; eps 0.4, step 0.1,
    10 steps, weight 0.1. Classification (one label per sample).

    Reference: the DELETE authors' version, github.com/shaaaaron/DELETE (commit 60018a1)
    ``method/l2ul.py``: ``adv_attack`` 40-57 (labels ``rand * K`` drawn anew at every call)
    called on every batch 94-97, advertorch ``L2PGDAttack(eps=0.4, eps_iter=0.1, nb_iter=10,
    rand_init=True, targeted=True)`` 80, loss 113. The paper's code, github.com/csm9493/L2UL
    (commit 5fb777b) ``utils.py`` ``adv_attack`` 208-239, draws a new label for every
    adversarial example too and avoids the sample's own label (line 225, with a remap bug);
    drawing among the remaining classes does that for every forgotten class. Not followed:
    DELETE's ``l2ul.py`` 109-110 puts the student in eval mode for the adversarial forward,
    and both originals attack the [0, 1] image (the normalization inside the model) with
    advertorch's clipping to [0, 1]; here the ball is in the network's input space.
    """

    accepts_remaining_data = False

    def __init__(self, *args, eps: float = 0.4, step: float = 0.1, steps: int = 10,
                 adv_weight: float = 0.1, **kwargs):
        super().__init__(*args, **kwargs)
        self.eps, self.step, self.steps = eps, step, steps
        self.adv_weight = adv_weight

    @staticmethod
    def _l2(x: Tensor) -> Tensor:
        return x.flatten(1).norm(dim=1).clamp(min=1e-12).view(-1, *[1] * (x.dim() - 1))

    def random_labels(self, labels: Tensor) -> Tensor:
        """(N,) labels drawn uniformly from the remaining classes (fresh at every call)."""
        remain = torch.tensor([c for c in range(self.adapter.num_classes)
                               if c not in set(self.adapter.forget_ids)], device=labels.device)
        return remain[torch.randint(len(remain), labels.shape, device=labels.device)]

    def adversarial(self, inputs: Tensor, targets: Tensor) -> Tensor:
        """Targeted L2-PGD examples (N, ...) on the original model."""
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
        return (inputs + delta).detach()

    def unlearn_loss(self, inputs: Tensor, data_samples: dict) -> Dict[str, Tensor]:
        labels = self.adapter.labels(data_samples)
        y_adv = self.random_labels(labels)
        x_adv = self.adversarial(inputs, y_adv)
        return dict(loss_ascent=-cross_entropy(self.student(inputs), labels),
                    loss_adv=self.adv_weight * cross_entropy(self.student(x_adv), y_adv))
