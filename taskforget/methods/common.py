"""What the baselines share: remaining-data batches, fixed random labels, per-sample gradients.

Every baseline is an :class:`~taskforget.methods.base.Unlearner` trained by the runner's one
loop on forget batches. Methods whose original recipe needs the remaining data D_r take a
``remain_dataloader`` config; one D_r batch is drawn (cycling) beside every forget batch, so an
"epoch" is one pass over D_f's batches in every method.
"""
import copy
import itertools
from typing import Dict, Iterator, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader

from taskforget.errors import ConfigError

from .base import Unlearner

RemainLoader = Union[None, dict, DataLoader]


def masked_mean(values: Tensor, valid: Optional[Tensor]) -> Tensor:
    """Mean of ``values`` (N,) or (N, H, W) over the True positions of ``valid`` (all if None)."""
    if valid is None:
        return values.mean()
    valid = valid.to(values.dtype)
    return (values * valid).sum() / valid.sum().clamp(min=1.0)


def cross_entropy(logits: Tensor, targets: Tensor, valid: Optional[Tensor] = None) -> Tensor:
    """Cross-entropy of (N, K) or (N, K, H, W) logits against (N,) or (N, H, W) targets,
    averaged over ``valid`` positions (targets at invalid positions may hold any value)."""
    targets = targets if valid is None else targets.masked_fill(~valid, 0)
    targets = targets.clamp(0, logits.shape[1] - 1)
    return masked_mean(F.cross_entropy(logits.float(), targets, reduction="none"), valid)


def kl_divergence(student_logits: Tensor, teacher_logits: Tensor, temperature: float = 1.0,
                  valid: Optional[Tensor] = None) -> Tensor:
    """KL(softmax(teacher / T) || softmax(student / T)) * T^2, classes on dim 1, averaged over
    samples (or ``valid`` positions)."""
    log_q = F.log_softmax(student_logits.float() / temperature, dim=1)
    log_p = F.log_softmax(teacher_logits.float() / temperature, dim=1)
    kl = (log_p.exp() * (log_p - log_q)).sum(dim=1)
    return masked_mean(kl, valid) * temperature ** 2


def _mix(values: Tensor) -> Tensor:
    """A cheap integer hash (splitmix64-style, int64 wrap-around) of a long tensor."""
    x = values * -7046029254386353131 + 4354685564936845319
    x = (x ^ (x >> 31)) * -4658895280553007687
    return x ^ (x >> 29)


def fixed_random_labels(labels: Tensor, uids: Tensor, forget_ids: Sequence[int],
                        num_classes: int, seed: int = 0) -> Tensor:
    """Relabel forgotten-class positions to a remaining class, fixed per sample and position.

    The draw is a hash of (``uid``, position, ``seed``): a sample keeps its random label across
    epochs and augmentations, as when the relabelled set is made once.

    Args:
        labels: (N,) or (N, H, W) long labels.
        uids: (N,) long sample ids.
        forget_ids: forgotten class ids (only their positions are relabelled).
        num_classes: K.
        seed: changes every draw.

    Returns:
        Labels of the same shape; forgotten-class entries hold a uniform draw from the
        remaining classes.
    """
    remain = torch.tensor([c for c in range(num_classes) if c not in set(forget_ids)],
                          device=labels.device)
    positions = torch.arange(labels[0].numel(), device=labels.device).view(labels[0].shape)
    key = uids.view(-1, *[1] * (labels.dim() - 1)).long() * 1_000_003 + positions + seed * 7919
    draw = remain[torch.remainder(_mix(key), len(remain))]
    return torch.where(torch.isin(labels, torch.tensor(list(forget_ids), device=labels.device)),
                       draw, labels)


def per_sample_grads(network: nn.Module, inputs: Tensor, targets: Tensor,
                     params: Optional[Dict[str, Tensor]] = None) -> Dict[str, Tensor]:
    """Gradients of every sample's cross-entropy, vectorized with ``torch.func``.

    The network runs in eval mode (batch norm uses its running statistics).

    Args:
        network: the model.
        inputs: (N, ...) batch.
        targets: (N,) or (N, H, W) long targets, one per sample (and position).
        params: which parameters to differentiate (default: every trainable one).

    Returns:
        name -> (N, *param.shape) gradients.
    """
    from torch.func import functional_call, grad, vmap

    params = params if params is not None else {
        k: p.detach() for k, p in network.named_parameters() if p.requires_grad}
    others = {k: v.detach() for k, v in itertools.chain(network.named_parameters(),
                                                         network.named_buffers())
              if k not in params}
    was_training = network.training
    network.eval()

    def sample_loss(p, x, target):
        logits = functional_call(network, {**others, **p}, (x[None],))
        return F.cross_entropy(logits.float(), target[None])

    try:
        return vmap(grad(sample_loss), in_dims=(None, 0, 0))(params, inputs, targets)
    finally:
        network.train(was_training)


