"""A forgetting audit: the evidence that a class is gone, each part beside the retrain model.

    record = audit(model, forget_classes=[0], train_data=train, test_data=test,
                   retrain=retrain_model, original=original_model)
    record["verdict"]["text"]   # 'indistinguishable from retrain' or 'differs from retrain by ...'

Parts (classification; every number is also computed for the retrain and original models):

- **accuracy**: Acc_f, Acc_r, Acc_ft, Acc_rt, H-Mean (vs the original) and the confidence-SVC
  MIA, all from :class:`~taskforget.evaluation.UnlearningMetric` (DESIGN §4).
- **membership inference**: the SVC above (``MIA`` = % of D_f called member, DELETE's
  convention, lower is better; ``MIA_efficacy`` = 100 - MIA, SalUn's) and a *loss attack*:
  score = log p_y (minus the cross-entropy; higher = more member-like). Calibrated on the
  remaining data as DESIGN §4 does: members = a seeded sample of remaining-class training
  images of the size of the remaining test set, non-members = remaining-class test images
  (``calib_AUC``, ``calib_TPR@1%FPR``: the attack's strength on this model); ``member_rate``:
  % of D_f above the threshold that calls 1 % of those non-members member. ``forget_AUC`` and
  ``forget_TPR@1%FPR``: D_f (forget-class training images) against D_ft (forget-class test
  images, never trained on): 0.5 = the forget training images look unseen. ROC from
  ``sklearn.metrics.roc_curve`` / ``roc_auc_score``.
- **relearn attack**: a copy fine-tuned on k forget training images (the same seeded images
  for every model; k = 10 and 100), SGD lr 0.01 momentum 0.9, batch min(k, 32), network in
  eval mode (batch-norm statistics and dropout frozen), cross-entropy; Acc_ft after 0, 5, 10
  and 25 steps, and the % of as many remaining-class test images it then calls the
  forgotten class (a copy that predicts it everywhere recovers nothing). A class hidden
  only at the head comes back in a few steps; the retrain model shows how fast the class is
  learnt from features that never saw it.
- **feature probes** on frozen penultimate features of test images (network contract,
  :mod:`taskforget.network`): the linear probe (:func:`~taskforget.evaluation.probe.
  linear_probe`) and a kNN probe (:func:`~taskforget.evaluation.probe.knn_probe`);
  forget-class recall.
- **where the class went**: % of D_ft predicted as each class.
- **t-SNE** of penultimate features of a small fixed subset of test images.
- **verdict** against :class:`Tolerances`.

Segmentation: accuracies become IoU_ft / IoU_rt / mIoU and "where the class went" is the
forgotten class's row of the pixel confusion matrix (``forget_as/<class>``); the other parts
are classification-only (no pixel-level membership or relearn protocol is defined here).
"""
import copy
import math
from dataclasses import asdict, dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from torch import nn

from taskforget.datasets import resolve_forget_classes
from taskforget.datasets.user_data import as_batches, class_names_of, first_batch
from taskforget.errors import ConfigError
from taskforget.evaluation.metrics import MIA_CONVENTION, UnlearningMetric, h_mean
from taskforget.evaluation.probe import knn_probe, linear_probe
from taskforget.network import NetworkContractError, as_contract

RELEARN_K = (10, 100)
RELEARN_STEPS = (0, 5, 10, 25)
RELEARN_LR = 0.01
RELEARN_BATCH = 32
TARGET_FPR = 0.01
# the stored ROC curve's largest deviation from the full one (FPR/TPR units, before rounding to
# 4 decimals): under a pixel of the report's figure (axes ~380 px wide at 110 dpi)
ROC_TOLERANCE = 2e-3
LOG_PROB_FLOOR = -1e4  # log p_y of a class the model can never predict (-inf), kept finite
TEST_UID_OFFSET = 1 << 32
ORDER = ("original", "retrain", "model")  # t-SNE panels, left to right


