"""Backdoor removal methods run as Unlearners: recovery + NG, fine-tuning, Fine-Pruning, NAD.

DELETE itself needs nothing task-specific: the core ``DELETE`` with :class:`BackdoorAdapter`
on held-out images stamped with the recovered trigger. The baselines here train the student
on the defender's clean held-out set (``BackdoorDataset`` mode 'clean') except NG, which uses
the stamped set (mode 'stamp').
"""
import copy
from typing import Dict, List, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from taskforget.methods.base import Unlearner
from taskforget.network import as_contract
from taskforget.registry import MODELS


def _zero(logits: Tensor) -> Tensor:
    return logits.sum() * 0.0


@MODELS.register_module()
class BackdoorNG(Unlearner):
    """Recovery + NG (BAERASER's unlearning): gradient ascent on the cross-entropy of the
    target label on stamped non-target images, each sample's ascent stopped once its loss
    exceeds ``max_loss`` (default ln 10, a uniform prediction over 10 classes) so the model
    is pushed off the target without diverging. Clean rows are ignored (forget-set only).
    """

    def __init__(self, *args, max_loss: float = 2.3026, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_loss = max_loss

    def unlearn_loss(self, inputs: Tensor, data_samples: dict) -> Dict[str, Tensor]:
        logits = self.student(inputs).float()
        rows = self.adapter.class_mask(logits, data_samples).any(1)
        if not rows.any():
            return dict(loss_ng=_zero(logits))
        target = torch.full((int(rows.sum()),), self.adapter.forget_ids[0],
                            device=logits.device)
        ce = F.cross_entropy(logits[rows], target, reduction="none")
        return dict(loss_ng=-ce.clamp(max=self.max_loss).mean())


@MODELS.register_module()
class CleanFineTune(Unlearner):
    """Fine-tune on the clean held-out set with cross-entropy (the 'Finetune' baseline)."""

    def unlearn_loss(self, inputs: Tensor, data_samples: dict) -> Dict[str, Tensor]:
        logits = self.student(inputs).float()
        return dict(loss_ce=F.cross_entropy(logits, self.adapter.true_labels(data_samples)))


@MODELS.register_module()
class FinePruning(CleanFineTune):
    """Fine-Pruning (Liu et al., RAID 2018): prune the last convolutional layer's channels in
    ascending order of their mean activation on clean data, as many as keep the clean accuracy
    within ``max_acc_drop`` points of the unpruned model (in steps of ``prune_step``, at most
    ``max_prune``), then fine-tune on clean data. With global average pooling before the
    linear head, pruning a channel = zeroing its head column, kept at zero while fine-tuning.

    Needs the network contract (:mod:`taskforget.network`): the channels are the inputs of the
    final linear classifier, ranked by their mean value on clean data (the pooled activation of
    the last convolutional layer in a CNN with global average pooling).
    """

    needs_network_contract = True

    def __init__(self, *args, max_acc_drop: float = 4.0, prune_step: float = 0.05,
                 max_prune: float = 0.95, **kwargs):
        super().__init__(*args, **kwargs)
        self.contract = as_contract(self.student, "FinePruning")
        self.max_acc_drop, self.prune_step, self.max_prune = max_acc_drop, prune_step, max_prune
        self.pruned: List[int] = []

    @torch.no_grad()
    def before_unlearning(self, runner) -> None:
        net, contract = self.student, self.contract
        was_training = net.training
        net.eval()
        feats, batch_list = [], []
        for batch in runner.train_dataloader:
            data = self.data_preprocessor(batch, False)
            feats.append(contract.features(data["inputs"]).float().flatten(1))
            batch_list.append((data["inputs"], data["data_samples"]["true_label"]))
        order = torch.cat(feats).mean(0).argsort().tolist()
        head = contract.head.weight

        def accuracy():
            hits = sum(int((net(x).argmax(1) == y).sum()) for x, y in batch_list)
            return 100.0 * hits / sum(len(y) for _, y in batch_list)

        base_acc, original = accuracy(), head.detach().clone()
        count, step = 0, max(1, int(round(self.prune_step * len(order))))
        for n in range(step, int(self.max_prune * len(order)) + 1, step):
            head.copy_(original)
            head[:, order[:n]] = 0
            if base_acc - accuracy() > self.max_acc_drop:
                break
            count = n
        head.copy_(original)
        self.pruned = order[:count]
        head[:, self.pruned] = 0
        keep = torch.ones_like(head)
        keep[:, self.pruned] = 0
        head.register_hook(lambda grad: grad * keep)
        net.train(was_training)
        runner.logger.info(f"Fine-Pruning: pruned {count}/{len(order)} channels "
                           f"(clean held-out acc {base_acc:.2f} -> {accuracy():.2f})")


def attention_layers(network: nn.Module, image_size: int = 32) -> List[str]:
    """Names of the last module at each spatial resolution of ``network.encoder`` (a
    Sequential): the feature maps NAD distils (3 for small_cnn and ResNet-20). Other networks
    name their layers with NAD's ``attention_layers``."""
    encoder = getattr(network, "encoder", None)
    if not isinstance(encoder, nn.Sequential):
        raise TypeError("NAD's automatic layer choice needs network.encoder to be a Sequential;"
                        " set attention_layers=[...] explicitly")
    shapes = []
    x = torch.zeros(2, 3, image_size, image_size)
    was_training = network.training
    network.eval()
    with torch.no_grad():
        for name, module in encoder.named_children():
            x = module(x)
            if x.dim() == 4 and not isinstance(module, (nn.MaxPool2d, nn.AdaptiveAvgPool2d)):
                shapes.append((f"encoder.{name}", x.shape[-1]))
    network.train(was_training)
    last = {}
    for name, size in shapes:
        last[size] = name
    return list(last.values())


def attention_map(features: Tensor, p: float = 2.0) -> Tensor:
    """NAD/AT attention: (N, C, H, W) -> (N, H*W) L2-normalized ``mean_c |f|^p``."""
    return F.normalize(features.float().abs().pow(p).mean(1).flatten(1), dim=1)


@MODELS.register_module()
class NAD(CleanFineTune):
    """Neural Attention Distillation (Li et al., ICLR 2021): fine-tune a copy of the model on
    the clean held-out set (the NAD teacher), then train the student with cross-entropy plus
    ``betas[l] * ||a_s - a_t||^2`` between attention maps of ``attention_layers`` (default: one
    per resolution).

    As the official code (github.com/bboylyg/NAD): the teacher is the backdoored model
    fine-tuned on the clean data with NAD's own loop at beta 0 (README.md, "How to get teacher
    model?": 5-10 epochs): SGD momentum 0.9, nesterov, weight decay 1e-4 (main.py L143-147,
    config.py L16-19), lr ``teacher_lr`` = 0.1 for the first two epochs, then 0.01
    (utils/util.py ``adjust_learning_rate``, L68-79; ``teacher_milestones``). The student's
    optimizer and its step schedule (the same drop after two epochs) are in the NAD config;
    its initial lr is searched. Maps and betas: at.py L23-33, config.py L22-25.

    Needs no network contract: it hooks named submodules. The default layer choice needs
    ``network.encoder`` to be an ``nn.Sequential`` (taskforget's classifiers); for any other
    network give ``attention_layers`` (dotted names of modules with (N, C, H, W) outputs).
    """

    def __init__(self, *args, teacher_epochs: int = 5, teacher_lr: float = 0.1,
                 teacher_milestones: Sequence[int] = (2,),
                 betas: Sequence[float] = (500.0, 1000.0, 1000.0), power: float = 2.0,
                 attention_layers: Sequence[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.teacher_epochs, self.teacher_lr = teacher_epochs, teacher_lr
        self.teacher_milestones = list(teacher_milestones)
        self.betas, self.power = tuple(betas), power
        self.layers = list(attention_layers) or globals()["attention_layers"](self.student)
        if len(self.betas) < len(self.layers):
            self.betas += (self.betas[-1],) * (len(self.layers) - len(self.betas))
        self.nad_teacher = copy.deepcopy(self.student).requires_grad_(False).eval()

    def train(self, mode: bool = True) -> "NAD":
        super().train(mode)
        self.nad_teacher.eval()
        return self

    def before_unlearning(self, runner) -> None:
        teacher = copy.deepcopy(self.student).train()
        opt = torch.optim.SGD(teacher.parameters(), lr=self.teacher_lr, momentum=0.9,
                              weight_decay=1e-4, nesterov=True)
        schedule = torch.optim.lr_scheduler.MultiStepLR(opt, self.teacher_milestones, 0.1)
        for _ in range(self.teacher_epochs):
            for batch in runner.train_dataloader:
                data = self.data_preprocessor(batch, True)
                loss = F.cross_entropy(teacher(data["inputs"]).float(),
                                       data["data_samples"]["true_label"])
                opt.zero_grad()
                loss.backward()
                opt.step()
            schedule.step()
        self.nad_teacher.load_state_dict(teacher.state_dict())
        runner.logger.info(f"NAD: teacher fine-tuned {self.teacher_epochs} epochs (lr "
                           f"{self.teacher_lr:g}, x0.1 at epochs {self.teacher_milestones}); "
                           f"last batch loss {loss.item():.3f}")

    def _features(self, net: nn.Module, inputs: Tensor):
        feats = {}
        handles = [net.get_submodule(n).register_forward_hook(
            lambda m, i, o, n=n: feats.__setitem__(n, o)) for n in self.layers]
        try:
            logits = net(inputs)
        finally:
            for h in handles:
                h.remove()
        return logits, [feats[n] for n in self.layers]

    def unlearn_loss(self, inputs: Tensor, data_samples: dict) -> Dict[str, Tensor]:
        logits, s_feats = self._features(self.student, inputs)
        with torch.no_grad():
            _, t_feats = self._features(self.nad_teacher, inputs)
        losses = dict(loss_ce=F.cross_entropy(logits.float(),
                                              self.adapter.true_labels(data_samples)))
        for i, (s, t, beta) in enumerate(zip(s_feats, t_feats, self.betas)):
            diff = attention_map(s, self.power) - attention_map(t, self.power)
            losses[f"loss_at{i}"] = beta * diff.pow(2).mean()
        return losses
