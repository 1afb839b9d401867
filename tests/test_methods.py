"""Every baseline runs a few steps of the runner's one loop on a tiny CNN trained on a slice of
the real CIFAR-10, and moves the forget-class predictions the way its recipe says.

The original model is trained once per session (``original``, 15-25 s on 2 cores) on 500 images
per class to ~55% test accuracy, so forgetting and keeping stand well clear of the run-to-run
noise. Every generator it uses is seeded from ``SEED`` and the global RNG is left as found, so
its numbers do not depend on which tests ran first. The thresholds of ``CASES`` were measured
over 5 seeds x {1, 2} threads (see the comments there).
"""
import uuid

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.runner import Runner
from torch.utils.data import DataLoader

from taskforget.checkpoint import save_weights
from taskforget.methods import MaGA, SalUn
from taskforget.methods.common import cross_entropy, fixed_random_labels, kl_divergence
from taskforget.methods.scrubbing import SSD, FisherForgetting
from taskforget.registry import MODELS
from taskforget.tasks.classification import ImageFolderClassification

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
           "truck")
NORMALIZE = dict(type="Normalize", mean=(0.4914, 0.4822, 0.4465), std=(0.2470, 0.2435, 0.2616))
PIPELINE = [NORMALIZE, dict(type="ToTensorV2")]
NETWORK = dict(type="small_cnn", num_classes=10, width=8)
ADAPTER = dict(type="ClassificationAdapter", class_names=CLASSES, forget_classes=["airplane"])
SEED = 0  # the original's initialization and batch order, and the runner's seed
TRAIN_PER_CLASS = 500  # the original's training slice
# D_f and D_r of the unlearning runs: the first 100 images per class of that slice (the same
# seeded draw, so a subset of what the original saw)
PER_CLASS = 100
TEST_PER_CLASS = 100
BATCH = 50


def loader_cfg(subset, split="train", per_class=PER_CLASS, batch_size=BATCH, shuffle=True):
    return dict(batch_size=batch_size, num_workers=0, collate_fn=dict(type="default_collate"),
                sampler=dict(type="DefaultSampler", shuffle=shuffle),
                dataset=dict(type="ImageFolderClassification", root="cifar10", split=split,
                             subset=subset, forget_classes=["airplane"], pipeline=PIPELINE,
                             max_per_class=per_class, preload=False))


def dataset(split, subset="all", per_class=PER_CLASS):
    return ImageFolderClassification(root="cifar10", split=split, subset=subset,
                                     forget_classes=["airplane"], pipeline=PIPELINE,
                                     max_per_class=per_class, preload=False)


def stack(ds):
    items = [ds[i] for i in range(len(ds))]
    return (torch.stack([it["inputs"] for it in items]),
            torch.tensor([it["data_samples"]["label"] for it in items]))


@pytest.fixture(scope="session")
def original(tmp_path_factory):
    return make_original(tmp_path_factory.mktemp("orig"), tmp_path_factory.mktemp("runs"))