@dataclass(frozen=True)
class Tolerances:
    """How far from the retrain model a number may be for the verdict "indistinguishable".

    Attributes:
        acc_ft: Acc_ft (IoU_ft for segmentation), percentage points.
        mia_auc: the loss attack's forget AUC (D_f vs D_ft).
        relearn_acc_ft: Acc_ft after the relearn attack's largest k and step budget, points.
        probe_recall: forget-class recall of the linear and of the kNN probe, points.
        confusion_row: segmentation: total-variation distance between the forgotten class's
            confusion rows (half the sum of absolute differences), points.
    """

    acc_ft: float = 2.0
    mia_auc: float = 0.05
    relearn_acc_ft: float = 5.0
    probe_recall: float = 5.0
    confusion_row: float = 5.0

    def describe(self, task: str = "classification") -> str:
        """The tolerances in words, e.g. for a table's note."""
        if task == "segmentation":
            return (f"IoU_ft {self.acc_ft:g} points, the forgotten class's confusion row "
                    f"{self.confusion_row:g} points (total variation)")
        return (f"Acc_ft {self.acc_ft:g} points, loss-attack AUC {self.mia_auc:g}, relearn "
                f"Acc_ft {self.relearn_acc_ft:g} points, each probe recall "
                f"{self.probe_recall:g} points")


# ---- pure maths ----------------------------------------------------------------------------
def roc_summary(member_scores: np.ndarray, nonmember_scores: np.ndarray,
                target_fpr: float = TARGET_FPR) -> Dict[str, object]:
    """ROC of a score that should be higher for members.

    Args:
        member_scores: (M,) scores of members (positives).
        nonmember_scores: (M',) scores of non-members.
        target_fpr: the FPR at which the TPR is read.

    Returns:
        ``dict(AUC, TPR, fpr (P,), tpr (P,))``: ROC AUC and the largest TPR at FPR <=
        target_fpr, both on the full curve, and the curve to draw, rounded to 4 decimals:
        every threshold's point lies within :data:`ROC_TOLERANCE` (+ 1e-4) of its polyline
        (:func:`simplify_polyline`), which keeps the audit records in the committed ledgers
        small.
    """
    from sklearn.metrics import roc_auc_score, roc_curve
    scores = np.concatenate([member_scores, nonmember_scores]).astype(np.float64)
    truth = np.concatenate([np.ones(len(member_scores)), np.zeros(len(nonmember_scores))])
    fpr, tpr, _ = roc_curve(truth, scores, drop_intermediate=False)
    kept = simplify_polyline(fpr, tpr, ROC_TOLERANCE)
    return dict(AUC=float(roc_auc_score(truth, scores)),
                TPR=float(tpr[fpr <= target_fpr + 1e-12].max()), fpr=fpr[kept].round(4),
                tpr=tpr[kept].round(4))


def simplify_polyline(x: np.ndarray, y: np.ndarray, tolerance: float) -> np.ndarray:
    """Indices of the points of the polyline (x, y) that Ramer-Douglas-Peucker keeps: every
    dropped point lies within ``tolerance`` of the polyline through the kept ones (first and
    last always kept).

    Args:
        x, y: (P,) coordinates.
        tolerance: the largest distance of a dropped point to the kept polyline.

    Returns:
        (Q,) increasing indices, Q <= P.
    """
    points = np.column_stack([x, y]).astype(np.float64)
    keep = np.zeros(len(points), dtype=bool)
    keep[[0, -1]] = True
    spans = [(0, len(points) - 1)]
    while spans:
        first, last = spans.pop()
        if last - first < 2:
            continue
        start, step = points[first], points[last] - points[first]
        inner = points[first + 1:last]
        length2 = float(step @ step)
        t = np.clip((inner - start) @ step / length2, 0, 1) if length2 else np.zeros(len(inner))
        distance = np.linalg.norm(inner - (start + t[:, None] * step), axis=1)
        farthest = int(distance.argmax())
        if distance[farthest] > tolerance:
            middle = first + 1 + farthest
            keep[middle] = True
            spans += [(first, middle), (middle, last)]
    return np.flatnonzero(keep)


def calibrated_member_rate(target_scores: np.ndarray, nonmember_scores: np.ndarray,
                           target_fpr: float = TARGET_FPR) -> float:
    """% of targets above the threshold that calls at most ``target_fpr`` of the calibration
    non-members "member" (score strictly above it)."""
    ranked = np.sort(np.asarray(nonmember_scores, dtype=np.float64))[::-1]
    allowed = int(math.floor(target_fpr * len(ranked)))
    threshold = ranked[min(allowed, len(ranked) - 1)]
    return 100.0 * float((np.asarray(target_scores) > threshold).mean())


