"""Feature-level recoverability: is the forgotten class still readable from the features?

Penultimate features come through the network contract (:mod:`taskforget.network`); the probe
is scikit-learn's logistic regression, scored out of fold.
"""
from typing import Sequence, Tuple

import numpy as np
import torch
from torch import nn

from taskforget.network import as_contract


@torch.no_grad()
def extract_features(network: nn.Module, dataset, batch_size: int = 500,
                     device: str = "cpu") -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Penultimate features, labels and predictions of every item of a taskforget dataset.

    Args:
        network: a classifier with the network contract (left in eval mode afterwards
            restored to its previous mode).
        dataset: items ``dict(inputs=(C, H, W), data_samples=dict(label=...))``.

    Returns:
        ((N, D) float features, (N,) labels, (N,) predicted classes).
    """
    contract = as_contract(network, "the feature probe")
    mode = network.training
    network.eval().to(device)
    feats, labels, preds = [], [], []
    try:
        for start in range(0, len(dataset), batch_size):
            items = [dataset[i] for i in range(start, min(start + batch_size, len(dataset)))]
            x = torch.stack([it["inputs"] for it in items]).to(device)
            f, logits = contract.features_and_logits(x)
            feats.append(f.float().cpu().numpy())
            preds.append(logits.argmax(1).cpu().numpy())
            labels += [int(it["data_samples"]["label"]) for it in items]
    finally:
        network.train(mode)
    return np.concatenate(feats), np.array(labels), np.concatenate(preds)


def linear_probe(features: np.ndarray, labels: np.ndarray, forget_ids: Sequence[int],
                 folds: int = 5, seed: int = 0) -> Tuple[float, float, float]:
    """Out-of-fold multinomial logistic-regression probe on frozen features.

    Args:
        features: (N, D) penultimate features.
        labels: (N,) class labels (every class, forgotten ones included).
        forget_ids: forgotten class ids.

    Returns:
        (forget-class recall %, remaining-class accuracy %, forget-vs-rest AUC).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    proba = cross_val_predict(probe, features, labels, cv=cv, method="predict_proba")
    pred = proba.argmax(1)
    forget = np.isin(labels, list(forget_ids))
    recall = 100.0 * float((pred[forget] == labels[forget]).mean())
    remain = 100.0 * float((pred[~forget] == labels[~forget]).mean())
    auc = float(roc_auc_score(forget, proba[:, list(forget_ids)].sum(1)))
    return recall, remain, auc


def knn_probe(features: np.ndarray, labels: np.ndarray, forget_ids: Sequence[int],
              neighbors: int = 10, folds: int = 5, seed: int = 0) -> Tuple[float, float]:
    """Out-of-fold k-nearest-neighbour probe on frozen, standardized features: can images of
    the forgotten class still be told apart by their neighbours, with no linear read-out?

    Args:
        features: (N, D) penultimate features.
        labels: (N,) class labels (every class, forgotten ones included).
        forget_ids: forgotten class ids.
        neighbors: k of the vote (Euclidean distance).

    Returns:
        (forget-class recall %, remaining-class accuracy %).
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    train_size = len(labels) - -(-len(labels) // folds)  # the smallest training fold
    probe = make_pipeline(StandardScaler(),
                          KNeighborsClassifier(n_neighbors=min(neighbors, train_size)))
    pred = cross_val_predict(probe, features, labels, cv=cv)
    forget = np.isin(labels, list(forget_ids))
    return (100.0 * float((pred[forget] == labels[forget]).mean()),
            100.0 * float((pred[~forget] == labels[~forget]).mean()))
