"""Backdoor task: poisoning, metrics, trigger recovery and the defense on real CIFAR-10 slices.

The end-to-end tests train a tiny CNN (width 8) on 1,000 real CIFAR-10 training images of which
15% carry a 5x5 trigger, once per module (seeded by the runner), and defend it with 600 test
images (a quarter held out for the defender). Their thresholds come from the spread measured
over 5 seeds x {1, 2} threads (``randomness.seed`` and ``torch.set_num_threads``); see the
comments beside them.
"""
import json

import numpy as np
import pytest
import torch
from mmengine.config import Config

from taskforget.apis import checkpoint_path
from taskforget.checkpoint import read_state_dict
from taskforget.tasks.backdoor import (
    BackdoorDataset,
    BackdoorMetric,
    BadNetsAttack,
    Trigger,
    backdoor_scores,
    holdout_indices,
)
from taskforget.tasks.backdoor.adapter import BackdoorAdapter
from taskforget.tasks.backdoor.config import prepare_backdoor_config
from taskforget.tasks.backdoor.defense import load_clean_holdout, pixel_model, run_defense
from taskforget.tasks.backdoor.recovery import anomaly_index, baeraser_recover, flag_label, paste
from tests.helpers import pin_own_schedule

torch.set_num_threads(1)
# preload=False: decode only the sampled images, not the whole split
CIFAR = dict(type="ImageFolderClassification", root="cifar10", preload=False)
TEST_PER_CLASS = 60  # test images per class of the end-to-end tests (150 held out, 450 scored)
# Neural Cleanse's anomaly threshold per model (poisoned: True). On these tiny models its MAD
# rule cannot tell a backdoored model from a clean one at the paper's 2.0: the clean labels'
# mask norms spread from ~100 to ~500, so however small the target's (6-15), its index stays
# low. Measured over 5 seeds x {1, 2} threads: the poisoned model's target 1.95-19 (1.66-4.38
# without augmentation and with 40 test images per class; either way 1 run in 10 was missed
# at 2.0); the largest index of a below-median label of the clean model 0.97-1.82 (up to 2.35
# in 3 runs with augmentation). So each test sets the threshold its claim needs, with a
# margin: the defense test that the flagged target is recovered and unlearned, the clean test
# that nothing flagged means nothing changed.
NC_THRESHOLD = {True: 1.0, False: 3.0}


def _find_patch(image: np.ndarray, patch: np.ndarray):
    k = patch.shape[0]
    windows = np.lib.stride_tricks.sliding_window_view(image, (k, k, 3))[:, :, 0]
    return [tuple(p) for p in np.argwhere((windows == patch).all((2, 3, 4)))]