def log_prob_true(logits: torch.Tensor, labels: torch.Tensor) -> np.ndarray:
    """(N,) log p_y in float64 (minus the cross-entropy), floored at :data:`LOG_PROB_FLOOR`."""
    logp = torch.log_softmax(logits.double(), dim=1).gather(1, labels.long()[:, None])[:, 0]
    return logp.clamp_min(LOG_PROB_FLOOR).nan_to_num(LOG_PROB_FLOOR).numpy()


def total_variation(p: Sequence[float], q: Sequence[float]) -> float:
    """Half the L1 distance of two distributions given in %."""
    return 0.5 * float(np.abs(np.asarray(p, float) - np.asarray(q, float)).sum())


# ---- model passes ----------------------------------------------------------------------------
def _device(device: Optional[str]) -> torch.device:
    return torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))


def _on(network: nn.Module, device: torch.device) -> nn.Module:
    if all(p.device == device for p in network.parameters()):
        return network
    return copy.deepcopy(network).to(device)


@torch.no_grad()
def loader_outputs(network: nn.Module, loader, device="cpu", forget_ids=(),
                   keep_inputs: bool = False) -> dict:
    """One pass over ``loader`` (batches of ``inputs`` and ``data_samples['label']``), the
    network in eval mode: (N, K) ``logits``, (N, D) penultimate ``features`` (None without the
    network contract), (N,) ``labels``; with ``keep_inputs`` the images of ``forget_ids``
    (``forget_inputs``)."""
    try:
        contract = as_contract(network, "the audit's probes")
    except NetworkContractError:
        contract = None
    mode = network.training
    network.eval()
    logits, feats, labels, kept = [], [], [], []
    try:
        for batch in loader:
            x, y = batch["inputs"].to(device), batch["data_samples"]["label"]
            if contract is not None:
                f, z = contract.features_and_logits(x)
                feats.append(f.flatten(1).float().cpu())
            else:
                z = network(x)
            logits.append(z.float().cpu())
            labels.append(y)
            if keep_inputs:
                kept.append(x[torch.isin(y.to(device), torch.tensor(forget_ids,
                                                                    device=device))].cpu())
    finally:
        network.train(mode)
    return dict(logits=torch.cat(logits), labels=torch.cat(labels).long(),
                features=torch.cat(feats).numpy() if feats else None,
                forget_inputs=torch.cat(kept) if keep_inputs else None)


def _predict(network: nn.Module, images: torch.Tensor, device, batch_size: int = 256):
    with torch.no_grad():
        return torch.cat([network(chunk.to(device)).argmax(1).cpu()
                          for chunk in images.split(batch_size)])


def relearn_attack(network: nn.Module, images: torch.Tensor, labels: torch.Tensor,
                   eval_images: torch.Tensor, eval_labels: torch.Tensor,
                   steps: Sequence[int] = RELEARN_STEPS, lr: float = RELEARN_LR,
                   batch_size: int = RELEARN_BATCH, seed: int = 0,
                   device: Optional[str] = None,
                   other_images: Optional[torch.Tensor] = None) -> Dict[str, List[float]]:
    """Fine-tune a copy of ``network`` on a few forget images and track Acc_ft.

    SGD (momentum 0.9, no weight decay) on cross-entropy, batches of ``min(batch_size, k)``
    drawn in a seeded order, network in eval mode (normalization statistics and dropout
    frozen; every parameter trained). ``network`` is left untouched.

    Args:
        images: (k, C, H, W) forget training images the attacker holds; labels: (k,).
        eval_images: (F, C, H, W) forget-class test images; eval_labels: (F,).
        steps: step budgets at which Acc_ft is read (0 = before any step).
        other_images: (R, C, H, W) remaining-class test images: how many of them the attacked
            copy calls a relearnt class (a copy that predicts that class everywhere has
            Acc_ft 100 and says nothing about the features).

    Returns:
        ``dict(Acc_ft=[...], remain_as_forget=[...])``: Acc_ft (%) and % of ``other_images``
        predicted as one of ``labels``' classes (empty without them) after each budget of
        ``steps``, in that order.
    """
    device = _device(device)
    net = copy.deepcopy(network).to(device).eval().requires_grad_(True)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
    generator = torch.Generator().manual_seed(seed)
    k, batch = len(images), min(batch_size, len(images))
    order: List[int] = []

    classes = torch.unique(labels)

    def read() -> tuple:
        acc = 100.0 * float((_predict(net, eval_images, device) == eval_labels).float().mean())
        if other_images is None:
            return acc, None
        return acc, 100.0 * float(torch.isin(_predict(net, other_images, device),
                                             classes).float().mean())

    readings = {0: read()} if 0 in steps else {}
    for step in range(1, max(steps) + 1):
        if len(order) < batch:
            order += torch.randperm(k, generator=generator).tolist()
        idx, order = order[:batch], order[batch:]
        loss = nn.functional.cross_entropy(net(images[idx].to(device)),
                                           labels[idx].to(device))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step in steps:
            readings[step] = read()
    return dict(Acc_ft=[readings[s][0] for s in steps],
                remain_as_forget=[] if other_images is None else [readings[s][1] for s in steps])


