"""What the baselines share: remaining-data batches, fixed random labels, per-sample gradients.

Every baseline is an :class:`~taskforget.methods.base.Unlearner` trained by the runner's one
loop, whose epoch is one pass over the forget batches. Methods whose original recipe needs the
remaining data D_r take a ``remain_dataloader`` config and use it in one of two ways:

- **beside the forget batches** (``epoch_data = None``): one D_r batch is drawn (cycling)
  beside every forget batch and its loss added to the forget loss (NG+, Random Label + D_r,
  MaGA, UNSIR);
- **as the epoch** (``epoch_data = 'remain'`` or ``'mix'``): the method's original epoch is a
  pass over D_r (Fine-tune, SCRUB's min pass, SalUn's retain pass) or over one shuffled
  dataset of D_f and D_r (Amnesiac, Bad Teacher). Each runner iteration then takes its share of
  that epoch loader (:meth:`BaselineUnlearner.epoch_share`), one optimizer step per batch, so
  one runner epoch touches every sample of it exactly once.
"""
import copy
import itertools
from typing import Callable, Dict, Iterator, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

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
                        num_classes: int, seed: int = 0, among_all: bool = False) -> Tensor:
    """Relabel forgotten-class positions to a random class, fixed per sample and position.

    The draw is a hash of (``uid``, position, ``seed``): a sample keeps its random label across
    epochs and augmentations, as when the relabelled set is made once.

    Args:
        labels: (N,) or (N, H, W) long labels.
        uids: (N,) long sample ids.
        forget_ids: forgotten class ids (only their positions are relabelled).
        num_classes: K.
        seed: changes every draw.
        among_all: draw from all K classes (the true one included: Random Label as published)
            instead of the remaining classes only (Amnesiac, Learn to Unlearn).

    Returns:
        Labels of the same shape; forgotten-class entries hold a uniform draw from the
        remaining classes (or from all K).
    """
    remain = torch.tensor([c for c in range(num_classes)
                           if among_all or c not in set(forget_ids)], device=labels.device)
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
    """Unlearner with optional remaining data (D_r) beside the forget batches or as the epoch.

    Args:
        remain_dataloader: the remaining data. A dict is a dataloader config merged over the
            forget dataloader's config with ``dataset.subset='remain'`` (so ``dict()`` is "the
            forget loader's settings over D_r"), built with ``Runner.build_dataloader`` in
            ``before_unlearning``; a ``DataLoader`` is used as is; None = forget-only variant.
        **kwargs: see :class:`Unlearner`.

    ``uses_remaining_data`` is True on an instance given remaining data (tables mark it).
    A method whose recipe has no use for D_r sets ``accepts_remaining_data = False`` and
    refuses it.

    What one epoch is, for a method given D_r (class attributes):

    - ``epoch_data = None``: a pass over D_f; :meth:`remain_batch` draws D_r batches beside it.
    - ``epoch_data = 'remain'``: a pass over D_r as well. Each forget batch gets one step of
      :meth:`unlearn_loss` when :meth:`forget_step` says so, and the epoch's D_r batches each
      get one step of :meth:`epoch_loss`: spread evenly over the epoch's iterations
      (``remain_pass = 'spread'``) or all after its last forget step (``'after'``: the
      original's forget pass, then retain pass).
    - ``epoch_data = 'mix'``: a pass over one shuffled dataset of D_f and a fixed
      ``mix_fraction`` of D_r (built once, seeded by the run's seed; rows carry
      ``data_samples['from_forget']``); the runner's forget batches only count iterations and
      every mixed batch gets one step of :meth:`epoch_loss`. Needs map-style datasets.
    """

    accepts_remaining_data = True
    epoch_data: Optional[str] = None
    remain_pass = "spread"
    mix_fraction = 1.0

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
        self.epoch_loader: Optional[DataLoader] = None
        self._remain_iter: Optional[Iterator] = None
        self._epoch_iter: Optional[Iterator] = None
        self.iters_per_epoch: Optional[int] = None
        self._iter = 0

    @property
    def remain_drives_epoch(self) -> bool:
        """True when D_r is given and the epoch is a pass over D_r (or over the D_f + D_r mix)."""
        return self.uses_remaining_data and self.epoch_data is not None

    @property
    def remain_beside_forget(self) -> bool:
        """True when D_r is given and rides beside the forget batches (:meth:`remain_batch`)."""
        return self.uses_remaining_data and self.epoch_data is None

    def before_unlearning(self, runner) -> None:
        self.iters_per_epoch = len(runner.train_dataloader)
        seed = (runner.cfg.get("randomness") or {}).get("seed")
        seed = getattr(runner, "seed", None) if seed is None else seed
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
            self.remain_dataloader = Runner.build_dataloader(cfg, seed=seed)
        if self.remain_drives_epoch:
            self.epoch_loader = (self.remain_dataloader if self.epoch_data == "remain" else
                                 self.mixed_loader(runner.train_dataloader, seed))
        self.prepare(runner.train_dataloader)

    def mixed_loader(self, forget_loader: DataLoader, seed: Optional[int]) -> DataLoader:
        """One shuffled loader over D_f and a fixed ``mix_fraction`` of D_r (rows tagged
        ``from_forget``), batched like the forget loader; the subset and the order are seeded
        by ``seed`` (None: drawn from the global RNG)."""
        from mmengine.dataset import DefaultSampler

        loaders = dict(forget_data=forget_loader, remain_data=self.remain_dataloader)
        for name, loader in loaders.items():
            if not isinstance(loader, DataLoader):
                raise ConfigError(
                    f"{type(self).__name__} mixes D_f and D_r samples into one dataset: give "
                    f"{name} as a dataset (or a dataloader config), not a DataLoader")
        if seed is None:
            seed = int(torch.randint(2 ** 31 - 1, ()))
        remain = self.remain_dataloader.dataset
        count = int(self.mix_fraction * len(remain))
        picked = torch.randperm(len(remain), generator=torch.Generator().manual_seed(seed))
        mix = MixedSamples(forget_loader.dataset, remain, sorted(picked[:count].tolist()))
        return DataLoader(mix, batch_size=forget_loader.batch_size,
                          sampler=DefaultSampler(mix, shuffle=True, seed=seed),
                          collate_fn=self.remain_dataloader.collate_fn,
                          num_workers=self.remain_dataloader.num_workers)

    def prepare(self, forget_loader: DataLoader) -> None:
        """Method-specific setup before training (masks, noise, weight edits). Default: none."""

    @property
    def epoch(self) -> int:
        """Current unlearning epoch, counted from the forget batches seen by ``train_step``."""
        return self._iter // self.iters_per_epoch if self.iters_per_epoch else 0

    def forget_step(self) -> bool:
        """Whether this iteration's forget batch gets a step of :meth:`unlearn_loss`."""
        return not (self.remain_drives_epoch and self.epoch_data == "mix")

    def epoch_loss(self, inputs: Tensor, data_samples: dict) -> Dict[str, Tensor]:
        """Loss dict on a batch of the epoch loader (D_r or the mix); see the class doc."""
        raise NotImplementedError(f"{type(self).__name__} sets epoch_data but no epoch_loss")

    def after_update(self, optim_wrapper) -> None:
        """Called after every optimizer step (e.g. to reset weights that must not move)."""

    def update(self, compute: Callable[[], Dict[str, Tensor]], optim_wrapper) -> Dict[str, Tensor]:
        """One optimizer step on the loss dict ``compute()`` returns; its log variables."""
        with optim_wrapper.optim_context(self):
            losses = compute()
        loss, log_vars = self.parse_losses(losses)
        optim_wrapper.update_params(loss)
        self.after_update(optim_wrapper)
        return log_vars

    def train_step(self, data, optim_wrapper) -> Dict[str, Tensor]:
        log_vars: Dict[str, Tensor] = {}
        if self.forget_step():
            batch = self.data_preprocessor(data, True)
            log_vars.update(self.update(
                lambda: self.unlearn_loss(batch["inputs"], batch["data_samples"]), optim_wrapper))
        if self.remain_drives_epoch:
            for batch in self.epoch_share():
                log_vars.update(self.update(
                    lambda b=batch: self.epoch_loss(b["inputs"], b["data_samples"]),
                    optim_wrapper))
        self._iter += 1
        return log_vars

    def epoch_share(self) -> Iterator[dict]:
        """This iteration's preprocessed batches of the epoch loader.

        Iteration i of an epoch of n takes batches ``[ceil(i m / n), ceil((i + 1) m / n))`` of
        the loader's m (``remain_pass = 'after'``: all m at the last iteration); the last
        iteration also takes whatever is left, so an epoch covers the loader exactly once. The
        loader's sampler gets ``set_epoch`` (a new order every epoch).
        """
        if self.epoch_loader is None:
            raise RuntimeError("the epoch loader is built in before_unlearning: run the method "
                               "through the runner (UnlearningSetupHook)")
        steps, total = self.iters_per_epoch or 1, len(self.epoch_loader)
        step = self._iter % steps
        if step == 0 or self._epoch_iter is None:
            sampler = getattr(self.epoch_loader, "sampler", None)
            if hasattr(sampler, "set_epoch"):
                sampler.set_epoch(self.epoch)
            self._epoch_iter = iter(self.epoch_loader)
        last = step == steps - 1
        if self.remain_pass == "after":
            count = total if last else 0
        else:
            count = _ceil_div((step + 1) * total, steps) - _ceil_div(step * total, steps)
        batches = itertools.islice(self._epoch_iter, None if last else count)
        for batch in batches:
            yield self.data_preprocessor(batch, True)

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

    def remain_ce(self, batch: Optional[dict] = None) -> Tensor:
        """Cross-entropy of the student on ``batch`` (default: the next D_r batch)."""
        batch = self.remain_batch() if batch is None else batch
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


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _to_dict(cfg) -> dict:
    return cfg.to_dict() if hasattr(cfg, "to_dict") else dict(cfg)


def _merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in override.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


class MixedSamples(Dataset):
    """D_f followed by the ``remain_indices`` samples of D_r, as one map-style dataset; each
    item's ``data_samples`` gains ``from_forget`` (True for the D_f rows)."""

    def __init__(self, forget: Dataset, remain: Dataset, remain_indices: Sequence[int]):
        self.forget, self.remain = forget, remain
        self.remain_indices = list(remain_indices)

    def __len__(self) -> int:
        return len(self.forget) + len(self.remain_indices)

    def __getitem__(self, index: int) -> dict:
        from_forget = index < len(self.forget)
        item = dict(self.forget[index] if from_forget else
                    self.remain[self.remain_indices[index - len(self.forget)]])
        item["data_samples"] = dict(item["data_samples"], from_forget=from_forget)
        return item
