import numpy as np
import pytest

from taskforget.evaluation import UnlearningMetric, h_mean, mia_confidence, split_accuracies


def test_h_mean_reproduces_the_papers_retrain_row():
    # Table 1, CIFAR-10 retrain: Acc_rt 95.20, original Acc_ft 97.00, Acc_ft 0 -> 96.09
    assert round(h_mean(95.20, 97.00 - 0.0), 2) == 96.09
    assert h_mean(90.0, 0.0) == 0.0
    assert h_mean(90.0, -5.0) == 0.0  # forgetting nothing (or gaining) scores 0


def test_split_accuracies_on_a_known_confusion():
    labels = np.array([0, 0, 1, 1, 0, 0, 1, 1])
    preds = np.array([0, 1, 1, 1, 2, 2, 1, 0])
    is_train = np.array([1, 1, 1, 1, 0, 0, 0, 0], bool)
    is_forget = labels == 0
    acc = split_accuracies(labels, preds, is_train, is_forget)
    assert acc == {"Acc_f": 50.0, "Acc_r": 100.0, "Acc_ft": 0.0, "Acc_rt": 50.0}


def test_mia_separates_confident_members_from_unsure_non_members():
    rng = np.random.default_rng(0)
    members = rng.uniform(0.95, 1.0, 200)
    nonmembers = rng.uniform(0.0, 0.5, 200)
    assert mia_confidence(members, nonmembers, rng.uniform(0.97, 1.0, 50)) == 100.0
    assert mia_confidence(members, nonmembers, rng.uniform(0.0, 0.3, 50)) == 0.0


def _records(n_per_group, forget_correct, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for is_train in (True, False):
        for is_forget in (True, False):
            for i in range(n_per_group):
                correct = forget_correct if is_forget else True
                out.append(dict(label=0 if is_forget else 1, pred=(0 if is_forget else 1)
                                if correct else 2, is_train=is_train, is_forget=is_forget,
                                prob_true=float(rng.uniform(0.9, 1.0) if is_train else
                                                rng.uniform(0.2, 0.6)) if correct else 0.01))
    return out


def test_metric_reports_original_and_h_mean_with_named_mia():
    unlearned = _records(20, forget_correct=False)
    original = _records(20, forget_correct=True)
    for r, o in zip(unlearned, original):
        r["original"] = o
    metric = UnlearningMetric()
    results = metric.compute_metrics(unlearned)
    assert results["Acc_ft"] == 0.0 and results["Acc_rt"] == 100.0
    assert results["original/Acc_ft"] == 100.0
    assert results["H-Mean"] == pytest.approx(100.0)
    # the unlearned forget set looks like non-members, the original's like members
    assert results["MIA"] == 0.0 and results["MIA_efficacy"] == 100.0
    assert results["original/MIA"] == 100.0


def test_metric_uses_a_given_original_acc_ft_without_original_predictions():
    metric = UnlearningMetric(mia=False, original_acc_ft=97.0)
    results = metric.compute_metrics(_records(10, forget_correct=False))
    assert "MIA" not in results
    assert results["H-Mean"] == pytest.approx(h_mean(100.0, 97.0))


def test_diverged_models_are_reported_not_scored():
    records = _records(5, forget_correct=True)
    records[0]["prob_true"] = float("nan")
    with pytest.raises(FloatingPointError, match="diverged"):
        UnlearningMetric.calculate(records)
