"""The forgetting audit (taskforget/evaluation/audit.py), the challenge's forgetting-quality
estimator (privacy.py), the `taskforget audit` command and benchmarks/forgetting_quality.py.

Models with a known answer are tiny MLPs on four Gaussian clusters (a class is as easy as it
gets, so the expected numbers are near 0 or 100 and the margins below are wide)."""
import json
import math
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_curve
from torch import nn
from torch.utils.data import TensorDataset

from taskforget.apis import checkpoint_path
from taskforget.datasets.data_root import PROJECT_ROOT
from taskforget.errors import ConfigError
from taskforget.evaluation import privacy
from taskforget.evaluation.audit import (
    ROC_TOLERANCE,
    Tolerances,
    audit,
    calibrated_member_rate,
    combine,
    relearn_attack,
    roc_summary,
    simplify_polyline,
    verdict,
)
from taskforget.evaluation.audit_report import largest_drops, write_report
from taskforget.evaluation.probe import knn_probe

ROOT = Path(__file__).resolve().parents[1]
K, D = 4, 8


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _data(n, centers, generator):
    y = torch.arange(n) % K
    return TensorDataset(centers[y] + torch.randn(n, D, generator=generator), y)


def _fit(train, exclude=None, seed=0):
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(D, 16), nn.ReLU(), nn.Linear(16, K))
    x, y = train.tensors
    if exclude is not None:
        x, y = x[y != exclude], y[y != exclude]
    opt = torch.optim.Adam(net.parameters(), 1e-2)
    for _ in range(150):
        opt.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    return net.eval()


@pytest.fixture(scope="module")
def toy():
    g = torch.Generator().manual_seed(0)
    centers = torch.randn(K, D, generator=g) * 3
    train, test = _data(200, centers, g), _data(200, centers, g)
    original, retrain = _fit(train), _fit(train, exclude=0, seed=1)
    never = _fit(train)  # the original's weights with class 0's logit at -inf
    with torch.no_grad():
        never[-1].bias[0] = -math.inf
    return dict(train=train, test=test, original=original, retrain=retrain, never=never)


def _audit(toy, model, retrain="retrain", **kwargs):
    return audit(model, [0], toy["train"], toy["test"],
                 retrain=toy[retrain] if retrain else None, original=toy["original"],
                 relearn_k=(10,), relearn_steps=(0, 5, 25), probe_per_class=30,
                 tsne_per_class=kwargs.pop("tsne_per_class", None), progress=False, **kwargs)