class BaselineUnlearner(Unlearner):
    """Unlearner with optional remaining data (D_r) beside the forget batches.

    Args:
        remain_dataloader: the remaining data. A dict is a dataloader config merged over the
            forget dataloader's config with ``dataset.subset='remain'`` (so ``dict()`` is "the
            forget loader's settings over D_r"), built with ``Runner.build_dataloader`` in
            ``before_unlearning``; a ``DataLoader`` is used as is; None = forget-only variant.
        **kwargs: see :class:`Unlearner`.

    ``uses_remaining_data`` is True on an instance given remaining data (tables mark it).
    A method whose recipe has no use for D_r sets ``accepts_remaining_data = False`` and
    refuses it.
    """

    accepts_remaining_data = True

    def __init__(self, *args, remain_dataloader: RemainLoader = None, **kwargs):
        super().__init__(*args, **kwargs)
        if remain_dataloader is None and self.requires_remaining_data:
            raise ConfigError(
                f"{type(self).__name__} needs the remaining data: pass remain_dataloader=dict() "
                "(the forget loader's settings over D_r) or a dataloader config")
        if remain_dataloader is not None and not self.accepts_remaining_data:
            raise ConfigError(
                f"{type(self).__name__} is forget-set only and would ignore the remaining data: "
                "drop remain_dataloader")
        self.remain_dataloader = remain_dataloader
        self.uses_remaining_data = remain_dataloader is not None
        self._remain_iter: Optional[Iterator] = None
        self.iters_per_epoch: Optional[int] = None
        self._iter = 0

    def before_unlearning(self, runner) -> None:
        self.iters_per_epoch = len(runner.train_dataloader)
        if isinstance(self.remain_dataloader, dict):
            from mmengine.runner import Runner
            cfg = copy.deepcopy(runner.cfg.get("train_dataloader") or {})
            cfg = _merge(_to_dict(cfg), _to_dict(self.remain_dataloader))
            if "type" not in cfg.get("dataset", {}):
                raise ConfigError(
                    "remain_dataloader needs a dataset config: give a full dataloader config, "
                    "or run from a config file whose train_dataloader (the forget loader) it "
                    "can be derived from")
            cfg["dataset"]["subset"] = "remain"
            seed = runner.cfg.get("randomness", {}).get("seed")
            self.remain_dataloader = Runner.build_dataloader(cfg, seed=seed)
        self.prepare(runner.train_dataloader)

    def prepare(self, forget_loader: DataLoader) -> None:
        """Method-specific setup before training (masks, noise, weight edits). Default: none."""

    @property
    def epoch(self) -> int:
        """Current unlearning epoch, counted from the forget batches seen by ``train_step``."""
        return self._iter // self.iters_per_epoch if self.iters_per_epoch else 0

    def train_step(self, data, optim_wrapper) -> Dict[str, Tensor]:
        log_vars = super().train_step(data, optim_wrapper)
        self._iter += 1
        return log_vars

    def remain_batch(self) -> dict:
        """Next preprocessed D_r batch, ``dict(inputs, data_samples)`` (cycles forever)."""
        if self.remain_dataloader is None:
            raise RuntimeError(f"{type(self).__name__} was given no remain_dataloader")
        if isinstance(self.remain_dataloader, dict):
            raise RuntimeError("the remain_dataloader config is built in before_unlearning: "
                               "run the method through the runner (UnlearningSetupHook)")
        try:
            batch = next(self._remain_iter) if self._remain_iter is not None else None
        except StopIteration:
            batch = None
        if batch is None:
            self._remain_iter = iter(self.remain_dataloader)
            batch = next(self._remain_iter)
        return self.data_preprocessor(batch, True)

    def remain_ce(self) -> Tensor:
        """Cross-entropy of the student on the next D_r batch."""
        batch = self.remain_batch()
        ds = batch["data_samples"]
        return cross_entropy(self.student(batch["inputs"]), self.adapter.labels(ds),
                             self.adapter.valid(ds))

    def forget_positions(self, data_samples: dict) -> Tensor:
        """(N,) or (N, H, W) bool: valid positions whose label is a forgotten class."""
        labels = self.adapter.labels(data_samples)
        keep = torch.isin(labels, torch.tensor(self.adapter.forget_ids, device=labels.device))
        valid = self.adapter.valid(data_samples)
        return keep if valid is None else keep & valid

    def iterate(self, loader: DataLoader, max_batches: Optional[int] = None):
        """Preprocessed batches of ``loader`` (at most ``max_batches``)."""
        for i, batch in enumerate(loader):
            if max_batches is not None and i >= max_batches:
                return
            yield self.data_preprocessor(batch, False)

    def trainable(self) -> Dict[str, nn.Parameter]:
        """The student's parameters that may change (``frozen`` ones left out)."""
        return {k: p for k, p in self.student.named_parameters() if p.requires_grad}


def _to_dict(cfg) -> dict:
    return cfg.to_dict() if hasattr(cfg, "to_dict") else dict(cfg)


def _merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in override.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out