def _remaining_images(test_data, remaining: np.ndarray, count: int,
                      seed: int) -> Optional[torch.Tensor]:
    """Up to ``count`` seeded remaining-class test images (None for a DataLoader, which
    cannot be indexed)."""
    if isinstance(test_data, torch.utils.data.DataLoader):
        return None
    from taskforget.datasets.user_data import split_item
    chosen = np.random.default_rng(seed).permutation(remaining)[:count]
    return torch.stack([split_item(test_data[int(i)], f"test item {i}")[0] for i in chosen])


def per_class_accuracy(labels: np.ndarray, preds: np.ndarray, num_classes: int) -> list:
    """(K,) % of each class's images predicted as that class (None for a class without
    images): which classes paid for the forgetting, beside the retrain model."""
    return [100.0 * float(np.mean(preds[labels == k] == k)) if (labels == k).any() else None
            for k in range(num_classes)]


def _per_class_subset(labels: np.ndarray, per_class: Optional[int], seed: int) -> np.ndarray:
    if per_class is None:
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    return np.sort(np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:per_class]
                                   for c in np.unique(labels)]))


def _tsne(features: np.ndarray, seed: int) -> np.ndarray:
    from sklearn.manifold import TSNE
    return TSNE(n_components=2, init="pca", random_state=seed,
                perplexity=float(min(30.0, (len(features) - 1) / 3))).fit_transform(features)