def make_original(folder, work, seed=SEED):
    """A small CNN trained on 500 images per class with random flips, one-cycle SGD (a plain
    loop: test setup, not a method). Seeded by ``seed`` alone; the global RNG is untouched."""
    train = dataset("train", per_class=TRAIN_PER_CLASS)
    x, y = stack(train)
    g = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = MODELS.build(NETWORK)
    epochs, batch = 6, 64
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4,
                          nesterov=True)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=0.1, total_steps=epochs * -(-len(x) // batch))
    net.train()
    for _ in range(epochs):
        for idx in torch.randperm(len(x), generator=g).split(batch):
            flip = torch.rand(len(idx), generator=g) < 0.5
            inputs = torch.where(flip[:, None, None, None], x[idx].flip(3), x[idx])
            opt.zero_grad()
            F.cross_entropy(net(inputs), y[idx]).backward()
            opt.step()
            schedule.step()
    path = folder / "original.pth"
    save_weights(net, path)
    forget = dataset("train", subset="forget")
    assert set(forget.uids) <= set(train.uids)  # D_f is part of the training slice
    test = stack(dataset("test", per_class=TEST_PER_CLASS))
    before = evaluate(net, *test)
    # measured over 5 seeds x {1,2} threads: acc_f 0.58-0.66, p_f 0.40-0.44, acc_r 0.53-0.56
    # (test accuracy 0.54-0.56)
    assert before["acc_f"] > 0.5 and before["p_f"] > 0.35 and before["acc_r"] > 0.5, before
    return dict(path=str(path), test=test, before=before, work=work, forget=forget)


@torch.no_grad()
def evaluate(net, x, y):
    net.eval()
    probs = torch.softmax(net(x), 1)
    forget = y == 0
    return dict(p_f=float(probs[forget, 0].mean()),
                acc_f=float((probs[forget].argmax(1) == 0).float().mean()),
                acc_r=float((probs[~forget].argmax(1) == y[~forget]).float().mean()))


def run(original, method, epochs=2, lr=1e-2, optimizer="SGD", remain=False, seed=SEED,
        **kwargs):
    model = dict(type=method, network=NETWORK, adapter=ADAPTER,
                 original_checkpoint=original["path"], **kwargs)
    if remain:
        # derived from the runner's train_dataloader config: D_r with the forget loader's
        # settings
        model["remain_dataloader"] = dict(batch_size=BATCH)
    optim = dict(type=optimizer, lr=lr, **(dict(momentum=0.9) if optimizer == "SGD" else {}))
    # the forget loader reuses the session's D_f dataset (same config, built once)
    forget_loader = dict(loader_cfg("forget"), dataset=original["forget"])
    runner = Runner(
        cfg=dict(train_dataloader=loader_cfg("forget")), model=model,
        work_dir=str(original["work"]), experiment_name=uuid.uuid4().hex,
        train_dataloader=forget_loader, train_cfg=dict(by_epoch=True, max_epochs=epochs),
        optim_wrapper=dict(optimizer=optim), custom_hooks=[dict(type="UnlearningSetupHook")],
        default_scope="taskforget", randomness=dict(seed=seed), log_level="WARNING",
        default_hooks=dict(checkpoint=None, logger=dict(type="LoggerHook", interval=1000)),
        env_cfg=dict(dist_cfg=dict(backend="gloo")))
    runner.train()
    model = runner.model
    return model, evaluate(model.student, *original["test"])


# Each method with the settings of a short run on the tiny model. Per case: the settings, the
# drop in the forget-class probability p_f that the run must exceed (absolute), the
# forget-class accuracy acc_f it must not exceed, and the share of the original's remaining
# accuracy acc_r it must keep. The comment above each case is the range measured over 5
# fixture seeds x {1, 2} threads (OMP_NUM_THREADS; the seed set both the original and the
# runner), or over 8 runs (5 seeds x 1 thread + 3 seeds x 2 threads) for the cases re-measured
# after issue #12's fixes; every threshold sits at
# least one standard deviation of those runs, and at least 0.05 (p_f drop) or 0.1 (acc_f,
# keep), outside that range.
CASES = {
    # measured (after issue #12's fixes, 8 runs): p_f drop 0.26-0.37, acc_f 0.02-0.10,
    # keep 0.42-0.82
    "RandomLabel": (dict(lr=1e-2, epochs=6), 0.2, 0.25, 0.3),
    # measured: p_f drop 0.34-0.39, acc_f 0.00-0.03, keep 0.78-0.97
    "NegativeGradient": (dict(lr=2e-2, epochs=2), 0.25, 0.15, 0.65),
    # measured (after issue #12's fixes, 8 runs): p_f drop 0.22-0.25, acc_f 0.11-0.31,
    # keep 0.67-0.80
    "BoundaryShrink": (dict(lr=1e-2, epochs=3, pixel_mean=NORMALIZE["mean"],
                            pixel_std=NORMALIZE["std"]), 0.15, 0.45, 0.5),
    # measured (after issue #12's fixes, 8 runs): p_f drop 0.22-0.31, acc_f 0.08-0.25,
    # keep 0.68-0.82
    "BoundaryExpand": (dict(lr=1e-2, epochs=10), 0.15, 0.35, 0.5),
    # measured (after issue #12's fixes, 8 runs): p_f drop 0.37-0.40, acc_f 0.00-0.01,
    # keep 0.72-0.88
    "LearnToUnlearn": (dict(lr=2e-2, epochs=2, steps=3), 0.3, 0.15, 0.6),
    # measured: p_f drop 0.28-0.34, acc_f 0.03-0.13, keep 0.60-0.81
    "BadTeacher": (dict(lr=7e-4, epochs=10, optimizer="Adam"), 0.2, 0.25, 0.45),
    # measured (after issue #12's fixes, 8 runs): p_f drop 0.25-0.35, acc_f 0.05-0.35,
    # keep 0.78-0.91
    "BadTeacher(D_r)": (dict(lr=3e-3, epochs=3, optimizer="Adam"), 0.15, 0.45, 0.55),
    # measured (after issue #12's fixes, 8 runs): p_f drop 0.27-0.38, acc_f 0.02-0.08,
    # keep 0.48-0.85
    "SalUn": (dict(lr=1e-2, epochs=6), 0.15, 0.3, 0.35),
    # measured (after issue #12's fixes, 8 runs): p_f drop 0.38-0.42, acc_f 0.00-0.00,
    # keep 0.96-1.03
    "SCRUB(D_r)": (dict(lr=1e-2, epochs=3, max_epochs=2), 0.15, 0.4, 0.55),
    # forget-only: max steps alone (in both epochs)
    # measured (after issue #12's fixes, 8 runs): p_f drop 0.21-0.33, acc_f 0.06-0.28,
    # keep 0.56-0.66
    "SCRUB": (dict(lr=2e-2, epochs=2, max_epochs=2), 0.1, 0.45, 0.4),
    # measured: p_f drop 0.30-0.37, acc_f 0.00-0.09, keep 0.72-0.92
    "UNSIR(D_r)": (dict(lr=3e-3, epochs=10, optimizer="Adam", noise_steps=10), 0.2, 0.2, 0.6),
    # measured (after issue #12's fixes, 8 runs): p_f drop 0.37-0.41, acc_f 0.00-0.00,
    # keep 0.91-1.03
    "Amnesiac": (dict(lr=1e-3, epochs=6, optimizer="Adam", remain=True), 0.2, 0.3, 0.65),
    # An epoch is a pass over D_r since issue #12: at lr 5e-2 keep spread 0.43-0.84 over 5
    # seeds x {1, 2} threads, so the case runs at lr 1e-2.
    # measured (5 seeds x {1, 2} threads): p_f drop 0.36-0.41, acc_f 0.00-0.00, keep 0.94-1.04
    "FineTune": (dict(lr=1e-2, epochs=4, remain=True), 0.3, 0.1, 0.8),
    # measured: p_f drop 0.22-0.35, acc_f 0.01-0.23, keep 0.45-0.71
    "MaGA": (dict(lr=7e-3, epochs=12, noise_size=16, noise_steps=5), 0.15, 0.35, 0.35),
    # measured: p_f drop 0.20-0.34, acc_f 0.02-0.30, keep 0.50-0.83
    "MaGA(D_r)": (dict(lr=2e-2, epochs=4, noise_size=16, noise_steps=5,
                       estimate_batches=4), 0.15, 0.45, 0.4),
    # With the official importance loader (class-sorted, D_f batches inside I_D) alpha >= ~K
    # selects no weight on K = 10 classes (alpha 10 and 200: 0 of the weights changed, p_f drop
    # 0.000 on seeds 0 and 1); alpha 5 dampens 2-3% of them.
    # measured (after issue #12, 8 runs): p_f drop 0.34-0.39, acc_f 0.00-0.00,
    # keep 0.91-1.02
    "SSD(D_r)": (dict(epochs=0, alpha=5.0), 0.25, 0.1, 0.8),
    # Forget-only: one step of alpha times D_f's mean gradient (the DELETE authors' variant,
    # no Hessian); alpha 0.05 already leaves keep 0.30 on this small network.
    # measured (after issue #12, 8 runs): p_f drop 0.27-0.35, acc_f 0.01-0.11,
    # keep 0.88-0.98
    "InfluenceUnlearn": (dict(epochs=0, alpha=0.01), 0.15, 0.25, 0.7),
    # The official WoodFisher recursion, N = 64 (alpha 0.2 keeps only 0.42 on seed 0).
    # measured (after issue #12, 8 runs): p_f drop 0.12-0.30, acc_f 0.05-0.36,
    # keep 0.73-1.00 (the noisiest case: 64 single-sample gradients)
    "InfluenceUnlearn(D_r)": (dict(epochs=0, alpha=0.05, num_samples=64), 0.05, 0.5, 0.6),
}


@pytest.mark.parametrize("case", list(CASES))
def test_method_forgets_and_keeps(original, case):
    settings, min_drop, max_acc_f, keep = CASES[case]
    settings = dict(settings)
    if case.endswith("(D_r)"):
        settings["remain"] = True
    model, after = run(original, case.split("(")[0], **settings)
    before = original["before"]
    assert model.uses_remaining_data == settings.get("remain", False)
    assert after["p_f"] < before["p_f"] - min_drop, (before, after)
    assert after["acc_f"] <= max_acc_f, (before, after)
    assert after["acc_r"] >= keep * before["acc_r"], (before, after)


def test_fixed_random_labels_never_give_a_forgotten_class_and_stay_fixed():
    labels = torch.tensor([0, 0, 3, 1, 0, 2] * 50)
    uids = torch.arange(len(labels))
    out = fixed_random_labels(labels, uids, (0, 1), 5, seed=0)
    forgotten = torch.isin(labels, torch.tensor([0, 1]))
    assert torch.equal(out[~forgotten], labels[~forgotten])
    assert set(out[forgotten].tolist()) == {2, 3, 4}
    counts = torch.bincount(out[forgotten], minlength=5)[2:].float()
    assert counts.min() > 0.7 * counts.mean()
    assert torch.equal(out, fixed_random_labels(labels, uids, (0, 1), 5, seed=0))
    assert not torch.equal(out, fixed_random_labels(labels, uids, (0, 1), 5, seed=1))
    dense = fixed_random_labels(torch.zeros(2, 3, 4, dtype=torch.long), torch.tensor([7, 8]),
                                (0,), 3)
    assert dense.shape == (2, 3, 4) and set(dense.unique().tolist()) <= {1, 2}


def test_losses_by_hand():
    logits = torch.tensor([[2.0, 0.0], [0.0, 0.0]])
    targets = torch.tensor([0, 1])
    assert float(cross_entropy(logits, targets)) == pytest.approx(
        (np.log(1 + np.exp(-2)) + np.log(2)) / 2, rel=1e-5)
    assert float(cross_entropy(logits, targets, torch.tensor([False, True]))) == pytest.approx(
        np.log(2), rel=1e-5)
    p = np.array([np.exp(2) / (1 + np.exp(2)), 1 / (1 + np.exp(2))])
    kl = float((p * np.log(p / 0.5)).sum())
    assert float(kl_divergence(torch.zeros(1, 2), logits[:1])) == pytest.approx(kl, rel=1e-5)
    assert float(kl_divergence(logits[:1], logits[:1], 4.0)) == pytest.approx(0, abs=1e-7)


def test_salun_mask_is_the_global_top_fraction():
    grads = {"a": torch.tensor([0.1, -5.0, 0.2]), "b": torch.tensor([[3.0, -0.05], [1.0, 0.0]]),
             "c": torch.tensor([-7.0])}
    masks = SalUn.saliency_masks(grads, 0.5)
    assert masks["a"].tolist() == [0, 1, 0] and masks["b"].tolist() == [[1, 0], [1, 0]]
    assert masks["c"].tolist() == [1]


def test_salun_leaves_non_salient_weights_at_their_original_values(original):
    model, _ = run(original, "SalUn", lr=2e-2, epochs=1)
    start = torch.load(original["path"], weights_only=True)
    changed = kept = 0
    for k, p in model.student.named_parameters():
        mask = model.masks[k].bool()
        assert torch.equal(p.detach()[~mask], start[k][~mask])
        changed += int((p.detach()[mask] != start[k][mask]).sum())
        kept += int((~mask).sum())
    assert changed > 0.3 * kept


def test_ssd_dampens_only_where_forget_importance_dominates():
    model = SSD(NETWORK, ADAPTER, remain_dataloader=DataLoader([]), alpha=10.0)
    w = model.student.head.weight
    with torch.no_grad():
        w.fill_(2.0)
    imp_d = {k: torch.ones_like(p) for k, p in model.student.named_parameters()}
    imp_f = {k: torch.ones_like(p) for k, p in model.student.named_parameters()}
    imp_f["head.weight"] = torch.zeros_like(w)
    imp_f["head.weight"][0, 0], imp_f["head.weight"][0, 1] = 40.0, 10.0
    model.dampen(imp_d, imp_f)
    assert w[0, 0].item() == pytest.approx(2.0 / 40) and w[0, 1].item() == 2.0
    assert torch.all(w.flatten()[1:] == 2.0)


def test_fisher_variance_rule_and_frozen_head(original):
    model = FisherForgetting(NETWORK, ADAPTER, remain_dataloader=DataLoader([]), alpha=1e-3)
    head = torch.tensor([[1e-8, 1.0], [0.0, 3.0]]).repeat(5, 1)
    var = model.noise_variance("head.weight", head)
    # 1/h clamped at 1e2 for the classifier, x alpha, fan-in mean, x10.
    assert var[0, 0].item() == pytest.approx((100 + 1 / (1 + 1e-8)) / 2 * 1e-3 * 10, rel=1e-5)
    conv = model.noise_variance("w", torch.full((4, 3, 1, 1), 1e-6))
    assert conv.unique().item() == pytest.approx(1e3 * 1e-3, rel=1e-5)
    bn = model.noise_variance("b", torch.tensor([0.5]))
    assert bn.item() == pytest.approx(1 / (0.5 + 1e-8) * 1e-3 * 10, rel=1e-5)
    model, _ = run(original, "FisherForgetting", epochs=0, remain=True, alpha=1e-4,
                   max_samples=16, frozen=("head",))
    start = torch.load(original["path"], weights_only=True)
    state = model.student.state_dict()
    assert torch.equal(state["head.weight"], start["head.weight"])
    assert not torch.equal(state["encoder.0.weight"], start["encoder.0.weight"])


def test_maga_perturbing_label_is_the_tau_ranked_similar_class():
    model = MaGA(dict(type="small_cnn", num_classes=10, width=4), ADAPTER, tau=0.3)
    model.transition = torch.eye(10)
    logits = torch.log(torch.tensor([[0.5, 0.2, 0.15, 0.1, 0.05, 0, 0, 0, 0, 0]]) + 1e-9)
    model.teacher_logits = lambda x, ds: logits
    # R = I (p with class 0 zeroed): ranks 1, 2, 3 -> floor(10 * 0.3) = 3rd is class 3.
    labels = model.perturbing_labels(None, dict(label=torch.tensor([0])))
    assert labels.tolist() == [3]
    matrix = model.estimate_transition([dict(inputs=torch.zeros(2, 3, 8, 8), data_samples=dict(
        label=torch.tensor([0, 0])))])
    assert torch.allclose(matrix[0], torch.softmax(model.teacher(torch.zeros(1, 3, 8, 8)), 1)[0])
    assert matrix[1, 1] >= 1 and matrix[1, 0] == matrix[0, 1]


def test_remaining_data_methods_refuse_to_run_without_it():
    for cls in (FisherForgetting, SSD):
        with pytest.raises(ValueError, match="remain_dataloader"):
            cls(NETWORK, ADAPTER)
    with pytest.raises(ValueError, match="remain_dataloader"):
        MODELS.build(dict(type="FineTune", network=NETWORK, adapter=ADAPTER))


def test_boundary_expand_exports_the_original_layout(original):
    model, _ = run(original, "BoundaryExpand", lr=1e-2, epochs=1)
    state = model.export_state_dict()
    assert set(state) == set(torch.load(original["path"], weights_only=True))
    assert state["head.weight"].shape == (10, 64)
