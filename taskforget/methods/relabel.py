"""Relabelling baselines: Random Label, Amnesiac and MaGA train the forget data towards other
classes with cross-entropy."""
from typing import Dict, Optional, Sequence, Union

import numpy as np
import torch
from torch import Tensor

from taskforget.errors import ConfigError
from taskforget.registry import MODELS

from .common import BaselineUnlearner, cross_entropy, fixed_random_labels


@MODELS.register_module()
class RandomLabel(BaselineUnlearner):
    """Random Label (Golatkar et al. 2020; the DELETE paper's baseline): cross-entropy of the
    forget data to a random label drawn uniformly from **all** K classes (the true class
    included), once per sample (and pixel).

    Forget-set only; given ``remain_dataloader`` it adds cross-entropy on one D_r batch per step
    (the remaining-data variant). Paper lr 3e-4 (SGD, 20 epochs). Task-agnostic: the labels,
    valid positions and forgotten classes come from the adapter, so dense tasks relabel only
    the forgotten class's pixels.

    Official code: shaaaaron/DELETE ``method/random_label.py`` lines 12-24 (``noise_label``:
    ``torch.randint(0, num_classes)`` when ``approx_different``, the default of ``main.py``
    line 74) and lines 45-55 (drawn once for the whole forget set: ``fixed_noise_label``,
    default True, ``main.py`` line 73); OPTML-Group/Unlearn-Saliency
    ``Classification/unlearn/RL.py`` lines 53 and 125 also draw from all classes.

    Args:
        label_seed: seed of the random labels.
        labels_among_all: draw among all K classes (True, the published Random Label and SalUn)
            or among the remaining classes only (False, as Amnesiac); None: the class's own.
        **kwargs: see :class:`~taskforget.methods.common.BaselineUnlearner`.
    """

    # draw among all K classes (the published Random Label); False: the remaining classes
    labels_among_all = True

    def __init__(self, *args, label_seed: int = 0, labels_among_all: Optional[bool] = None,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.label_seed = label_seed
        if labels_among_all is not None:
            self.labels_among_all = labels_among_all

    def relabel(self, inputs: Tensor, data_samples: dict) -> Tensor:
        return fixed_random_labels(self.adapter.labels(data_samples), data_samples["uid"],
                                   self.adapter.forget_ids, self.adapter.num_classes,
                                   self.label_seed, among_all=self.labels_among_all)

    def unlearn_loss(self, inputs: Tensor, data_samples: dict) -> Dict[str, Tensor]:
        logits = self.student(inputs)
        losses = dict(loss_relabel=cross_entropy(logits, self.relabel(inputs, data_samples),
                                                 self.adapter.valid(data_samples)))
        if self.remain_beside_forget:
            losses["loss_remain"] = self.remain_ce()
        return losses


@MODELS.register_module()
class Amnesiac(RandomLabel):
    """Amnesiac unlearning (Graves et al. 2021), class-level form: D_f relabelled uniformly among
    the remaining classes (fixed once per sample), shuffled together with all of D_r into one
    dataset and trained with one cross-entropy; an epoch is one pass over that mix
    (``epoch_data = 'mix'``, one optimizer step per mixed batch).

    Uses D_r (its forget-only variant is :class:`RandomLabel`). Adam lr 1e-4, 3 epochs.

    Official code: lmgraves/AmnesiacML ``Unlearning Tester - CIFAR100.ipynb`` cell 7 (a copy of
    the whole training set whose target-class labels are ``random.choice`` of the other
    classes, one shuffled loader) and cell 32 (training on it); the setting of
    vikram2000b/bad-teaching-unlearning ``CIFARSuper20_Rocket_Unlearn.ipynb`` cells 21-23
    (relabelled forget set + retain set, shuffled, Adam 1e-4, 3 epochs).
    """

    requires_remaining_data = True
    labels_among_all = False
    epoch_data = "mix"

    def epoch_loss(self, inputs: Tensor, data_samples: dict) -> Dict[str, Tensor]:
        """Cross-entropy of a mixed batch: forgotten-class rows to their random labels, D_r
        rows to their own."""
        return dict(loss_amnesiac=cross_entropy(self.student(inputs),
                                                self.relabel(inputs, data_samples),
                                                self.adapter.valid(data_samples)))


@MODELS.register_module()
class MaGA(RandomLabel):
    """MaGA, machine-guided amnesiac (Xu et al.): perturbing labels from a class-similarity
    (transition) matrix and a positive/negative feature-noise pair.

    Per forget sample x of class k: ``R = T (I~_k p(x))`` with ``p(x)`` the original model's
    softmax and ``I~_k`` zeroing class k; the perturbing label is the class ranked
    ``floor(K tau)``-th (1 = largest) in R among the remaining classes. Noise batches are
    learned on the frozen original model before training (Adam ``noise_lr``): a positive one per
    perturbing class (minimize CE to that class) and a negative one per forgotten class
    (maximize CE to it), each plus ``noise_l2`` times the mean squared L2 norm of the noise
    rows. The sample trains on ``x + alpha N_pos + (1 - alpha) N_neg`` (a noise row fixed per
    sample) with cross-entropy to its perturbing label; with ``remain_dataloader`` (the
    original's setting, uses D_r) plus cross-entropy on one D_r batch per step.

    The paper gets T from a multimodal LLM. Here T is **supplied by the user** (``similarity``:
    a (K, K) nested list, or a path to a ``.npy``/``.txt`` matrix) **or estimated from the
    original model's confusions**: row k = the original model's mean softmax over the samples of
    class k it sees before training (D_f, plus ``estimate_batches`` D_r batches when remaining
    data is given). Rows of classes it saw no sample of (the remaining classes in the forget-only
    variant) take the symmetric entries of the estimated rows plus 1 on the diagonal; every row
    is then normalized to sum to 1.

    Classification only (one label per sample). Paper: tau 0.3, alpha 0.7, lr 3e-4, 3 epochs,
    noise lr 0.1, noise batch 256 per class.

    Args:
        similarity: the (K, K) transition matrix or a path to it; None estimates it.
        tau: rank fraction of the perturbing label.
        noise_alpha: weight of the positive noise.
        noise_size: noise rows per class.
        noise_steps: Adam steps per noise batch.
        noise_lr: Adam lr of the noise.
        noise_l2: weight of the mean squared L2 norm of the noise rows.
        estimate_batches: D_r batches used to estimate the matrix (remaining-data variant).
        **kwargs: see :class:`RandomLabel`.
    """

    def __init__(self, *args, similarity: Union[None, str, Sequence[Sequence[float]]] = None,
                 tau: float = 0.3, noise_alpha: float = 0.7, noise_size: int = 256,
                 noise_steps: int = 25, noise_lr: float = 0.1, noise_l2: float = 0.1,
                 estimate_batches: int = 20, **kwargs):
        super().__init__(*args, **kwargs)
        self.similarity = similarity
        self.tau, self.noise_alpha = tau, noise_alpha
        self.noise_size, self.noise_steps = noise_size, noise_steps
        self.noise_lr, self.noise_l2 = noise_lr, noise_l2
        self.estimate_batches = estimate_batches
        self.transition: Optional[Tensor] = None
        self.noise_pos: Dict[int, Tensor] = {}
        self.noise_neg: Dict[int, Tensor] = {}

    def prepare(self, forget_loader) -> None:
        batches = list(self.iterate(forget_loader))
        if self.adapter.labels(batches[0]["data_samples"]).dim() != 1:
            raise ConfigError("MaGA assigns one perturbing label per sample: classification "
                             "or face tasks only")
        k = self.adapter.num_classes
        if self.similarity is not None:
            matrix = self.similarity
            if isinstance(matrix, str):
                matrix = np.load(matrix) if matrix.endswith(".npy") else np.loadtxt(matrix)
            self.transition = torch.as_tensor(np.asarray(matrix, dtype=np.float32))
            if self.transition.shape != (k, k):
                raise ConfigError(f"similarity must be a ({k}, {k}) matrix, got "
                                 f"{tuple(self.transition.shape)}")
        else:
            seen = list(batches)
            if self.uses_remaining_data:
                seen += [self.remain_batch() for _ in range(self.estimate_batches)]
            self.transition = self.estimate_transition(seen)
        self.transition = self.transition / self.transition.sum(1, keepdim=True).clamp(min=1e-12)
        targets = set()
        for b in batches:
            targets.update(self.perturbing_labels(b["inputs"], b["data_samples"]).tolist())
        for c in sorted(targets):
            self._noise(c, 1.0, batches[0]["inputs"])
        for c in self.adapter.forget_ids:
            self._noise(c, -1.0, batches[0]["inputs"])

    @torch.no_grad()
    def estimate_transition(self, batches) -> Tensor:
        """(K, K) matrix of the original model's mean softmax per true class (see class doc)."""
        k = self.adapter.num_classes
        sums, counts = torch.zeros(k, k), torch.zeros(k)
        for b in batches:
            probs = torch.softmax(self.teacher(b["inputs"]).float(), 1).cpu()
            labels = self.adapter.labels(b["data_samples"]).cpu()
            sums.index_add_(0, labels, probs)
            counts += torch.bincount(labels, minlength=k).float()
        seen = counts > 0
        matrix = sums / counts.clamp(min=1)[:, None]
        fill = matrix.t() + torch.eye(k)
        return torch.where(seen[:, None], matrix, fill)

    @torch.no_grad()
    def perturbing_labels(self, inputs: Tensor, data_samples: dict) -> Tensor:
        """(N,) perturbing label of each sample (uses the cached teacher logits)."""
        labels = self.adapter.labels(data_samples)
        probs = torch.softmax(self.teacher_logits(inputs, data_samples), 1)
        probs = probs.scatter(1, labels[:, None], 0.0)
        scores = probs @ self.transition.to(probs).t()
        scores[:, list(self.adapter.forget_ids)] = -float("inf")
        candidates = self.adapter.num_classes - len(self.adapter.forget_ids)
        rank = min(max(int(np.floor(self.adapter.num_classes * self.tau)), 1), candidates) - 1
        return scores.argsort(1, descending=True)[:, rank]

    def _noise(self, label: int, sign: float, like: Tensor) -> Tensor:
        """The positive (sign 1) or negative (sign -1) noise batch of ``label``, learned on
        first use."""
        store = self.noise_pos if sign > 0 else self.noise_neg
        if label not in store:
            with torch.enable_grad():
                store[label] = self._learn_noise(like, label, sign)
        return store[label]

    def _learn_noise(self, like: Tensor, label: int, sign: float) -> Tensor:
        noise = torch.randn((self.noise_size, *like.shape[1:]), device=like.device)
        noise.requires_grad_(True)
        optimizer = torch.optim.Adam([noise], lr=self.noise_lr)
        target = torch.full((self.noise_size,), label, device=like.device)
        for _ in range(self.noise_steps):
            loss = sign * cross_entropy(self.teacher(noise), target) + \
                self.noise_l2 * noise.pow(2).flatten(1).sum(1).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return noise.detach()

    def unlearn_loss(self, inputs: Tensor, data_samples: dict) -> Dict[str, Tensor]:
        targets = self.perturbing_labels(inputs, data_samples)
        labels = self.adapter.labels(data_samples)
        row = torch.remainder(data_samples["uid"].long() * 2654435761, self.noise_size)
        pos = torch.stack([self._noise(int(t), 1.0, inputs)[int(r)]
                           for t, r in zip(targets, row)])
        neg = torch.stack([self._noise(int(y), -1.0, inputs)[int(r)]
                           for y, r in zip(labels, row)])
        noisy = inputs + self.noise_alpha * pos + (1 - self.noise_alpha) * neg
        losses = dict(loss_maga=cross_entropy(self.student(noisy), targets))
        if self.remain_beside_forget:
            losses["loss_remain"] = self.remain_ce()
        return losses