# ---- the audit ------------------------------------------------------------------------------
def audit(model: nn.Module, forget_classes, train_data, test_data,
          retrain: Optional[nn.Module] = None, original: Optional[nn.Module] = None, *,
          class_names: Optional[Sequence[str]] = None, tolerances: Tolerances = Tolerances(),
          relearn_k: Sequence[int] = RELEARN_K, relearn_steps: Sequence[int] = RELEARN_STEPS,
          relearn_lr: float = RELEARN_LR, probe_per_class: Optional[int] = 200,
          knn_neighbors: int = 10, tsne_per_class: Optional[int] = 50, batch_size: int = 256,
          device: Optional[str] = None, seed: int = 0, progress: bool = True) -> dict:
    """Audit ``model``'s forgetting of ``forget_classes``, beside ``retrain`` and ``original``.

    Args:
        model: the network to audit (``forward(x)`` -> (N, K) or (N, K, H, W) logits). Left
            untouched, like the other two.
        forget_classes: class ids, or names when class names are known.
        train_data, test_data: training and test images of every class with test-time
            transforms: datasets or DataLoaders as for :func:`taskforget.unlearn`.
        retrain: the model retrained without the forget classes (the gold standard); None:
            no verdict.
        original: the model before unlearning (H-Mean, the original row and t-SNE panel).
        class_names: names of the K classes (default: the data's ``classes``, else '0'..).
        tolerances: the verdict's per-criterion tolerances.
        relearn_k: numbers of forget training images the relearn attacker holds (capped at
            what the data has; the k actually used are recorded).
        relearn_steps: step budgets at which Acc_ft is read.
        relearn_lr: the attack's SGD learning rate.
        probe_per_class: test images per class for the probes (None: all).
        knn_neighbors: k of the kNN probe.
        tsne_per_class: test images per class in the t-SNE (None: skip the t-SNE).
        batch_size: of the loaders built around datasets.
        device: where to run (default: 'cuda' when available, else 'cpu').
        seed: seeds every draw (MIA member sample, relearn images and order, probe folds,
            subsets, t-SNE).
        progress: show a progress bar of the parts.

    Returns:
        A JSON-ready record: ``task``, ``class_names``, ``forget_ids``, ``models`` (per model
        name: ``metrics``, ``mia``, ``relearn``, ``probe``, ``where``), ``relearn_k``,
        ``relearn_steps``, ``roc`` and ``tsne`` (figure data), ``verdict`` (``text``,
        ``indistinguishable``, ``criteria``), ``tolerances``, ``settings``, ``notes``.

    Raises:
        ConfigError: bad classes, no forget-class image in either split.
    """
    from tqdm import tqdm

    device = _device(device)
    loaders = dict(train=as_batches(train_data, "train_data", is_train=True,
                                    batch_size=batch_size),
                   test=as_batches(test_data, "test_data", is_train=False,
                                   batch_size=batch_size, uid_offset=TEST_UID_OFFSET))
    models = {name: m for name, m in (("model", model), ("retrain", retrain),
                                      ("original", original)) if m is not None}
    labels = first_batch(loaders["test"])["data_samples"]["label"]
    if labels.dim() == 3:
        return _audit_segmentation(models, forget_classes, train_data, test_data, class_names,
                                   tolerances, batch_size, device)
    nets = {name: _on(m, device) for name, m in models.items()}
    mode = nets["model"].training
    with torch.no_grad():
        num_classes = int(nets["model"].eval()(first_batch(loaders["test"])["inputs"][:1]
                                               .to(device)).shape[1])
    nets["model"].train(mode)
    names = tuple(class_names if class_names is not None else
                  class_names_of(train_data, test_data) or [str(i) for i in range(num_classes)])
    forget_ids = list(resolve_forget_classes(forget_classes, names))
    n_parts = 5 * len(nets) + (tsne_per_class is not None)
    bar = tqdm(total=n_parts, desc="audit", unit="part", disable=not progress)

    def step(text: str) -> None:
        bar.set_postfix_str(text, refresh=True)

    outputs = {}
    for i, (name, net) in enumerate(nets.items()):
        step(f"{name}: forward passes")
        outputs[name] = {split: loader_outputs(net, loader, device, forget_ids,
                                               keep_inputs=i == 0)
                         for split, loader in loaders.items()}
        bar.update(1)
    first = outputs["model"]
    y_train, y_test = first["train"]["labels"].numpy(), first["test"]["labels"].numpy()
    f_train, f_test = np.isin(y_train, forget_ids), np.isin(y_test, forget_ids)
    if not f_train.any() or not f_test.any():
        raise ConfigError("the audit needs images of the forgotten classes in both train_data "
                          "and test_data")
    rng = np.random.default_rng(seed)
    r_train, r_test = np.flatnonzero(~f_train), np.flatnonzero(~f_test)
    members = rng.choice(r_train, size=min(len(r_train), len(r_test)), replace=False)
    pick = torch.randperm(int(f_train.sum()), generator=torch.Generator().manual_seed(seed))
    used_k = sorted({min(k, int(f_train.sum())) for k in relearn_k})
    attack_x = first["train"]["forget_inputs"][pick[:max(used_k)]]
    attack_y = torch.as_tensor(y_train[f_train])[pick[:max(used_k)]]
    eval_x, eval_y = first["test"]["forget_inputs"], torch.as_tensor(y_test[f_test])
    other_x = _remaining_images(test_data, r_test, len(eval_x), seed)
    probe_idx = _per_class_subset(y_test, probe_per_class, seed)
    have_features = all(o["test"]["features"] is not None for o in outputs.values())

    rows, roc = {}, {}
    for name, net in nets.items():
        out = outputs[name]
        step(f"{name}: accuracy + SVC MIA")
        row = dict(metrics=_accuracies(out, forget_ids, seed))
        bar.update(1)
        step(f"{name}: loss attack")
        row["mia"], roc[name] = _loss_attack(out, members, r_test, f_train, f_test, row)
        bar.update(1)
        step(f"{name}: relearn attack")
        attacks = {str(k): relearn_attack(net, attack_x[:k], attack_y[:k], eval_x, eval_y,
                                          relearn_steps, relearn_lr, seed=seed,
                                          device=str(device), other_images=other_x)
                   for k in used_k}
        row["relearn"] = {k: a["Acc_ft"] for k, a in attacks.items()}
        row["relearn_remain_as_forget"] = {k: a["remain_as_forget"] for k, a in attacks.items()}
        bar.update(1)
        step(f"{name}: probes")
        if have_features:
            feats, labs = out["test"]["features"][probe_idx], y_test[probe_idx]
            folds = int(max(2, min(5, np.bincount(labs)[np.unique(labs)].min())))
            recall, remain, auc = linear_probe(feats, labs, forget_ids, folds=folds, seed=seed)
            knn_recall, knn_remain = knn_probe(feats, labs, forget_ids, knn_neighbors, folds,
                                               seed)
            row["probe"] = dict(linear_recall=recall, linear_remain=remain, linear_auc=auc,
                                knn_recall=knn_recall, knn_remain=knn_remain)
        bar.update(1)
        test_preds = out["test"]["logits"].argmax(1).numpy()
        preds = test_preds[f_test]
        row["where"] = (100.0 * np.bincount(preds, minlength=num_classes) / len(preds)).tolist()
        row["per_class"] = per_class_accuracy(y_test, test_preds, num_classes)
        rows[name] = row
    _add_h_means(rows)
    tsne = {}
    if tsne_per_class is not None and have_features:
        step("t-SNE")
        idx = _per_class_subset(y_test, tsne_per_class, seed)
        tsne = {name: dict(xy=_tsne(outputs[name]["test"]["features"][idx], seed).tolist(),
                           labels=y_test[idx].tolist())
                for name in ORDER if name in outputs}
        bar.update(1)
    bar.close()
    notes = [] if have_features else [
        "the network offers no penultimate features (taskforget.network contract): probes "
        "and t-SNE skipped"]
    return dict(task="classification", class_names=list(names), forget_ids=forget_ids,
                models=rows, relearn_k=used_k, relearn_steps=list(relearn_steps),
                roc={n: dict(fpr=r["fpr"].tolist(), tpr=r["tpr"].tolist())
                     for n, r in roc.items()},
                tsne=tsne, verdict=verdict(rows, tolerances, "classification"),
                tolerances=asdict(tolerances), mia_convention=MIA_CONVENTION, notes=notes,
                settings=dict(relearn_lr=relearn_lr, relearn_batch=RELEARN_BATCH,
                              relearn_momentum=0.9, target_fpr=TARGET_FPR,
                              probe_per_class=probe_per_class, knn_neighbors=knn_neighbors,
                              tsne_per_class=tsne_per_class, seed=seed,
                              train_images=len(y_train), test_images=len(y_test),
                              forget_train_images=int(f_train.sum()),
                              forget_test_images=int(f_test.sum())))


