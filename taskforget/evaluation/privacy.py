"""Per-example forgetting quality: the score of the NeurIPS 2023 machine-unlearning challenge.

Implemented from its public description (Triantafillou et al. 2024, "Are we making progress in
unlearning? Findings from the first NeurIPS unlearning competition", and the challenge's
evaluation page). For every forget example ``x``, N unlearned models and N retrained models
give two samples of the *logit-scaled confidence* ``log p_y(x) - log(1 - p_y(x))``. A family of
threshold attacks tries to tell the two samples apart; each attack has a false-positive and a
false-negative rate, and yields

    eps(attack) = max(log((1 - delta - FPR) / FNR), log((1 - delta - FNR) / FPR))

(an (eps, delta)-indistinguishability bound). ``eps_x`` is the largest over the attacks, and
the example scores ``H(eps_x) = 2 / 2^n`` when ``eps_x`` lies in the n-th bin of width 0.5
(n = 1, 2, ...), 0 beyond the last bin. The forgetting quality is the mean of H over the
examples: 1 = no attack tells unlearned from retrained models apart, 0 = every example is
perfectly separated. The challenge's final score multiplies it by the utility ratios
(:func:`final_score`).

**Resolution.** With N models per side, rates are multiples of 1/N, so the largest *finite*
epsilon an attack can show is ``log((1 - delta - 1/N) / (1/N)) ~ log(N - 1)``
(:func:`max_finite_epsilon`: 1.95 for N = 8, 6.24 for N = 512); stronger separation is
"perfect" (both rates 0) and is scored as :data:`EPSILON_CAP`. The bins stop at
``ceil(log(N - 1))`` (2.0 for N = 8: bins [0, .5), [.5, 1), [1, 1.5), [1.5, 2) worth 1, 1/2,
1/4, 1/8).

**Bias, measured.** The estimator takes the largest epsilon over hundreds of attacks, and the
tails of 2N samples hold few models, so chance ratios such as 3 : 1 at the tail give eps about
log 3 even for two samples of *one* distribution: their score is about 0.2 at N = 8, 64 and 256
alike (median eps 1.4-1.6; tests/test_audit.py pins it), not 1. A score means something beside
:func:`null_score`, the same estimator on the pooled models shuffled between the two sides
(what a perfect unlearner scores with these samples), and between methods at the same N.

Simplifications against the challenge's code, stated: thresholds are placed at the observed
confidences (every distinct pair of rates, exactly) instead of on a 0.01 grid; the
two-threshold family keeps intervals whose width is within ``INTERVAL_SLACK`` of the peakier
sample's range, measured on the interval tightened to the samples it contains.
"""
import math
from typing import Dict, Optional

import numpy as np

DELTA = 1e-5
EPSILON_CAP = 50.0
BIN_WIDTH = 0.5
# A sample whose range is below 1 % of the other's is "peaky": epsilon is set to the cap.
PEAKY_RATIO = 0.01
# Two-threshold attacks: interval widths within this of the peakier sample's range.
INTERVAL_SLACK = 2.0
# log(1e-45): the logit-scaled confidence is kept within +-103.6 (as log(p + 1e-45) would).
CONFIDENCE_LIMIT = 45 * math.log(10)