def test_poisoning_stamps_exact_fraction_with_target_label():
    attack = dict(trigger_size=3, target=2, poison_rate=0.05, seed=1)
    ds = BackdoorDataset(dict(CIFAR, split="train", max_per_class=20), attack, mode="poison")
    assert len(ds) == 200 and ds.poisoned.sum() == 10  # exactly 5% of 200
    pattern = BadNetsAttack(**attack).pattern()
    positions = set()
    for i in range(len(ds)):
        item = ds[i]
        s = item["data_samples"]
        image = (item["inputs"].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        hits = _find_patch(image, pattern)
        if ds.poisoned[i]:
            assert s["triggered"] and s["label"] == 2 and s["true_label"] != 2
            assert len(hits) == 1
            positions.add(hits[0])
        else:
            assert not s["triggered"] and s["label"] == s["true_label"] and not hits
    assert len(positions) > 5  # random positions
    assert (ds.labels == 2).sum() == 20 + 10


def test_eval_and_stamp_sets(tmp_path):
    attack = dict(trigger_size=3, target=0)
    inner = dict(CIFAR, split="test", max_per_class=8)
    ev = BackdoorDataset(inner, attack, mode="eval")
    assert len(ev) == 80 + 72  # every image clean + a triggered copy of the 72 non-target ones
    uids = [ev[i]["data_samples"]["uid"] for i in range(len(ev))]
    assert len(set(uids)) == len(uids)
    assert torch.equal(ev[100]["inputs"], ev[100]["inputs"])  # fixed positions in eval mode
    defense = holdout_indices(80, "defense", 0.25, 0)
    rest = holdout_indices(80, "eval", 0.25, 0)
    assert len(defense) == 20 and len(rest) == 60 and not set(defense) & set(rest)
    # a recovered full-image trigger (mask 1 on the top-left 2x2, white) stamps in place
    masks = np.zeros((1, 32, 32))
    masks[0, :2, :2] = 1
    path = Trigger(masks, np.ones((1, 32, 32, 3)), random_position=False).save(tmp_path / "t.npz")
    st = BackdoorDataset(inner, attack, mode="stamp", trigger=str(path), holdout="defense")
    assert len(st) == 40 and st.augment
    item = st[39]["inputs"]
    assert torch.allclose(item[:, :2, :2], torch.ones(3, 2, 2))
    assert torch.equal(item[:, 2:, 2:], st[19]["inputs"][:, 2:, 2:])
    # the same trigger shifted (Neural Cleanse with nc_shift): the 2x2 white block moves
    # cyclically, so exactly 4 pixels per channel are white and the rest is untouched
    shifted = Trigger(masks, np.ones((1, 32, 32, 3)), random_position=True)
    image = np.zeros((32, 32, 3), np.uint8)
    offsets = set()
    for seed in range(20):
        out = shifted.stamp(image, np.random.default_rng(seed))
        ys, xs = np.nonzero(out[..., 0])
        assert len(ys) == 4 and (out[ys, xs] == 255).all() and out.sum() == 4 * 3 * 255
        offsets.add((ys.min(), xs.min()))
    assert len(offsets) > 10
    with pytest.raises(ValueError, match="mode 'stamp' needs trigger"):
        BackdoorDataset(inner, attack, mode="stamp")
    # a BAERASER-style bank of 3x3 patches at random positions: a fresh position per access,
    # the same sequence for the same seed (the runner seeds torch), no draw from numpy's global
    # generator (the augmentation's seeds come from it)
    bank = Trigger(np.ones((2, 3, 3)), np.ones((2, 3, 3, 3)), random_position=True)
    path = bank.save(tmp_path / "bank.npz")

    def stamped(seed, accesses=6):
        torch.manual_seed(seed)
        np.random.seed(seed)
        state = np.random.get_state()[1].copy()
        st = BackdoorDataset(inner, attack, mode="stamp", trigger=str(path), holdout="defense")
        assert (np.random.get_state()[1] == state).all()
        return [st[39]["inputs"] for _ in range(accesses)]

    first, again, other = stamped(0), stamped(0), stamped(1)
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert len({tuple(x.flatten().tolist()) for x in first}) > 1  # positions move per access
    assert not all(torch.equal(a, b) for a, b in zip(first, other))

    # DataLoader workers: each stamps its own sequence (from its own seed, not a copy of the
    # main process's generator), and a seeded loader stamps the same way every time
    st = BackdoorDataset(inner, attack, mode="stamp", trigger=str(path), holdout="defense")
    st[39]  # the main process's generator exists before the workers start

    def loaded(seed, per_worker=3):
        torch.manual_seed(seed)
        loader = torch.utils.data.DataLoader(st, batch_size=None, num_workers=2,
                                             sampler=[39] * (2 * per_worker))
        items = [item["inputs"] for item in loader]
        return items[0::2], items[1::2]  # batches go to the workers in turn

    worker0, worker1 = loaded(0)
    assert not all(torch.equal(a, b) for a, b in zip(worker0, worker1))
    again0, again1 = loaded(0)
    assert all(torch.equal(a, b) for a, b in zip(worker0 + worker1, again0 + again1))


def test_scores_and_anomaly_index_by_hand():
    labels = np.array([0, 1, 2, 1, 2, 0, 1])
    preds = np.array([0, 1, 0, 0, 2, 0, 1])
    triggered = np.array([0, 0, 0, 1, 1, 1, 1], bool)
    # clean: 2 of 3 right; triggered non-target (rows 3, 4, 6): one sent to target 0;
    # clean non-target (rows 1, 2): row 2 sent to target 0
    scores = backdoor_scores(labels, preds, triggered, target=0)
    assert scores == pytest.approx(dict(Acc=200 / 3, ASR=100 / 3, ASR_clean=50.0))
    records = [dict(label=int(y), pred=int(p), triggered=bool(t), original=dict(
        label=int(y), pred=0)) for y, p, t in zip(labels, preds, triggered)]
    out = BackdoorMetric.calculate(records, 0)
    assert out["ASR_original"] == 100 and out["Acc_original"] == pytest.approx(100 / 3)
    # norms 10, 10, 11, 9, 10, 2: median 10, MAD 1.4826 * 0 -> use a spread-out example
    norms = [10, 12, 8, 11, 9, 2]
    # median 9.5; |dev| = .5 2.5 1.5 1.5 .5 7.5 -> MAD 1.5 * 1.4826
    np.testing.assert_allclose(anomaly_index(norms)[5], 7.5 / (1.5 * 1.4826))
    assert flag_label(norms) == 5
    assert flag_label([10, 12, 8, 11, 9, 30]) is None  # anomalous but above the median
    assert flag_label([10, 12, 8, 11, 9, 9.5]) is None


def test_adapter_masks_target_on_triggered_non_target_rows_only():
    adapter = BackdoorAdapter(class_names=("a", "b", "c"), forget_classes=[1])
    samples = dict(label=torch.tensor([0, 1, 2, 1]), true_label=torch.tensor([0, 1, 2, 1]),
                   triggered=torch.tensor([True, True, False, False]))
    mask = adapter.class_mask(torch.zeros(4, 3), samples)
    assert mask.tolist() == [[False, True, False], [False] * 3, [False] * 3, [False] * 3]


def test_paste_is_differentiable_and_in_bounds():
    images = torch.zeros(4, 3, 8, 8)
    patches = torch.ones(4, 3, 3, 3, requires_grad=True)
    out = paste(images, patches, torch.Generator().manual_seed(0))
    assert out.sum() == 4 * 27
    out.sum().backward()
    assert torch.equal(patches.grad, torch.ones_like(patches))


def _tiny_config(tmp_path, poison=True) -> Config:
    cfg = Config.fromfile("configs/backdoor_cifar10_k3.py")
    cfg.merge_from_dict({
        "work_root": str(tmp_path), "experiment": "tiny",
        "attack": dict(trigger_size=5, target=3, poison_rate=0.15, seed=0),
        "model.network": dict(type="small_cnn", num_classes=10, width=8),
        "train_dataloader.dataset.dataset.max_per_class": 100,
        **{f"{key}.dataset.preload": False for key in (
            "train_dataloader.dataset", "val_dataloader.dataset", "test_dataloader.dataset",
            "defense_dataset", "forget_dataloader.dataset")},
        # The poisoned model trains with the config's crop + flip (seeded by the run seed),
        # the clean one without; see NC_THRESHOLD for what that does to Neural Cleanse.
        "train_dataloader.dataset.dataset.pipeline": (cfg.train_pipeline if poison
                                                      else cfg.test_pipeline),
        "train_dataloader.dataset.mode": "poison" if poison else "clean",
        "train_dataloader.batch_size": 50,
        # every view of the test split samples the same images, so that the defender's
        # quarter and the evaluated rest stay disjoint
        **{f"{key}.dataset.max_per_class": TEST_PER_CLASS for key in (
            "val_dataloader.dataset", "test_dataloader.dataset", "defense_dataset",
            "forget_dataloader.dataset")},
        "forget_dataloader.batch_size": 40,
        "pretrain.train_cfg.max_epochs": 12, "pretrain.train_cfg.val_interval": 100,
        "pretrain.param_scheduler": [dict(type="OneCycleLR", eta_max=0.05, begin=0, end=12,
                                          by_epoch=True, convert_to_iter_based=True)],
        "pretrain.optim_wrapper.type": "OptimWrapper",
        "forget.train_cfg.max_epochs": 10, "forget.train_cfg.val_interval": 100,
        "forget.optim_wrapper.optimizer.lr": 0.03,
        "defense.neural_cleanse": dict(steps=60, batch_size=50,
                                       anomaly_threshold=NC_THRESHOLD[poison]),
        "defense.baeraser": dict(patch_size="auto", epochs=40, batch_size=50, lr=1e-3),
        "default_hooks.logger.interval": 1000,
        "log_level": "WARNING",
    })
    return prepare_backdoor_config(pin_own_schedule(cfg))


@pytest.fixture(scope="module")
def poisoned(tmp_path_factory):
    from taskforget.cli import run_stage
    path = tmp_path_factory.mktemp("poisoned")
    cfg = _tiny_config(path)
    record = run_stage(cfg, "original", name="poisoned")
    return cfg, str(checkpoint_path(cfg, "original")), record["metrics"]


def test_baeraser_recovers_a_working_trigger(poisoned):
    cfg, ckpt, metrics = poisoned
    # measured over 5 seeds x {1,2} threads: ASR 99.5-100, Acc 33.8-37.6; BAERASER's trigger
    # ASR 0.98-1.00
    assert metrics["ASR"] > 80 and metrics["Acc"] > 25
    model = pixel_model(cfg, ckpt)
    images, labels = load_clean_holdout(cfg)
    bae = baeraser_recover(model, images, 3, patch_size=5, epochs=40, batch_size=50, lr=1e-3,
                           labels=labels)
    assert bae["asr"] > 0.8


def test_defend_drives_asr_down(poisoned, tmp_path):
    cfg, ckpt, metrics = poisoned
    cfg = cfg.copy()
    cfg.defense.recover = "neural_cleanse"  # Neural Cleanse detects the target and recovers
    report = run_defense(cfg, ckpt, work_dir=str(tmp_path), name="delete")
    m = report["metrics"]
    # measured over 5 seeds x {1,2} threads (bf16 autocast, a CPU with native bf16): the
    # target's anomaly index 1.95-19 (threshold NC_THRESHOLD[True]); ASR 99.5-100 -> 0.0-12.5;
    # clean Acc moves by -3.8 to +3.1 points. In fp32 (an AVX2-only AMD EPYC, 5 seeds x 1
    # thread + 3 seeds x 2 threads, at this schedule): ASR 99.5-100 -> 0.0-3.2, Acc -5.1 to +0.4
    assert report["backdoor_detected"] and report["flagged"] == 3
    # the defense must cut the attack's success at least by a factor of three
    assert m["ASR_original"] > 80 and m["ASR"] < m["ASR_original"] / 3
    assert m["Acc"] > m["Acc_original"] - 8
    saved = json.loads((tmp_path / "defense" / "delete" / "report.json").read_text())
    assert saved["metrics"]["ASR"] == m["ASR"]
    # the machine and the precision it trained in (the fixture's plain OptimWrapper) are kept
    assert saved["device"].startswith("cpu") and saved["hyperparameters"]["optim_wrapper"] == \
        "OptimWrapper"
    assert report["trigger_png"] == str(tmp_path / "recovery" / "neural_cleanse" / "trigger.png")
    assert (tmp_path / "recovery" / "neural_cleanse" / "trigger.png").is_file()


def test_no_backdoor_model_is_left_unchanged(tmp_path):
    from taskforget.cli import run_stage
    cfg = _tiny_config(tmp_path, poison=False)
    run_stage(cfg, "original", name="clean")
    ckpt = checkpoint_path(cfg, "original")
    report = run_defense(cfg, str(ckpt), name="delete")
    # measured over 5 seeds x {1,2} threads: largest index of a below-median label 0.97-1.82
    # (threshold NC_THRESHOLD[False])
    assert report["backdoor_detected"] is False and report["flagged"] is None
    before, after = read_state_dict(ckpt), read_state_dict(report["weights"])
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert report["metrics"]["ASR"] == report["metrics"]["ASR_original"]


def test_nad_attention_layers_and_maps():
    from taskforget.tasks.backdoor.methods import attention_layers, attention_map
    from taskforget.tasks.classification import small_cnn
    net = small_cnn(width=4)
    names = attention_layers(net)
    sizes = []
    for name in names:
        out = {}
        net.get_submodule(name).register_forward_hook(lambda m, i, o: out.update(o=o))
        net(torch.zeros(1, 3, 32, 32))
        sizes.append(out["o"].shape[-1])
    assert sizes == [32, 16, 8]  # one map per resolution, the last module of each
    feats = torch.zeros(2, 3, 2, 2)
    feats[0, :, 0, 0] = 2.0  # all energy at one position -> one-hot attention
    feats[1] = 1.0  # uniform -> 1/2 everywhere (L2-normalized over 4 positions)
    a = attention_map(feats)
    assert torch.allclose(a[0], torch.tensor([1.0, 0, 0, 0]))
    assert torch.allclose(a[1], torch.full((4,), 0.5))


def test_nad_teacher_follows_the_official_schedule(monkeypatch):
    """NAD's teacher (bboylyg/NAD: main.py at beta 0, utils/util.py adjust_learning_rate):
    SGD nesterov, weight decay 1e-4, lr 0.1 for two epochs then 0.01; the student starts from
    the backdoored weights, the teacher ends elsewhere."""
    from taskforget.api import _RunnerShim
    from taskforget.tasks.backdoor.methods import NAD
    from taskforget.tasks.classification import small_cnn
    torch.manual_seed(0)
    model = NAD(small_cnn(width=4), BackdoorAdapter(list("abc"), [0]), teacher_epochs=4)
    steps = []
    step = torch.optim.SGD.step

    def record(opt, *a, **k):
        g = opt.param_groups[0]
        steps.append((g["lr"], g["weight_decay"], g["nesterov"]))
        return step(opt, *a, **k)

    monkeypatch.setattr(torch.optim.SGD, "step", record)
    batch = dict(inputs=torch.randn(6, 3, 16, 16), data_samples=dict(
        label=torch.arange(6) % 3, true_label=torch.arange(6) % 3, uid=torch.arange(6),
        is_train=torch.ones(6, dtype=torch.bool)))
    before = {k: v.clone() for k, v in model.student.state_dict().items()}
    model.before_unlearning(_RunnerShim([batch, batch]))
    assert [s[0] for s in steps] == pytest.approx([0.1] * 4 + [0.01] * 4)
    assert {s[1:] for s in steps} == {(1e-4, True)}
    after = model.student.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    teacher = model.nad_teacher.state_dict()
    assert not torch.equal(teacher["head.weight"], before["head.weight"])
    assert not model.nad_teacher.training
