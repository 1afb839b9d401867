"""Trigger recovery without knowing the trigger: Neural Cleanse and BAERASER.

Both work in pixel space on a small clean held-out set: ``images`` are (N, 3, H, W) floats in
[0, 1] and ``model`` maps such images to logits (wrap a network trained on normalized inputs in
:class:`Normalized`). Models are used in eval mode and never change.
"""
import math
from typing import Dict, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm import tqdm

from .poison import Trigger


class Normalized(nn.Module):
    """``network((x - mean) / std)`` for x in [0, 1]: (N, 3, H, W) -> (N, K)."""

    def __init__(self, network: nn.Module, mean: Sequence[float], std: Sequence[float]):
        super().__init__()
        self.network = network
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        return self.network((x - self.mean) / self.std)


def anomaly_index(norms: Sequence[float]) -> np.ndarray:
    """Neural Cleanse's MAD anomaly index ``|L1 - median| / (1.4826 MAD)`` of (K,) norms."""
    norms = np.asarray(norms, dtype=np.float64)
    median = np.median(norms)
    mad = 1.4826 * np.median(np.abs(norms - median))
    return np.abs(norms - median) / max(mad, 1e-12)


def flag_label(norms: Sequence[float], threshold: float = 2.0) -> Optional[int]:
    """The most anomalous label whose norm is below the median and whose index exceeds
    ``threshold``, or None (no backdoor detected)."""
    norms = np.asarray(norms, dtype=np.float64)
    index = anomaly_index(norms)
    candidates = np.flatnonzero((index > threshold) & (norms < np.median(norms)))
    return None if len(candidates) == 0 else int(candidates[np.argmax(index[candidates])])


def _batches(images: Tensor, batch_size: int, generator: torch.Generator):
    while True:
        for idx in torch.randperm(len(images), generator=generator).split(batch_size):
            yield images[idx]


@torch.no_grad()
def attack_success(model: nn.Module, images: Tensor, labels: Tensor, target: int, stamp,
                   batch_size: int = 256) -> float:
    """Fraction of ``images`` whose label is not ``target`` that ``stamp(x)`` sends to target."""
    keep = labels != target
    hits, total = 0, 0
    for x in images[keep].split(batch_size):
        hits += int((model(stamp(x)).argmax(1) == target).sum())
        total += len(x)
    return hits / max(total, 1)