def _add_h_means(rows: Dict[str, dict]) -> None:
    """H-Mean of the model and retrain rows against the original row's Acc_ft, in place."""
    if "original" not in rows:
        return
    for name in ("model", "retrain"):
        m = rows.get(name, {}).get("metrics")
        if m is not None:
            m["H-Mean"] = h_mean(m["Acc_rt"], rows["original"]["metrics"]["Acc_ft"]
                                 - m["Acc_ft"])


def combine(records: Dict[str, dict], tolerances: Tolerances = Tolerances()) -> dict:
    """One audit record from audits of single models, as :func:`audit` gives for them together.

    Each model's numbers depend only on that model, the data and the seed (every draw is
    seeded from the data's labels), so models audited alone on the same data with the same
    settings combine into the joint record: a benchmark audits its retrain and original
    models once per forget request and every unlearnt model alone (and caches each).

    Args:
        records: ``{'model': ..., 'retrain': ..., 'original': ...}`` (the last two optional),
            each a classification :func:`audit` record of that model alone (no ``retrain`` /
            ``original`` given).
        tolerances: the verdict's tolerances.

    Returns:
        The combined record: rows, ROC curves and t-SNE panels under the given names, H-Mean
        against the original, the verdict against the retrain model.

    Raises:
        ConfigError: no 'model' record, a segmentation record, or records of other data,
            classes or settings.
    """
    if "model" not in records:
        raise ConfigError("combine() needs the audited model's record under 'model'")
    first = records["model"]
    same = ("task", "class_names", "forget_ids", "relearn_k", "relearn_steps", "settings")
    for name, record in records.items():
        if record.get("task") != "classification" or len(record["models"]) != 1:
            raise ConfigError(f"combine(): {name!r} is not a classification audit of one model")
        differ = [k for k in same if record.get(k) != first.get(k)]
        if differ:
            raise ConfigError(f"combine(): {name!r} was audited with other {', '.join(differ)} "
                              "than 'model'")
    rows = {name: copy.deepcopy(r["models"]["model"]) for name, r in records.items()}
    _add_h_means(rows)
    return dict(first, models=rows,
                roc={name: r["roc"]["model"] for name, r in records.items()},
                tsne={name: records[name]["tsne"]["model"] for name in ORDER
                      if "model" in records.get(name, {}).get("tsne", {})},
                notes=sorted({n for r in records.values() for n in r.get("notes", [])}),
                verdict=verdict(rows, tolerances, "classification"),
                tolerances=asdict(tolerances))


