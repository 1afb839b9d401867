"""Parameter-scrubbing baselines: Fisher Forgetting, Influence Unlearn (WoodFisher) and SSD.

They edit the weights once in ``before_unlearning`` and train nothing (their configs set
``forget.train_cfg.max_epochs = 0``). Only trainable parameters are edited, so ``frozen``
submodules stay as they are.
"""
from typing import Dict, Iterable, Optional

import torch
from torch import Tensor

from taskforget.registry import MODELS

from .common import BaselineUnlearner, cross_entropy, per_sample_grads


class _ScrubbingUnlearner(BaselineUnlearner):
    """Base of the weight-editing methods: no training loss."""

    trains = False

    def unlearn_loss(self, inputs: Tensor, data_samples: dict) -> Dict[str, Tensor]:
        raise RuntimeError(f"{type(self).__name__} edits weights before training and has no "
                           "training loss: set forget.train_cfg.max_epochs = 0")

    def _batch_grads(self, batches: Iterable[dict]):
        """Yield (gradient dict, batch size) of the mean cross-entropy of each batch."""
        params = self.trainable()
        self.student.eval()
        try:
            for batch in batches:
                ds = batch["data_samples"]
                loss = cross_entropy(self.student(batch["inputs"]), self.adapter.labels(ds),
                                     self.adapter.valid(ds))
                grads = torch.autograd.grad(loss, list(params.values()), allow_unused=True)
                yield ({k: torch.zeros_like(p) if g is None else g
                        for (k, p), g in zip(params.items(), grads)}, len(batch["inputs"]))
        finally:
            self.student.train()


@MODELS.register_module()
class FisherForgetting(_ScrubbingUnlearner):
    """Fisher Forgetting (Golatkar et al., CVPR 2020): add Gaussian noise scaled by the inverse
    diagonal Fisher information of the remaining data.

    ``h = mean over D_r samples of sum_y p(y|x) (d CE(x, y) / d theta)^2`` (p from the original
    model, per-sample gradients with batch norm in eval mode). ``var = 1 / (h + 1e-8)`` clamped
    at 1e3 (1e2 for the classifier: parameters whose first dimension is K), times ``alpha``,
    averaged over the fan-in (all dims but the first) for >= 2-d parameters, times 10 for the
    classifier and 1-d (batch-norm, bias) parameters; ``theta += sqrt(var) N(0, 1)``.
    Uses D_r (``remain_dataloader`` required); no training. Sample-level tasks (one label per
    sample).

    Args:
        alpha: noise scale (methods.md: 1e-7; 1e-9 suggested elsewhere).
        max_samples: D_r samples the Fisher is estimated on (None: all).
        chunk: samples per vectorized per-sample-gradient call (memory: chunk x #params).
        **kwargs: see :class:`BaselineUnlearner`.
    """

    requires_remaining_data = True

    def __init__(self, *args, alpha: float = 1e-7, max_samples: Optional[int] = 1000,
                 chunk: int = 16, **kwargs):
        super().__init__(*args, **kwargs)
        self.alpha, self.max_samples, self.chunk = alpha, max_samples, chunk
        self.fisher: Dict[str, Tensor] = {}

    def prepare(self, forget_loader) -> None:
        params = {k: p.detach() for k, p in self.trainable().items()}
        fisher = {k: torch.zeros_like(p) for k, p in params.items()}
        seen = 0
        for batch in self.iterate(self.remain_dataloader):
            inputs = batch["inputs"]
            if self.max_samples is not None:
                inputs = inputs[:self.max_samples - seen]
            with torch.no_grad():
                probs = torch.softmax(self.teacher(inputs).float(), 1)
            for start in range(0, len(inputs), self.chunk):
                x = inputs[start:start + self.chunk]
                p = probs[start:start + self.chunk]
                for y in range(self.adapter.num_classes):
                    grads = per_sample_grads(self.student, x,
                                             torch.full_like(p[:, 0], y, dtype=torch.long),
                                             params)
                    for k, g in grads.items():
                        fisher[k] += torch.einsum("n,n...->...", p[:, y], g.pow(2))
            seen += len(inputs)
            if self.max_samples is not None and seen >= self.max_samples:
                break
        self.fisher = {k: v / max(seen, 1) for k, v in fisher.items()}
        self.scrub(self.fisher)

    @torch.no_grad()
    def noise_variance(self, name: str, fisher: Tensor) -> Tensor:
        """Variance of the noise added to parameter ``name`` given its diagonal Fisher."""
        is_head = fisher.dim() >= 1 and fisher.shape[0] == self.adapter.num_classes
        var = (1.0 / (fisher + 1e-8)).clamp(max=1e2 if is_head else 1e3) * self.alpha
        if var.dim() > 1:
            var = var.mean(dim=tuple(range(1, var.dim())), keepdim=True).expand_as(var)
        if is_head or var.dim() == 1:
            var = var * 10
        return var

    @torch.no_grad()
    def scrub(self, fisher: Dict[str, Tensor]) -> None:
        for k, p in self.trainable().items():
            p.add_(self.noise_variance(k, fisher[k]).sqrt() * torch.randn_like(p))