def neural_cleanse(model: nn.Module, images: Tensor, num_classes: int, steps: int = 100,
                   batch_size: int = 64, lr: float = 0.1, init_cost: float = 1e-3,
                   asr_threshold: float = 0.99, patience: int = 5, cost_step: float = 1.5,
                   anomaly_threshold: float = 2.0, labels: Optional[Sequence[int]] = None,
                   init_mask: float = 0.02, seed: int = 0, progress: bool = True) -> Dict:
    """Neural Cleanse (Wang et al., S&P 2019): per label, the smallest mask that flips inputs.

    For each label t, optimizes ``m = (tanh(a) + 1) / 2`` (H, W) and ``p = (tanh(b) + 1) / 2``
    (H, W, 3) with Adam on ``CE(f((1 - m) x + m p), t) + lambda * |m|_1``; lambda starts at
    ``init_cost`` and is multiplied by ``cost_step`` after ``patience`` steps with batch ASR
    >= ``asr_threshold`` and divided by ``cost_step ** 1.5`` after ``patience`` steps below it.
    The smallest mask reaching the threshold is kept. The mask starts small (``init_mask``
    everywhere) and grows where it pays: with the short schedules a CPU allows this converges
    to small masks much faster than starting from 0.5.

    Args:
        model: pixel-space classifier (see :class:`Normalized`).
        images: (N, 3, H, W) clean held-out images in [0, 1].
        num_classes: K.
        labels: the labels to reverse-engineer (default all K).
        progress: show a progress bar over the labels (stderr).

    Returns:
        dict with ``masks`` (K, H, W), ``patterns`` (K, H, W, 3) numpy arrays, ``l1`` (K,),
        ``anomaly_index`` (K,), ``flagged`` (label id or None) and ``batch_asr`` (K,).
    """
    model.eval().requires_grad_(False)
    generator = torch.Generator().manual_seed(seed)
    h, w = images.shape[-2:]
    labels = list(range(num_classes)) if labels is None else list(labels)
    masks = np.zeros((num_classes, h, w), np.float32)
    patterns = np.zeros((num_classes, h, w, 3), np.float32)
    l1 = np.full(num_classes, np.inf)
    asrs = np.zeros(num_classes)
    for t in tqdm(labels, desc="neural cleanse", unit="label", disable=not progress):
        a = torch.full((1, 1, h, w), math.atanh(2 * init_mask - 1), requires_grad=True)
        b = (torch.rand(1, 3, h, w, generator=generator) * 2 - 1).requires_grad_(True)
        opt = torch.optim.Adam([a, b], lr=lr, betas=(0.5, 0.9))
        cost, up, down = init_cost, 0, 0
        best = None
        batches = _batches(images, batch_size, generator)
        for _ in range(steps):
            x = next(batches)
            m, p = (torch.tanh(a) + 1) / 2, (torch.tanh(b) + 1) / 2
            logits = model((1 - m) * x + m * p)
            target = torch.full((len(x),), t, dtype=torch.long)
            norm = m.sum()
            loss = F.cross_entropy(logits, target) + cost * norm
            opt.zero_grad()
            loss.backward()
            opt.step()
            asr = float((logits.argmax(1) == t).float().mean())
            if asr >= asr_threshold:
                up, down = up + 1, 0
                if best is None or float(norm.detach()) < best[0]:
                    best = (float(norm.detach()), m.detach().clone(), p.detach().clone(), asr)
            else:
                up, down = 0, down + 1
            if up >= patience:
                cost, up = cost * cost_step, 0
            elif down >= patience:
                cost, down = cost / cost_step ** 1.5, 0
        if best is None:
            best = (float(norm.detach()), m.detach(), p.detach(), asr)
        l1[t], asrs[t] = best[0], best[3]
        masks[t] = best[1][0, 0].numpy()
        patterns[t] = best[2][0].permute(1, 2, 0).numpy()
    chosen = l1[labels]
    index = np.zeros(num_classes)
    index[labels] = anomaly_index(chosen)
    flagged = flag_label(chosen, anomaly_threshold)
    return dict(masks=masks, patterns=patterns, l1=l1, anomaly_index=index, batch_asr=asrs,
                flagged=None if flagged is None else labels[flagged])


class TriggerGenerator(nn.Module):
    """BAERASER's generator: z (N, z_dim) in [0, 1] -> (N, 3, k, k) patch in [0, 1]
    (MLP: linear, batch norm, LeakyReLU 0.2, linear, sigmoid)."""

    def __init__(self, patch_size: int, z_dim: int = 64, hidden: int = 2048):
        super().__init__()
        self.patch_size, self.z_dim = patch_size, z_dim
        self.net = nn.Sequential(nn.Linear(z_dim, hidden), nn.BatchNorm1d(hidden),
                                 nn.LeakyReLU(0.2), nn.Linear(hidden, 3 * patch_size ** 2),
                                 nn.Sigmoid())

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z).view(-1, 3, self.patch_size, self.patch_size)


class MINE(nn.Module):
    """Statistics network T(z, g) of MINE (Belghazi et al. 2018)."""

    def __init__(self, z_dim: int, g_dim: int, hidden: int = 512):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(z_dim + g_dim, hidden), nn.ReLU(),
                                 nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, z: Tensor, g: Tensor) -> Tensor:
        return self.net(torch.cat([z, g.flatten(1)], 1))[:, 0]

    def mutual_information(self, z: Tensor, g: Tensor) -> Tensor:
        """Donsker-Varadhan lower bound of MI(z; g) on a batch (scalar)."""
        joint = self(z, g).mean()
        shuffled = self(z, g[torch.randperm(len(g), device=g.device)])
        return joint - (torch.logsumexp(shuffled, 0) - math.log(len(g)))


def paste(images: Tensor, patches: Tensor, generator: Optional[torch.Generator] = None) -> Tensor:
    """Paste (N, 3, k, k) patches at uniformly random positions of (N, 3, H, W) images
    (differentiable w.r.t. the patches)."""
    n, _, h, w = images.shape
    k = patches.shape[-1]
    ys = torch.randint(0, h - k + 1, (n,), generator=generator)
    xs = torch.randint(0, w - k + 1, (n,), generator=generator)
    out = images.clone()
    for i in range(n):
        out[i, :, ys[i]:ys[i] + k, xs[i]:xs[i] + k] = patches[i]
    return out