HEADLINE = ("relearn_Acc_ft", "relearn_remain_as_forget", "linear_recall", "knn_recall",
            "forget_AUC")


def headline(record: dict, name: str = "model") -> Dict[str, Optional[float]]:
    """A classification audit's numbers of one model for a results table (:data:`HEADLINE`):
    relearn Acc_ft and % of remaining images called the forgotten class at the largest k
    and the last step budget, the linear and kNN probes' forget-class recall (None without
    features), the loss attack's forget AUC."""
    row, k = record["models"][name], str(record["relearn_k"][-1])
    probe = row.get("probe", {})
    return dict(relearn_Acc_ft=row["relearn"][k][-1],
                relearn_remain_as_forget=(row["relearn_remain_as_forget"][k] or [None])[-1],
                linear_recall=probe.get("linear_recall"), knn_recall=probe.get("knn_recall"),
                forget_AUC=row["mia"]["forget_AUC"])


def _accuracies(out: dict, forget_ids, seed: int) -> Dict[str, float]:
    """Acc_f/Acc_r/Acc_ft/Acc_rt, MIA, MIA_efficacy through UnlearningMetric.calculate."""
    records = []
    for split, is_train in (("train", True), ("test", False)):
        logits, labels = out[split]["logits"], out[split]["labels"]
        prob = torch.softmax(logits.float(), 1).gather(1, labels[:, None])[:, 0].numpy()
        is_forget = np.isin(labels.numpy(), forget_ids)
        records += [dict(label=int(y), pred=int(p), prob_true=float(c), is_train=is_train,
                         is_forget=bool(f))
                    for y, p, c, f in zip(labels.numpy(), logits.argmax(1).numpy(), prob,
                                          is_forget)]
    return UnlearningMetric.calculate(records, mia=True, seed=seed)


def _loss_attack(out: dict, members, nonmembers, f_train, f_test, row) -> tuple:
    train = log_prob_true(out["train"]["logits"], out["train"]["labels"])
    test = log_prob_true(out["test"]["logits"], out["test"]["labels"])
    calib = roc_summary(train[members], test[nonmembers])
    forget = roc_summary(train[f_train], test[f_test])
    mia = dict(SVC_MIA=row["metrics"].get("MIA"), SVC_MIA_efficacy=row["metrics"].get(
        "MIA_efficacy"), calib_AUC=calib["AUC"], **{"calib_TPR@1%FPR": calib["TPR"]},
        member_rate=calibrated_member_rate(train[f_train], test[nonmembers]),
        forget_AUC=forget["AUC"], **{"forget_TPR@1%FPR": forget["TPR"]})
    return mia, forget


def _criterion(name: str, model: float, retrain: float, tolerance: float, unit: str) -> dict:
    diff = model - retrain
    return dict(criterion=name, model=model, retrain=retrain, difference=diff,
                tolerance=tolerance, unit=unit, within=bool(abs(diff) <= tolerance + 1e-9))


