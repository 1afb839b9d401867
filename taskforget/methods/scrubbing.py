"""Parameter-scrubbing baselines: Fisher Forgetting, Influence Unlearn (WoodFisher) and SSD.

They edit the weights once in ``before_unlearning`` and train nothing (their configs set
``forget.train_cfg.max_epochs = 0``). Only trainable parameters are edited, so ``frozen``
submodules stay as they are. Each class cites the public reference code it follows (repository,
path at the commit read, line range).
"""
from typing import Dict, Iterable, Iterator, List, Optional

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

    ``h = mean over D_r samples of sum_y p(y|x) (d CE(x, y) / d theta)^2`` (p from the model
    being scrubbed, single-sample gradients, batch norm in eval mode). ``var = 1 / (h + 1e-8)``
    clamped at 1e3 (1e2 for the classifier: parameters whose first dimension is K), times
    ``alpha``, averaged over dim 1 (the input channels: a conv kernel keeps its per-output,
    per-position values) for >= 2-d parameters, times 10 for the classifier and 1-d
    (batch-norm, bias) parameters; ``theta += sqrt(var) N(0, 1)``. Uses D_r
    (``remain_dataloader`` required); no training. Sample-level tasks (one label per sample).

    Reference: github.com/AdityaGolatkar/SelectiveForgetting (commit 4c02825),
    ``Forgetting.ipynb`` (file lines): ``hessian`` 1433-1458 (batch-1 loader over the retain
    set, ``grad2_acc += prob[:, y] * grad^2``, divided by the sample count), ``get_mean_var``
    1542-1565 (clamps, ``var.mean(dim=1)``, x10 rules) and the scrub 1688-1698
    (``mu + sqrt(var) * normal``); the same code in if-loops/selective-synaptic-dampening
    ``src/forget_full_class_strategies.py`` 496-558. Differences: the Fisher is estimated on
    ``max_samples`` D_r samples (the original: all of D_r); the original's class-forgetting
    branch (``get_mean_var`` 1555-1557: the forgotten classes' classifier rows set to 0 with
    variance 1e-4) is off by default, as in the DELETE authors' version
    (shaaaaron/DELETE ``method/fisher.py`` 64-81), and on with ``zero_forget_rows=True``.

    Args:
        alpha: noise scale, the method's knob (the paper/official code: 1e-6 in the notebook
            and in SSD's baseline, 1e-7 in methods.md; tune over [1e-8, 1e-5]).
        max_samples: D_r samples the Fisher is estimated on (None: all, as the original).
        chunk: samples per vectorized per-sample-gradient call (memory: chunk x #params).
        zero_forget_rows: the original's class-forgetting branch (see above).
        **kwargs: see :class:`BaselineUnlearner`.
    """

    requires_remaining_data = True

    def __init__(self, *args, alpha: float = 1e-7, max_samples: Optional[int] = 1000,
                 chunk: int = 16, zero_forget_rows: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.alpha, self.max_samples, self.chunk = alpha, max_samples, chunk
        self.zero_forget_rows = zero_forget_rows
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

    def _is_head(self, fisher: Tensor) -> bool:
        return fisher.dim() >= 1 and fisher.shape[0] == self.adapter.num_classes

    @torch.no_grad()
    def noise_variance(self, name: str, fisher: Tensor) -> Tensor:
        """Variance of the noise added to parameter ``name`` given its diagonal Fisher."""
        is_head = self._is_head(fisher)
        var = (1.0 / (fisher + 1e-8)).clamp(max=1e2 if is_head else 1e3) * self.alpha
        if var.dim() > 1:
            var = var.mean(dim=1, keepdim=True).expand_as(var).clone()
        if is_head and self.zero_forget_rows:
            var[list(self.adapter.forget_ids)] = 1e-4
        if is_head or var.dim() == 1:
            var = var * 10
        return var

    @torch.no_grad()
    def scrub(self, fisher: Dict[str, Tensor]) -> None:
        for k, p in self.trainable().items():
            if self.zero_forget_rows and self._is_head(p):
                p[list(self.adapter.forget_ids)] = 0
            p.add_(self.noise_variance(k, fisher[k]).sqrt() * torch.randn_like(p))


@MODELS.register_module()
class InfluenceUnlearn(_ScrubbingUnlearner):
    """Influence Unlearn (Izzo et al. 2021 / Koh & Liang, in the WoodFisher form of the public
    unlearning baselines): one step ``theta += alpha * perturbation``.

    With ``remain_dataloader`` (uses D_r): ``v = (n_f / n) (mean grad over D_f - mean grad
    over D_r)`` (methods.md's ``grad L_f / n - grad L_r n_f / (n n_r)`` with summed losses,
    n = n_f + n_r) and the perturbation is the official "WoodFisher" recursion from
    single-sample D_r gradients g_0, g_1, ... (random order, batch norm in eval mode):
    ``k = v; o = g_0``; for every later sample ``k -= (k . g_i) / (N + o . g_i) o`` and
    ``o *= N / (N + o . g_i)``, over samples 0..N+1, N = ``num_samples`` (1000). As published,
    ``o`` stays parallel to g_0, so this is not the inverse-Hessian-vector product of a
    Sherman-Morrison recursion: ``k`` is ``v`` less a multiple of g_0, and the step norm is
    about ``alpha |v|``.

    Forget-only variant (no D_r): the perturbation is the mean gradient over D_f itself, with
    no Hessian, as in the DELETE authors' code.

    Reference: github.com/shaaaaron/DELETE (commit 60018a1) ``method/wood_fisher.py``: the
    recursion ``woodfisher`` 44-67, the gradients and ``v`` 96-124, the forget-only branch
    (``perturb = ... if retain_data else forget_grad``) 126-131, ``apply_perturb(alpha *
    perturb)`` 135; its batch-1 random-order D_r loader ``main.py`` 408-412. The same
    recursion (from L-CODEC) is OPTML-Group/Unlearn-Saliency's ``Wfisher``.

    Args:
        alpha: step size, the method's knob (DELETE's ``main.py`` default 0.2; tune over
            [1e-2, 1e2]).
        num_samples: N of the recursion (D_r variant; 1000 in the original).
        max_batches: D_r batches for the mean D_r gradient (None: all, as the original).
        chunk: samples per vectorized per-sample-gradient call (memory: chunk x #params).
        **kwargs: see :class:`BaselineUnlearner`.
    """

    def __init__(self, *args, alpha: float = 1.0, num_samples: int = 1000,
                 max_batches: Optional[int] = None, chunk: int = 32, **kwargs):
        super().__init__(*args, **kwargs)
        self.alpha, self.num_samples = alpha, num_samples
        self.max_batches, self.chunk = max_batches, chunk

    def _mean_grad(self, loader, max_batches=None):
        """(mean gradient (d,), number of samples) of the mean cross-entropy over ``loader``."""
        total, count = None, 0
        for grads, n in self._batch_grads(self.iterate(loader, max_batches)):
            flat = torch.cat([g.flatten() for g in grads.values()]) * n
            total = flat if total is None else total + flat
            count += n
        return total / count, count

    def _sample_grads(self, loader, limit: int) -> Iterator[Tensor]:
        """(chunk, d) single-sample gradients of the first ``limit`` samples of ``loader``."""
        params = {k: p.detach() for k, p in self.trainable().items()}
        taken = 0
        for batch in self.iterate(loader):
            x = batch["inputs"][:limit - taken]
            labels = self.adapter.labels({k: v[:len(x)] for k, v in
                                          batch["data_samples"].items()})
            for s in range(0, len(x), self.chunk):
                grads = per_sample_grads(self.student, x[s:s + self.chunk],
                                         labels[s:s + self.chunk], params)
                yield torch.cat([g.flatten(1) for g in grads.values()], 1)
            taken += len(x)
            if taken >= limit:
                return

    @staticmethod
    def woodfisher(grads: Iterable[Tensor], v: Tensor, num_samples: int = 1000) -> Tensor:
        """The official WoodFisher recursion (see the class doc) applied to ``v``.

        Args:
            grads: single-sample gradients in order, as (M, d) chunks; the first N + 2 rows
                are used (the original loop's ``if idx > N: return``).
            v: (d,) vector.
            num_samples: N.

        Returns:
            (d,) the perturbation ``k``.
        """
        k, o, seen = v.clone(), None, 0
        for chunk in grads:
            for g in chunk[:num_samples + 2 - seen]:
                if o is None:
                    o = g.clone()
                else:
                    og = torch.dot(o, g)
                    k -= torch.dot(k, g) / (num_samples + og) * o
                    o *= num_samples / (num_samples + og)
                seen += 1
            if seen >= num_samples + 2:
                break
        return k

    def prepare(self, forget_loader) -> None:
        g_f, n_f = self._mean_grad(forget_loader)
        if self.uses_remaining_data:
            g_r, n_r = self._mean_grad(self.remain_dataloader, self.max_batches)
            v = n_f / (n_f + n_r) * (g_f - g_r)
            perturbation = self.woodfisher(
                self._sample_grads(self.remain_dataloader, self.num_samples + 2), v,
                self.num_samples)
        else:
            perturbation = g_f
        step = self.alpha * perturbation
        with torch.no_grad():
            offset = 0
            for p in self.trainable().values():
                p.add_(step[offset:offset + p.numel()].view_as(p))
                offset += p.numel()


@MODELS.register_module()
class SSD(_ScrubbingUnlearner):
    """Selective Synaptic Dampening (Foster et al., AAAI 2024): dampen the weights that matter
    far more to D_f than to the training data.

    Importance = mean over batches of the squared gradient of the batch's mean cross-entropy
    (model in eval mode): ``I_f`` over D_f batches, ``I_D`` over the training data as the
    official's unshuffled loader batches it: the class-sorted concatenation of D_r then D_f,
    so every batch holds one class except the few that straddle two. Where
    ``I_f > alpha I_D``: ``theta *= min(lambda I_D / I_f, 1)``; other weights are untouched.
    Uses D_r (``I_D`` cannot be had from D_f alone); no training.

    Because D_f's own batches are part of ``I_D``, ``I_D >= s I_f`` roughly, s the share of
    D_f batches (n_f / n): the rule can hardly fire when ``alpha >= 1 / s``. The official
    alpha 10 was chosen for CIFAR-100 / CIFAR-20 (s = 1/100, 1/20); on 10 classes (s = 1/10)
    alpha 10 selects (almost) no weight, and the knob must stay below ~K.

    Reference: github.com/if-loops/selective-synaptic-dampening (commit cdfdc0e):
    ``src/ssd.py`` ``calc_importance`` 151-180 and ``modify_weight`` 182-217;
    ``src/forget_full_class_main.py`` 152-157 (``full_train_dl`` = ``ConcatDataset((retain,
    forget))``, not shuffled; ``forget_train_dl`` not shuffled; batch ``-b``, 64) and 167-177
    (lambda 1, alpha 10, x0.5 for ViT); the class-sorted order from
    ``src/forget_full_class_strategies.py`` ``build_retain_forget_sets`` 35-63; the model in
    eval mode 676. Difference: the leftovers of each class (fewer than a batch) are batched
    together in class order at the end rather than at the class boundaries (same number of
    batches, the same all-one-class batches otherwise); within a class the samples keep the
    loaders' order. Tasks with per-pixel labels get the unsorted concatenation.

    Args:
        alpha: selection threshold (``selection_weighting``; official 10, 5 for ViT, 50 for
            PinsFaceRecognition; below ~K on K classes, see above).
        dampening: lambda (``dampening_constant``; official 1, 0.1 for PinsFaceRecognition).
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
        """The training data (D_r, then D_f) in class-sorted batches of the forget loader's
        batch size (see the class doc), streamed: at most one partial batch per class is
        held."""
        sources = [self.iterate(self.remain_dataloader, self.max_batches),
                   self.iterate(forget_loader)]
        size = getattr(forget_loader, "batch_size", None)
        buckets: Dict[int, List[dict]] = {}
        for batch in (b for source in sources for b in source):
            rows, labels = _rows(batch), self.adapter.labels(batch["data_samples"])
            size = size or len(labels)
            if labels.dim() != 1:  # per-pixel labels: no class to sort by
                yield batch
                continue
            for c in labels.unique().tolist():
                bucket = buckets.setdefault(c, [])
                bucket.append({k: v[labels == c] for k, v in rows.items()})
                while sum(len(r["inputs"]) for r in bucket) >= size:
                    yield _unrows(_take(bucket, size))
        forget = set(self.adapter.forget_ids)
        rest = [r for c in sorted(buckets, key=lambda c: (c in forget, c)) for r in buckets[c]]
        while rest:
            yield _unrows(_take(rest, size))

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


def _unrows(rows: dict) -> dict:
    rows = dict(rows)
    return {"inputs": rows.pop("inputs"), "data_samples": {k[3:]: v for k, v in rows.items()}}


def _take(parts: List[dict], size: int) -> dict:
    """Remove the first ``size`` rows (or all) from a list of row dicts and return them."""
    out, need = [], size
    while parts and need > 0:
        first = parts[0]
        n = len(first["inputs"])
        if n <= need:
            out.append(parts.pop(0))
            need -= n
        else:
            out.append({k: v[:need] for k, v in first.items()})
            parts[0] = {k: v[need:] for k, v in first.items()}
            need = 0
    return {k: torch.cat([o[k] for o in out]) for k in out[0]}