def baeraser_recover(model: nn.Module, images: Tensor, target: int, patch_size: int,
                     epochs: int = 10, batch_size: int = 128, beta: float = 0.5,
                     alpha: float = 0.1, lr: float = 2e-4, z_dim: int = 64, hidden: int = 2048,
                     bank_size: int = 256, seed: int = 0, labels: Optional[Tensor] = None,
                     progress: bool = True) -> Dict:
    """BAERASER's generative max-entropy trigger recovery (Liu et al., INFOCOM 2022).

    A generator G maps noise z ~ U[0, 1]^z_dim to k x k patches pasted at random positions;
    it minimizes ``-mean(min(p_target(x + G(z)), beta)) - alpha * MI(z; G(z))``, the capped
    success term leaving room for the entropy (MI, estimated by a MINE network trained
    alongside) so that G models the trigger distribution rather than one adversarial patch.
    Adam (lr, betas (0.5, 0.999)) for both networks.

    Args:
        model: pixel-space classifier (see :class:`Normalized`).
        images: (N, 3, H, W) clean held-out images in [0, 1].
        target: the label whose trigger is recovered.
        patch_size: side k of the generated patches.
        labels: (N,) true labels of ``images`` to report the recovered trigger's ASR on
            non-target images (optional).
        progress: show a progress bar over the training steps (stderr).

    Returns:
        dict with ``trigger`` (a :class:`Trigger` bank of ``bank_size`` generated patches at
        random positions), ``asr`` (on ``images``, or None without labels), ``mi`` (last MI
        estimate), ``loss`` (last generator loss).
    """
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model.eval().requires_grad_(False)
    g_net = TriggerGenerator(patch_size, z_dim, hidden)
    mine = MINE(z_dim, 3 * patch_size ** 2)
    opt_g = torch.optim.Adam(g_net.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_t = torch.optim.Adam(mine.parameters(), lr=lr, betas=(0.5, 0.999))
    steps = epochs * math.ceil(len(images) / batch_size)
    batches = _batches(images, batch_size, generator)
    mi = loss = torch.zeros(())
    for _ in tqdm(range(steps), desc="BAERASER generator", unit="step", mininterval=2.0,
                  disable=not progress):
        x = next(batches)
        z = torch.rand(len(x), z_dim, generator=generator)
        g = g_net(z)
        mi_t = mine.mutual_information(z, g.detach())
        opt_t.zero_grad()
        (-mi_t).backward()
        opt_t.step()
        p = model(paste(x, g, generator)).softmax(1)[:, target]
        mi = mine.mutual_information(z, g)
        loss = -p.clamp(max=beta).mean() - alpha * mi
        opt_g.zero_grad()
        loss.backward()
        opt_g.step()
    g_net.eval()
    with torch.no_grad():
        bank = g_net(torch.rand(bank_size, z_dim, generator=generator))
    trigger = Trigger(np.ones((bank_size, patch_size, patch_size)),
                      bank.permute(0, 2, 3, 1).numpy(), random_position=True)
    asr = None
    if labels is not None:
        def stamp(x):
            pick = torch.randint(0, bank_size, (len(x),), generator=generator)
            return paste(x, bank[pick], generator)
        asr = attack_success(model, images, labels, target, stamp)
    return dict(trigger=trigger, asr=asr, mi=float(mi), loss=float(loss))


def nc_trigger(result: Dict, label: int, shift: bool = False) -> Trigger:
    """The Neural Cleanse mask and pattern of ``label`` as a :class:`Trigger`: applied in place,
    or (``shift``) shifted cyclically by a random offset per stamped image."""
    return Trigger(result["masks"][label][None], result["patterns"][label][None],
                   random_position=shift)


def nc_asr(model: nn.Module, images: Tensor, labels: Tensor, result: Dict, label: int) -> float:
    """ASR of a Neural Cleanse trigger on the non-``label`` images."""
    m = torch.from_numpy(result["masks"][label])[None, None]
    p = torch.from_numpy(result["patterns"][label]).permute(2, 0, 1)[None]
    return attack_success(model, images, labels, label, lambda x: (1 - m) * x + m * p)