# ---- maths on hand-computed numbers ---------------------------------------------------------
def _distance_to_polyline(points: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(P,) distance of each point to the polyline (x, y), brute force over its segments."""
    a, b = np.c_[x, y][:-1], np.c_[x, y][1:]
    step = b - a
    t = np.einsum("psk,sk->ps", points[:, None] - a, step) / np.maximum(
        (step ** 2).sum(1), 1e-300)
    closest = a + np.clip(t, 0, 1)[..., None] * step
    return np.linalg.norm(points[:, None] - closest, axis=2).min(1)


def test_simplify_polyline_keeps_the_corners_a_tolerance_needs():
    # a staircase: the dropped middle points lie on straight runs
    x, y = np.array([0, 1, 2, 2, 2, 3.0]), np.array([0, 0, 0, 1, 2, 2.0])
    assert simplify_polyline(x, y, 1e-9).tolist() == [0, 2, 4, 5]
    # a bump of 0.3 is kept at tolerance 0.2, dropped at 0.4
    x, y = np.array([0, 1, 2.0]), np.array([0, 0.3, 0])
    assert simplify_polyline(x, y, 0.2).tolist() == [0, 1, 2]
    assert simplify_polyline(x, y, 0.4).tolist() == [0, 2]
    assert simplify_polyline(np.zeros(1), np.zeros(1), 0.1).tolist() == [0]


def test_roc_auc_and_tpr_at_low_fpr_match_hand_computed_numbers():
    members, nonmembers = np.array([0.9, 0.8, 0.4]), np.array([0.7, 0.3, 0.2, 0.1])
    roc = roc_summary(members, nonmembers)
    # pairs won by members: 0.9 and 0.8 beat all 4, 0.4 beats 3 -> 11 of 12
    assert roc["AUC"] == pytest.approx(11 / 12)
    # 1 % FPR of 4 non-members allows none: the threshold 0.8 keeps 2 of 3 members
    assert roc["TPR"] == pytest.approx(2 / 3)
    assert roc_summary(members, nonmembers, target_fpr=0.25)["TPR"] == pytest.approx(1.0)
    # ties count half: identical scores -> AUC 0.5
    assert roc_summary(np.ones(5), np.ones(5))["AUC"] == pytest.approx(0.5)
    # the stored curve is the full curve simplified and rounded: every threshold's point lies
    # within ROC_TOLERANCE (+ the rounding) of its polyline, with a third of the points
    rng = np.random.default_rng(0)
    members, nonmembers = rng.normal(0.5, 1, 400).round(2), rng.normal(0, 1, 600).round(2)
    full_fpr, full_tpr, _ = roc_curve(np.r_[np.ones(400), np.zeros(600)],
                                      np.r_[members, nonmembers], drop_intermediate=False)
    roc = roc_summary(members, nonmembers)
    assert len(roc["fpr"]) < len(full_fpr) / 2  # 121 of 373
    assert _distance_to_polyline(np.c_[full_fpr, full_tpr], roc["fpr"], roc["tpr"]).max() \
        <= ROC_TOLERANCE + 1e-4
    # the TPR is read on the full curve, not on the corners
    assert roc["TPR"] == pytest.approx(full_tpr[full_fpr <= 0.01 + 1e-12].max())
    # threshold calibrated on 100 non-members 0..99: at most 1 above it (99), so 98 is it
    assert calibrated_member_rate(np.array([98.5, 99.5, 10.0, 98.0]), np.arange(100.0)) \
        == pytest.approx(50.0)


def test_knn_probe_finds_a_separable_class_and_not_a_merged_one():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 40)
    centers = rng.normal(size=(4, 6)) * 5
    separable = centers[labels] + rng.normal(size=(160, 6))
    recall, remain = knn_probe(separable, labels, [0])
    assert recall == 100.0 and remain > 95
    merged = centers[np.where(labels == 0, 1, labels)] + rng.normal(size=(160, 6))
    recall, _ = knn_probe(merged, labels, [0])
    assert recall < 75  # a coin flip between two identical clusters: ~50, never near 100


# ---- the audit on constructed models --------------------------------------------------------
def test_a_model_that_still_predicts_the_class_differs_from_retrain(toy):
    record = _audit(toy, toy["original"])
    model, retrain = record["models"]["model"], record["models"]["retrain"]
    assert model["metrics"]["Acc_ft"] > 90 and retrain["metrics"]["Acc_ft"] == 0
    assert model["where"][0] > 90 and retrain["where"][0] == 0
    assert record["verdict"]["indistinguishable"] is False
    assert record["verdict"]["text"].startswith("differs from retrain by Acc_ft +")
    failed = {c["criterion"] for c in record["verdict"]["criteria"] if not c["within"]}
    assert "Acc_ft" in failed
    assert model["relearn"]["10"][0] > 90  # nothing to relearn


def test_a_model_that_can_never_predict_the_class_has_acc_ft_zero(toy):
    record = _audit(toy, toy["never"])
    m = record["models"]["model"]
    assert m["metrics"]["Acc_ft"] == 0 and m["metrics"]["Acc_f"] == 0
    assert m["where"][0] == 0 and sum(m["where"]) == pytest.approx(100)
    # a -inf logit stays -inf under any finite update: the relearn attack cannot bring it back
    assert m["relearn"]["10"] == [0.0, 0.0, 0.0]
    assert math.isfinite(m["mia"]["forget_AUC"])  # log p_y = -inf is floored, not NaN
    # the remaining classes are the original's: Acc_rt unchanged, class by class too
    assert m["metrics"]["Acc_rt"] == record["models"]["original"]["metrics"]["Acc_rt"]
    assert m["per_class"][0] == 0
    assert m["per_class"][1:] == record["models"]["original"]["per_class"][1:]
    y = toy["test"].tensors[1].numpy()
    preds = toy["original"](toy["test"].tensors[0]).argmax(1).numpy()
    assert record["models"]["original"]["per_class"] == pytest.approx(
        [100 * np.mean(preds[y == k] == k) for k in range(K)])


def test_retrain_against_itself_is_indistinguishable_and_the_report_is_written(toy, tmp_path):
    record = _audit(toy, toy["retrain"], tsne_per_class=15)
    assert record["verdict"]["indistinguishable"] is True
    assert record["verdict"]["text"].startswith("indistinguishable from retrain (Acc_ft within 2")
    assert all(c["difference"] == 0 for c in record["verdict"]["criteria"])
    assert {c["criterion"] for c in record["verdict"]["criteria"]} >= {
        "Acc_ft", "linear-probe recall", "kNN-probe recall", "loss-attack AUC, D_f vs D_ft"}
    assert [len(v["xy"]) for v in record["tsne"].values()] == [60, 60, 60]
    paths = write_report(record, tmp_path, model_name="retrain-copy")
    text = paths["md"].read_text()
    assert "**Verdict: retrain-copy indistinguishable from retrain" in text
    for name in ("mia_roc.png", "relearn.png", "where.png", "per_class.png", "tsne.png",
                 "audit.json"):
        assert (tmp_path / name).stat().st_size > 0
    assert "Largest drops of retrain-copy below the retrain model on the remaining classes " \
           "(points): none." in text
    assert "data:image/png;base64," in paths["html"].read_text()
    # linked figures (reports committed beside their PNGs); checkpoints under the project root
    # are recorded relative to it, others as given
    here = PROJECT_ROOT / "work_dirs" / "x.pth"
    elsewhere = str(tmp_path / "r.pth")  # the temp dir lies outside the checkout
    record["checkpoints"] = dict(model=str(here), retrain=elsewhere, original=None)
    paths = write_report(record, tmp_path / "linked", embed_figures=False)
    page = paths["html"].read_text()
    assert "base64" not in page and "src='relearn.png'" in page and "src='tsne.png'" in page
    assert json.loads(paths["json"].read_text())["checkpoints"] == dict(
        model=os.path.join("work_dirs", "x.pth"), retrain=elsewhere, original=None)
    assert record["checkpoints"]["model"] == str(here)  # the caller's record is left as is


def test_models_audited_alone_combine_into_the_joint_audit(toy):
    joint = _audit(toy, toy["never"], tsne_per_class=10)
    alone = {name: audit(toy[key], [0], toy["train"], toy["test"], relearn_k=(10,),
                         relearn_steps=(0, 5, 25), probe_per_class=30, tsne_per_class=10,
                         progress=False)
             for name, key in (("model", "never"), ("retrain", "retrain"),
                               ("original", "original"))}
    combined = combine(alone)
    assert combined["models"] == joint["models"]  # H-Mean against the original included
    assert combined["verdict"] == joint["verdict"] and combined["roc"] == joint["roc"]
    assert list(combined["tsne"]) == list(joint["tsne"]) == ["original", "retrain", "model"]
    assert combined["tsne"]["model"]["labels"] == joint["tsne"]["model"]["labels"]
    assert combine({"model": alone["model"]})["verdict"]["indistinguishable"] is None
    other = audit(toy["retrain"], [0], toy["train"], toy["test"], relearn_k=(5,),
                  relearn_steps=(0, 5, 25), probe_per_class=30, tsne_per_class=None,
                  progress=False)
    with pytest.raises(ConfigError, match="'retrain' was audited with other relearn_k"):
        combine({"model": alone["model"], "retrain": other})
    with pytest.raises(ConfigError, match="not a classification audit of one model"):
        combine({"model": joint})


def test_verdict_names_the_failed_criterion_against_stated_tolerances():
    rows = {name: dict(metrics=dict(Acc_ft=acc), mia=dict(forget_AUC=auc),
                       relearn={"100": [0.0, relearn]},
                       probe=dict(linear_recall=probe, knn_recall=probe))
            for name, acc, auc, relearn, probe in (("model", 1.5, 0.58, 30.0, 40.0),
                                                   ("retrain", 0.0, 0.50, 20.0, 38.0))}
    v = verdict(rows, Tolerances(), "classification")
    assert v["text"] == ("differs from retrain by loss-attack AUC, D_f vs D_ft +0.08 (tolerance "
                         "0.05); relearn Acc_ft, 100 images, last budget +10.00 points "
                         "(tolerance 5)")
    assert verdict(rows, Tolerances(mia_auc=0.1, relearn_acc_ft=10),
                   "classification")["indistinguishable"] is True


def test_the_relearn_attack_restores_a_class_whose_head_row_was_only_scaled_down(toy):
    hidden = _fit(toy["train"])
    with torch.no_grad():  # class 0's row and bias at 2 %: it loses every argmax
        hidden[-1].weight[0] *= 0.02
        hidden[-1].bias[0] = hidden[-1].bias[0] * 0.02 - 5
    before = {k: v.clone() for k, v in hidden.state_dict().items()}
    x, y = toy["train"].tensors
    tx, ty = toy["test"].tensors
    attack = relearn_attack(hidden, x[y == 0][:10], y[y == 0][:10], tx[ty == 0], ty[ty == 0],
                            steps=(0, 5, 25), other_images=tx[ty != 0])
    acc, false = attack["Acc_ft"], attack["remain_as_forget"]
    assert acc[0] < 10  # hidden before the attack
    # the features still hold the class: 5 steps on 10 images restore it, selectively (measured
    # 100 % Acc_ft, 0 % of remaining images called class 0); by 25 steps the one-class batches
    # overshoot into a bias (34 % of remaining images), which is why the audit reports both
    assert acc[1] > 90 and false[1] < 10
    assert acc[-1] > 90
    assert all(torch.equal(before[k], v) for k, v in hidden.state_dict().items())  # a copy


def test_segmentation_audit_compares_the_forgotten_class_confusion_row():
    class Segmenter(nn.Module):  # 1x1 convolution; `erase` sets class 0's logit to -inf
        def __init__(self, erase):
            super().__init__()
            self.conv, self.erase = nn.Conv2d(3, 3, 1), erase

        def forward(self, x):
            z = self.conv(x)
            return z.masked_fill(torch.arange(3)[None, :, None, None] == 0, -math.inf) \
                if self.erase else z

    torch.manual_seed(0)
    data = TensorDataset(torch.randn(6, 3, 8, 8), torch.randint(0, 3, (6, 8, 8)))
    kept, erased = Segmenter(False), Segmenter(True)
    erased.conv.load_state_dict(kept.conv.state_dict())
    import taskforget
    record = taskforget.audit(kept, [0], data, data, retrain=erased, original=kept,
                              progress=False)
    m, r = record["models"]["model"], record["models"]["retrain"]
    assert record["task"] == "segmentation" and r["where"][0] == 0 and m["where"][0] > 0
    assert r["metrics"]["IoU_ft"] == 0 and sum(r["where"]) == pytest.approx(100)
    assert record["verdict"]["text"].startswith("differs from retrain by IoU_ft")
    assert verdict({"model": r, "retrain": r}, Tolerances(), "segmentation")["indistinguishable"]


# ---- forgetting-quality estimator -------------------------------------------------------------
def test_logit_scaled_confidence_and_the_resolution():
    # p = e^2 / (e^2 + 2): log(p / (1 - p)) = 2 - log 2
    conf = privacy.logit_scaled_confidence(np.array([[2.0, 0.0, 0.0], [0.0, -np.inf, 1.0]]),
                                           np.array([0, 1]))
    assert conf[0] == pytest.approx(2 - math.log(2))
    assert conf[1] == pytest.approx(-privacy.CONFIDENCE_LIMIT)  # -inf logit: clipped
    assert privacy.max_finite_epsilon(8) == pytest.approx(math.log(7), abs=1e-4)
    assert privacy.score_bins(8) == [(0.0, 1.0), (0.5, 0.5), (1.0, 0.25), (1.5, 0.125)]
    assert [privacy.example_score(e, 8) for e in (0.0, 0.49, 0.5, 1.9, 2.0, 50)] == [
        1.0, 1.0, 0.5, 0.125, 0.0, 0.0]


def test_epsilon_on_gaussians_of_known_separation():
    rng = np.random.default_rng(0)
    n, e = 64, 40
    retrained = rng.normal(size=(n, e))
    # the same sample on both sides: every attack has TPR = FPR -> eps 0, score 1
    same = privacy.forgetting_quality(retrained.copy(), retrained)
    assert same["score"] == 1.0 and same["epsilons"].max() == 0.0
    # two samples of one distribution: never "perfectly separated", every eps below the
    # finite resolution log(N - 1) = 4.14; the estimator's small-sample bias puts the score
    # near 0.2 (measured 0.18-0.21 at N = 8, 64, 256; privacy.py), and the permutation null
    # sees the same
    fresh = privacy.forgetting_quality(rng.normal(size=(n, e)), retrained)
    assert fresh["epsilons"].max() <= privacy.max_finite_epsilon(n) + 1e-9
    assert 0.1 < fresh["score"] < 0.4
    null = privacy.null_score(rng.normal(size=(n, e)), retrained)
    assert abs(null - fresh["score"]) < 0.1
    # 20 standard deviations apart: every example at the cap, score 0
    apart = privacy.forgetting_quality(rng.normal(size=(n, e)) + 20, retrained)
    assert (apart["epsilons"] == privacy.EPSILON_CAP).all() and apart["score"] == 0.0
    # monotone in between
    scores = [privacy.forgetting_quality(rng.normal(size=(n, e)) + s, retrained)["score"]
              for s in (0.0, 1.5, 4.0)]
    assert scores[0] > scores[1] > scores[2]
    with pytest.raises(ValueError, match="at least 3 models"):
        privacy.forgetting_quality(retrained[:2], retrained[:2])


# ---- end to end: the benchmark's --quick path, then `taskforget audit` on its models ---------
@pytest.fixture(scope="module")
def quick_benchmark(tmp_path_factory):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import forgetting_quality as bench
    work = tmp_path_factory.mktemp("fq")
    args = bench.parse_args(["--quick", "--work-dir", str(work)])
    return bench, args, bench.run(args)


def test_forgetting_quality_quick_benchmark_runs_and_resumes(quick_benchmark, capsys):
    bench, args, result = quick_benchmark
    assert result["models"] == 3 and len(result["rows"]) == 1
    row = result["rows"][0]
    assert 0.0 <= row["score"] <= 1.0 and 0.0 <= row["null"] <= 1.0
    assert len(row["epsilons"]) == result["examples"] > 0
    assert (args.out / "forgetting_quality.md").is_file()
    assert len(list((args.work_dir / "confidences").glob("retrain_*.npz"))) == 1
    capsys.readouterr()
    again = bench.run(args)  # every stage and both confidence sets read back
    out = capsys.readouterr().out
    assert "[cache] reusing retrain confidences" in out and "[cache] reusing delete" in out
    assert again["rows"][0]["score"] == row["score"]


def test_forgetting_quality_variant_runs_apart_from_its_method(quick_benchmark):
    """A variant ``NAME:KEY=VALUE`` sets its options and writes its own runs, never over the
    method's; a spec with nothing after ':' is refused."""
    bench, args, _ = quick_benchmark
    plain = bench.config(args, 0, "delete")
    variant = bench.config(args, 0, "delete:model.alpha=1e-4")
    assert (plain.model.alpha, variant.model.alpha) == (0.0, 1e-4)
    assert checkpoint_path(variant, "forget").name == "delete_airplane_model.alpha1e-4_seed0.pth"
    assert checkpoint_path(plain, "forget") != checkpoint_path(variant, "forget")
    with pytest.raises(ConfigError, match="NAME:KEY=VALUE"):
        bench.method_variant("delete:")


def test_audit_command_end_to_end(quick_benchmark, tmp_path, capsys):
    from taskforget.__main__ import main
    _, args, _ = quick_benchmark
    work = args.work_dir
    out = tmp_path / "report"
    options = ["network.width=8", "model.network.width=8", f"data_root='{work / 'cifar10_tiny'}'"]
    sys_argv = sys.argv
    try:
        main(["audit", str(ROOT / "configs" / "demo_cifar10_cnn.py"),
              str(work / "delete_airplane_seed0.pth"), "--work-dir", str(work), "--out", str(out),
              "--relearn-k", "4", "--relearn-steps", "0", "3", "--relearn-lr", "1e-3",
              "--cfg-options", *options])
    finally:
        sys.argv = sys_argv
    printed = capsys.readouterr().out
    assert f"report: {out / 'audit.md'}" in printed
    # the experiment's own retrain and original models were found
    assert "retrain_airplane_seed0.pth" in printed and "original.pth" in printed
    text = (out / "audit.md").read_text()
    assert "**Verdict: delete_airplane_seed0 " in text and "tolerance" in text.lower()
    for name in ("audit.html", "audit.json", "where.png", "relearn.png", "mia_roc.png",
                 "tsne.png"):
        assert (out / name).is_file()
    assert json.loads((out / "audit.json").read_text())["settings"]["relearn_lr"] == 1e-3


def test_audit_without_retrain_gives_no_verdict_and_leaves_models_as_found(toy):
    model = _fit(toy["train"]).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    record = audit(model, [0], toy["train"], toy["test"], relearn_k=(5,), relearn_steps=(0, 2),
                   probe_per_class=20, tsne_per_class=None, progress=False)
    assert record["verdict"] == dict(text="no retrain model given: no verdict",
                                     indistinguishable=None, criteria=[])
    assert "H-Mean" not in record["models"]["model"]["metrics"]  # no original model
    assert model.training and all(torch.equal(before[k], v)
                                  for k, v in model.state_dict().items())


def testlargest_drops_name_the_remaining_classes_below_retrain():
    record = dict(class_names=["a", "b", "c", "d"], forget_ids=[0], models=dict(
        model=dict(per_class=[0.0, 80.0, 70.0, 95.0]),
        retrain=dict(per_class=[0.0, 90.0, 71.5, 90.0])))
    assert largest_drops(record, "model") == "b -10.0, c -1.5"  # d is above, a forgotten