@MODELS.register_module()
class InfluenceUnlearn(_ScrubbingUnlearner):
    """Influence Unlearn (Izzo et al. 2021 / Koh & Liang; the WoodFisher form of Boundary
    Unlearning's baselines): one Newton step that removes D_f's influence.

    ``v = (n_f / n) (mean grad over D_f - mean grad over D_r)`` (methods.md's
    ``grad L_f / n - grad L_r n_f / (n n_r)`` with summed losses, n = n_f + n_r), then
    ``theta += alpha H^-1 v`` with the WoodFisher Hessian ``H = lambda I + (1/N) G^T G`` built
    from N single-sample gradients G (N x d) of the available training data, inverted exactly
    with the Woodbury identity: ``H^-1 v = (v - G^T (N lambda I + G G^T)^-1 G v) / lambda``;
    ``lambda = damping * mean(diag(G^T G / N))``. Memory: N x #params floats.

    With ``remain_dataloader`` (uses D_r) as above; forget-only variant (no D_r):
    ``v = mean grad over D_f`` and G holds D_f gradients alone. Sample-level tasks.

    Args:
        alpha: step size (the original searches it; 1 by default).
        num_samples: N, single-sample gradients for the Hessian (~1000 in the original).
        damping: lambda relative to the Fisher's mean diagonal.
        max_batches: D_r batches for the mean D_r gradient (None: all).
        chunk: samples per vectorized per-sample-gradient call.
        **kwargs: see :class:`BaselineUnlearner`.
    """

    def __init__(self, *args, alpha: float = 1.0, num_samples: int = 1000,
                 damping: float = 1.0, max_batches: Optional[int] = None, chunk: int = 32,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.alpha, self.num_samples, self.damping = alpha, num_samples, damping
        self.max_batches, self.chunk = max_batches, chunk

    def _mean_grad(self, loader, max_batches=None) -> Tensor:
        total, count = None, 0
        for grads, n in self._batch_grads(self.iterate(loader, max_batches)):
            flat = torch.cat([g.flatten() for g in grads.values()]) * n
            total = flat if total is None else total + flat
            count += n
        return total / count

    def _sample_grads(self, loaders) -> Tensor:
        rows, per_loader = [], self.num_samples // len(loaders)
        params = {k: p.detach() for k, p in self.trainable().items()}
        for loader in loaders:
            taken = 0
            for batch in self.iterate(loader):
                x = batch["inputs"][:per_loader - taken]
                ds = {k: v[:len(x)] for k, v in batch["data_samples"].items()}
                labels = self.adapter.labels(ds)
                for s in range(0, len(x), self.chunk):
                    grads = per_sample_grads(self.student, x[s:s + self.chunk],
                                             labels[s:s + self.chunk], params)
                    rows.append(torch.cat([g.flatten(1) for g in grads.values()], 1))
                taken += len(x)
                if taken >= per_loader:
                    break
        return torch.cat(rows)

    @staticmethod
    def woodfisher_solve(grads: Tensor, v: Tensor, damping: float) -> Tensor:
        """``H^-1 v`` for ``H = lambda I + grads^T grads / N`` (Woodbury identity).

        Args:
            grads: (N, d) single-sample gradients.
            v: (d,) vector.
            damping: lambda relative to the mean of diag(grads^T grads / N).

        Returns:
            (d,) the solution.
        """
        n, d = grads.shape
        lam = damping * float(grads.pow(2).sum()) / (n * d) + 1e-12
        gram = grads @ grads.t() + n * lam * torch.eye(n, dtype=grads.dtype,
                                                       device=grads.device)
        coef = torch.linalg.solve(gram.double(), (grads @ v).double()).to(grads.dtype)
        return (v - grads.t() @ coef) / lam

    def prepare(self, forget_loader) -> None:
        g_f = self._mean_grad(forget_loader)
        loaders = [forget_loader]
        if self.uses_remaining_data:
            g_r = self._mean_grad(self.remain_dataloader, self.max_batches)
            n_f, n_r = len(forget_loader.dataset), len(self.remain_dataloader.dataset)
            v = n_f / (n_f + n_r) * (g_f - g_r)
            loaders.append(self.remain_dataloader)
        else:
            v = g_f
        step = self.alpha * self.woodfisher_solve(self._sample_grads(loaders), v, self.damping)
        with torch.no_grad():
            offset = 0
            for p in self.trainable().values():
                p.add_(step[offset:offset + p.numel()].view_as(p))
                offset += p.numel()


@MODELS.register_module()
class SSD(_ScrubbingUnlearner):
    """Selective Synaptic Dampening (Foster et al., AAAI 2024): dampen the weights that matter
    far more to D_f than to the training data.

    Importance = mean over batches of the squared gradient of the batch's mean cross-entropy:
    ``I_f`` over D_f batches, ``I_D`` over training batches, which (as the original's shuffled
    training loader) are D_r batches with forget samples mixed in at their share of the
    training set, n_f / (n_f + n_r). Where ``I_f > alpha I_D``:
    ``theta *= min(lambda I_D / I_f, 1)``; other weights are untouched. Uses D_r (``I_D`` cannot
    be had from D_f alone); no training. alpha 10, lambda 1.

    Averaging whole D_f batches into ``I_D`` instead would give ``I_D >= share * I_f``, so the
    rule could never fire for alpha >= 1 / share (10 on CIFAR-10); D_r batches alone (no
    forget samples at all) make ``I_D`` smaller and SSD far more destructive.

    Args:
        alpha: selection threshold.
        dampening: lambda.
        max_batches: D_r batches for ``I_D`` (None: all).
        **kwargs: see :class:`BaselineUnlearner`.
    """

    requires_remaining_data = True

    def __init__(self, *args, alpha: float = 10.0, dampening: float = 1.0,
                 max_batches: Optional[int] = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.alpha, self.dampening, self.max_batches = alpha, dampening, max_batches

    def _importance(self, batches) -> Dict[str, Tensor]:
        total, count = None, 0
        for grads, _ in self._batch_grads(batches):
            sq = {k: g.pow(2) for k, g in grads.items()}
            total = sq if total is None else {k: total[k] + sq[k] for k in sq}
            count += 1
        return {k: v / count for k, v in total.items()}

    def prepare(self, forget_loader) -> None:
        importance_f = self._importance(self.iterate(forget_loader))
        importance_d = self._importance(self._training_batches(forget_loader))
        self.dampen(importance_d, importance_f)

    def _training_batches(self, forget_loader):
        """D_r batches whose first rows are replaced by forget samples at their share of the
        training set, cycling through D_f."""
        forget = [_rows(b) for b in self.iterate(forget_loader)]
        pool = {key: torch.cat([b[key] for b in forget]) for key in forget[0]}
        n_f, n_r = len(pool["inputs"]), len(self.remain_dataloader.dataset)
        start = 0
        for batch in self.iterate(self.remain_dataloader, self.max_batches):
            rows = _rows(batch)
            k = round(len(rows["inputs"]) * n_f / (n_f + n_r))
            take = torch.arange(start, start + k) % n_f
            start += k
            mixed = {key: torch.cat([pool[key][take.to(v.device)], v[k:]])
                     for key, v in rows.items()}
            yield {"inputs": mixed.pop("inputs"),
                   "data_samples": {key[3:]: v for key, v in mixed.items()}}

    @torch.no_grad()
    def dampen(self, importance_d: Dict[str, Tensor], importance_f: Dict[str, Tensor]) -> None:
        """Apply the SSD rule to the trainable parameters (see the class doc)."""
        for k, p in self.trainable().items():
            selected = importance_f[k] > self.alpha * importance_d[k]
            factor = (self.dampening * importance_d[k] / importance_f[k].clamp(min=1e-30))
            p.mul_(torch.where(selected, factor.clamp(max=1.0), torch.ones_like(p)))


def _rows(batch: dict) -> dict:
    """``{'inputs': ..., 'data_samples': {...}}`` flattened to row-indexable tensors."""
    return {"inputs": batch["inputs"],
            **{f"ds.{k}": v for k, v in batch["data_samples"].items()}}