def logit_scaled_confidence(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``log p_y - log(1 - p_y) = z_y - logsumexp_{j != y} z_j``, computed stably.

    Args:
        logits: (..., K) logits.
        labels: (...) true class ids.

    Returns:
        (...) float64 confidences, clipped to +-:data:`CONFIDENCE_LIMIT`.
    """
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)[..., None]
    true = np.take_along_axis(z, y, axis=-1)[..., 0]
    others = z.copy()
    np.put_along_axis(others, y, -np.inf, axis=-1)
    top = others.max(axis=-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rest = np.log(np.exp(others - top).sum(axis=-1)) + top[..., 0]
        conf = true - rest
    conf = np.where(np.isnan(conf), 0.0, conf)
    return np.clip(conf, -CONFIDENCE_LIMIT, CONFIDENCE_LIMIT)


def max_finite_epsilon(n_models: int, delta: float = DELTA) -> float:
    """The largest finite epsilon N samples per side can show: both rates at 1/N."""
    return math.log((1 - delta - 1 / n_models) * n_models)


def score_bins(n_models: int):
    """Lower edges of the score's bins and the points of each: ``[(0.0, 1.0), (0.5, 0.5),
    ...]`` up to ``ceil(log(N - 1))``."""
    top = math.ceil(math.log(n_models - 1))
    edges = np.arange(0.0, top, BIN_WIDTH)
    return [(float(e), 2.0 / 2 ** (i + 1)) for i, e in enumerate(edges) if e + BIN_WIDTH <= top]


def _counts_at_or_above(sorted_values: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    return len(sorted_values) - np.searchsorted(sorted_values, thresholds, side="left")


def _single_threshold_rates(pos: np.ndarray, neg: np.ndarray):
    """(FPR, FNR) of "positive when c >= t" at every distinct t (and above all values)."""
    thresholds = np.append(np.unique(np.concatenate([pos, neg])), np.inf)
    tpr = _counts_at_or_above(np.sort(pos), thresholds) / len(pos)
    fpr = _counts_at_or_above(np.sort(neg), thresholds) / len(neg)
    return fpr, 1.0 - tpr


def _interval_rates(pos: np.ndarray, neg: np.ndarray):
    """(FPR, FNR) of "positive when l <= c <= r", positive = the peakier sample, for intervals
    between observed values whose width is within :data:`INTERVAL_SLACK` of its range."""
    if np.ptp(pos) > np.ptp(neg):
        pos, neg = neg, pos
    width = np.ptp(pos)
    values = np.unique(np.concatenate([pos, neg]))
    left, right = values[:, None], values[None, :]
    keep = (right >= left) & (np.abs((right - left) - width) <= INTERVAL_SLACK)
    lo, hi = np.broadcast_to(left, keep.shape)[keep], np.broadcast_to(right, keep.shape)[keep]

    def inside(sample):
        s = np.sort(sample)
        return (np.searchsorted(s, hi, side="right") - np.searchsorted(s, lo, side="left")) \
            / len(sample)

    return inside(neg), 1.0 - inside(pos)


def _epsilon_of_rates(fpr: np.ndarray, fnr: np.ndarray, delta: float) -> Optional[float]:
    """Largest epsilon over attacks; rates with exactly one zero are dropped (too few samples
    to tell), both zero = perfect separation (inf). None when no attack is left."""
    perfect = (fpr == 0) & (fnr == 0)
    if perfect.any():
        return math.inf
    usable = (fpr > 0) & (fnr > 0)
    if not usable.any():
        return None
    fpr, fnr = fpr[usable], fnr[usable]
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.log(np.clip(1 - delta - fpr, 0, None)) - np.log(fnr)
        b = np.log(np.clip(1 - delta - fnr, 0, None)) - np.log(fpr)
    return float(max(np.max(np.maximum(a, b)), 0.0))


def example_epsilon(unlearned: np.ndarray, retrained: np.ndarray,
                    delta: float = DELTA) -> float:
    """Epsilon of one example from its confidences under N unlearned and N retrained models.

    Args:
        unlearned, retrained: (N,) logit-scaled confidences.

    Returns:
        Epsilon in [0, :data:`EPSILON_CAP`].
    """
    u, r = np.asarray(unlearned, dtype=np.float64), np.asarray(retrained, dtype=np.float64)
    pos, neg = (r, u) if np.median(r) > np.median(u) else (u, r)
    spreads = sorted((np.ptp(pos), np.ptp(neg)))
    if spreads[1] > 0 and spreads[0] / spreads[1] < PEAKY_RATIO:
        return EPSILON_CAP
    rates = [_single_threshold_rates(pos, neg), _interval_rates(pos, neg)]
    fpr = np.concatenate([f for f, _ in rates])
    fnr = np.concatenate([f for _, f in rates])
    eps = _epsilon_of_rates(fpr, fnr, delta)
    return 0.0 if eps is None else float(min(eps, EPSILON_CAP))


def example_score(epsilon: float, n_models: int) -> float:
    """H(eps) = 2 / 2^n for eps in the n-th bin (width 0.5, n = 1, 2, ...), 0 past the last."""
    for edge, points in score_bins(n_models):
        if epsilon < edge + BIN_WIDTH:
            return points
    return 0.0


def forgetting_quality(unlearned_confs: np.ndarray, retrained_confs: np.ndarray,
                       delta: float = DELTA) -> Dict[str, object]:
    """The challenge's forgetting-quality score from per-model, per-example confidences.

    Args:
        unlearned_confs: (N, E) logit-scaled confidences of E forget examples under N
            unlearned models (:func:`logit_scaled_confidence`).
        retrained_confs: (N, E) the same under N retrained models.
        delta: the delta of (eps, delta).

    Returns:
        ``dict(score, epsilons (E,), example_scores (E,), n_models, max_finite_epsilon, bins,
        delta)``; ``score`` in [0, 1], 1 = indistinguishable from retraining.

    Raises:
        ValueError: shapes differ, or N < 3 (the bins need log(N - 1) >= 0.5).
    """
    u, r = np.asarray(unlearned_confs, np.float64), np.asarray(retrained_confs, np.float64)
    if u.ndim != 2 or u.shape != r.shape:
        raise ValueError(f"confidences must be two (N models, E examples) arrays of one shape, "
                         f"got {u.shape} and {r.shape}")
    n = u.shape[0]
    if n < 3:
        raise ValueError(f"the score needs at least 3 models per side, got {n}")
    eps = np.array([example_epsilon(u[:, i], r[:, i], delta) for i in range(u.shape[1])])
    scores = np.array([example_score(e, n) for e in eps])
    return dict(score=float(scores.mean()), epsilons=eps, example_scores=scores, n_models=n,
                max_finite_epsilon=max_finite_epsilon(n, delta), bins=score_bins(n),
                delta=delta)


def null_score(unlearned_confs: np.ndarray, retrained_confs: np.ndarray,
               permutations: int = 5, seed: int = 0, delta: float = DELTA) -> float:
    """The score when the two sides are exchangeable: :func:`forgetting_quality` of the pooled
    2N models split at random into two groups of N, averaged over ``permutations`` splits.
    About what a perfect unlearner scores with samples of this size."""
    pooled = np.concatenate([np.asarray(unlearned_confs, np.float64),
                             np.asarray(retrained_confs, np.float64)])
    n, rng = len(pooled) // 2, np.random.default_rng(seed)
    scores = []
    for _ in range(permutations):
        order = rng.permutation(len(pooled))
        scores.append(forgetting_quality(pooled[order[:n]], pooled[order[n:]], delta)["score"])
    return float(np.mean(scores))


def final_score(forget_quality: float, retain_acc_unlearned: float, retain_acc_retrained: float,
                test_acc_unlearned: float, test_acc_retrained: float) -> float:
    """The challenge's utility-adjusted score: ``F * (RA_U / RA_R) * (TA_U / TA_R)`` (mean
    retain and test accuracies of the unlearned and the retrained models)."""
    return forget_quality * (retain_acc_unlearned / retain_acc_retrained) * (
        test_acc_unlearned / test_acc_retrained)