def verdict(rows: Dict[str, dict], tolerances: Tolerances, task: str) -> dict:
    """The audit's verdict: every criterion within its tolerance of the retrain model's value
    -> "indistinguishable from retrain", else "differs from retrain by" the failed ones.

    Args:
        rows: the audit's ``models`` (``'model'`` and ``'retrain'`` are compared).
        tolerances: per-criterion tolerances.
        task: 'classification' or 'segmentation'.

    Returns:
        ``dict(text, indistinguishable (None without a retrain model), criteria)``.
    """
    if "retrain" not in rows:
        return dict(text="no retrain model given: no verdict", indistinguishable=None,
                    criteria=[])
    m, r, t = rows["model"], rows["retrain"], tolerances
    if task == "segmentation":
        criteria = [_criterion("IoU_ft", m["metrics"]["IoU_ft"], r["metrics"]["IoU_ft"],
                               t.acc_ft, "points"),
                    dict(_criterion("forgotten class's confusion row (total variation)",
                                    total_variation(m["where"], r["where"]), 0.0,
                                    t.confusion_row, "points"))]
    else:
        k = max(map(int, m["relearn"]))
        criteria = [
            _criterion("Acc_ft", m["metrics"]["Acc_ft"], r["metrics"]["Acc_ft"], t.acc_ft,
                       "points"),
            _criterion("loss-attack AUC, D_f vs D_ft", m["mia"]["forget_AUC"],
                       r["mia"]["forget_AUC"], t.mia_auc, ""),
            _criterion(f"relearn Acc_ft, {k} images, last budget", m["relearn"][str(k)][-1],
                       r["relearn"][str(k)][-1], t.relearn_acc_ft, "points")]
        if "probe" in m and "probe" in r:
            criteria += [_criterion("linear-probe recall", m["probe"]["linear_recall"],
                                    r["probe"]["linear_recall"], t.probe_recall, "points"),
                         _criterion("kNN-probe recall", m["probe"]["knn_recall"],
                                    r["probe"]["knn_recall"], t.probe_recall, "points")]
    failed = [c for c in criteria if not c["within"]]
    if not failed:
        text = "indistinguishable from retrain (" + "; ".join(
            f"{c['criterion']} within {c['tolerance']:g}{' ' + c['unit'] if c['unit'] else ''}"
            for c in criteria) + ")"
    else:
        text = "differs from retrain by " + "; ".join(
            f"{c['criterion']} {c['difference']:+.2f}{' ' + c['unit'] if c['unit'] else ''} "
            f"(tolerance {c['tolerance']:g})" for c in failed)
    return dict(text=text, indistinguishable=not failed, criteria=criteria)


def _audit_segmentation(models: Dict[str, nn.Module], forget_classes, train_data, test_data,
                        class_names, tolerances: Tolerances, batch_size: int,
                        device) -> dict:
    """Segmentation: IoU metrics and the forgotten class's pixel confusion row per model,
    through :func:`taskforget.evaluate`."""
    from taskforget.api import evaluate
    rows = {}
    for name, net in models.items():
        metrics = evaluate(net, models.get("original") if name != "original" else None,
                           forget_classes, train_data, test_data, class_names=class_names,
                           batch_size=batch_size, device=str(device))
        metrics = {k: v for k, v in metrics.items() if not k.startswith("original/")}
        rows[name] = dict(metrics=metrics)
    names = [k.split("/", 1)[1] for k in rows["model"]["metrics"] if k.startswith("IoU/")]
    for row in rows.values():
        row["where"] = [row["metrics"].get(f"forget_as/{n}", 0.0) for n in names]
    forget_ids = list(resolve_forget_classes(forget_classes, names))
    note = ("segmentation: membership inference, the relearn attack, feature probes and t-SNE "
            "are classification-only here; the evidence is IoU and where the forgotten "
            "class's pixels go (its row of the pixel confusion matrix, test pixels)")
    return dict(task="segmentation", class_names=names, forget_ids=forget_ids, models=rows,
                verdict=verdict(rows, tolerances, "segmentation"),
                tolerances=asdict(tolerances), notes=[note], settings={})
