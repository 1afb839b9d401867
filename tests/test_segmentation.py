"""Segmentation task: VOC/CamVid loaders, ignore handling, IoU maths, pixel-level forgetting."""
import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image

from taskforget.apis import build_stage_config, checkpoint_path
from taskforget.cli import run_stage
from taskforget.datasets import ForgetSplitError
from taskforget.losses import masked_distillation_loss
from taskforget.registry import DATASETS, MODELS
from taskforget.request import compose_method
from taskforget.tasks.segmentation import (
    IGNORE_INDEX,
    VOC_CLASSES,
    CamVid,
    PascalVOC,
    SegmentationAdapter,
    SegUnlearningMetric,
    confusion_matrix,
    deeplabv3plus,
    intersect_and_union,
    iou_from_confusion,
    segmentation_scores,
    tiny_segnet,
)
from taskforget.tasks.segmentation.visualize import voc_palette
from tests.helpers import pin_own_schedule

CAMVID_CLASSES = ("sky", "building", "pole", "road", "pavement", "tree", "signsymbol", "fence",
                  "car", "pedestrian", "bicyclist")
CAR_VOC, CAR = VOC_CLASSES.index("car"), CAMVID_CLASSES.index("car")


# ---------------------------------------------------------------- PASCAL VOC fixture
@pytest.fixture
def voc_root(tmp_path):
    """A 4-image VOC2012 tree: 2 train images with a car, 1 without, 1 val image with a car."""
    root = tmp_path / "VOCdevkit" / "VOC2012"
    for d in ("JPEGImages", "SegmentationClass", "ImageSets/Segmentation"):
        (root / d).mkdir(parents=True)
    rng = np.random.default_rng(0)
    labels = {}
    for name, classes in (("2007_000001", (CAR_VOC, 15)), ("2007_000002", (12,)),
                          ("2007_000003", (CAR_VOC,)), ("2007_000004", (CAR_VOC, 1))):
        label = np.zeros((30, 40), dtype=np.uint8)
        for k, c in enumerate(classes):
            label[5 + 10 * k:12 + 10 * k, 5:30] = c
        label[4, :] = 255  # VOC's object-boundary "ignore" band
        labels[name] = label
        im = Image.fromarray(label, mode="P")
        im.putpalette(voc_palette().flatten().tolist())
        im.save(root / "SegmentationClass" / f"{name}.png")
        Image.fromarray(rng.integers(0, 255, (30, 40, 3), dtype=np.uint8)).save(
            root / "JPEGImages" / f"{name}.jpg")
    (root / "ImageSets/Segmentation/train.txt").write_text("2007_000001\n2007_000002\n"
                                                          "2007_000003\n")
    (root / "ImageSets/Segmentation/val.txt").write_text("2007_000004\n")
    return root, labels


def test_voc_layout_and_forget_split(voc_root):
    root, labels = voc_root
    full = PascalVOC(root=str(root), split=["train", "val"], forget_classes=["car"])
    assert len(full) == 4 and len(full.class_names) == 21
    assert full.is_train.tolist() == [True, True, True, False]
    assert full.has_forget.tolist() == [True, False, True, True]
    item = full[0]
    assert item["inputs"].shape == (3, 30, 40)
    np.testing.assert_array_equal(item["data_samples"]["label"].numpy(), labels["2007_000001"])

    forget = PascalVOC(root=str(root), split="train", forget_classes="car", subset="forget")
    assert [p.rsplit("/", 1)[1] for p, _ in forget.items] == ["2007_000001.png".replace(
        "png", "jpg"), "2007_000003.jpg"]
    assert int((forget[0]["data_samples"]["label"] == CAR_VOC).sum()) == 7 * 25  # labels kept

    remain = PascalVOC(root=str(root), split="train", forget_classes=[CAR_VOC], subset="remain")
    assert len(remain) == 3  # every image stays; only the car pixels become ignore
    label = remain[0]["data_samples"]["label"].numpy()
    expected = labels["2007_000001"].copy()
    expected[expected == CAR_VOC] = IGNORE_INDEX
    np.testing.assert_array_equal(label, expected)
    assert (label == 15).sum() == 7 * 25  # person pixels untouched


def test_voc_errors(voc_root, tmp_path):
    root, _ = voc_root
    with pytest.raises(ForgetSplitError, match="unknown class name"):
        PascalVOC(root=str(root), forget_classes=["truck"])
    with pytest.raises(ForgetSplitError, match="forget set is empty"):
        PascalVOC(root=str(root), split="train", forget_classes=["cat"], subset="forget")
    with pytest.raises(FileNotFoundError, match="ImageSets/Segmentation"):
        PascalVOC(root=str(tmp_path))


@pytest.mark.parametrize("name, method", [
    ("seg_voc_car", None), ("seg_camvid_car", None), ("seg_camvid_car_labelled", None),
    ("seg_camvid_car", "negative_gradient"), ("seg_camvid_car", "random_label")])
def test_configs_build_every_stage(name, method):
    cfg = compose_method(Config.fromfile(f"configs/{name}.py"), method)
    stages = {s: build_stage_config(cfg, s) for s in ("original", "retrain", "forget", "test")}
    assert stages["retrain"].train_dataloader.dataset.subset == "remain"
    assert stages["forget"].train_dataloader.dataset.subset == "forget"
    assert stages["forget"].model.adapter.forget_classes == ["car"]
    assert stages["forget"].test_evaluator.forget_classes == ["car"]
    assert stages["original"].model.type == "SupervisedModel"
    if method is not None:  # the baseline's schedule: its selected one (tuned/seg_camvid_car.py)
        selected = cfg.method_settings[method].forget
        assert stages["forget"].train_cfg.max_epochs == selected.train_cfg.max_epochs
        assert stages["forget"].optim_wrapper.optimizer.lr == selected.optim_wrapper.optimizer.lr
        assert stages["forget"].model.type == {"negative_gradient": "NegativeGradient",
                                               "random_label": "RandomLabel"}[method]


def test_voc_config_pipeline_on_fixture(voc_root):
    root, _ = voc_root
    cfg = Config.fromfile("configs/seg_voc_car.py")
    train = DATASETS.build(dict(cfg.train_dataloader.dataset, root=str(root)))
    item = train[0]
    assert item["inputs"].shape == (3, 512, 512)  # padded up to the 512 crop
    assert (item["data_samples"]["label"] == IGNORE_INDEX).float().mean() > 0.9  # padding
    val = DATASETS.build(dict(cfg.test_dataloader.dataset, root=str(root)))
    assert len(val) == 1 and val[0]["inputs"].shape == (3, 30, 40)


# ---------------------------------------------------------------- CamVid (real files)
def test_camvid_real_files_void_is_ignore():
    data = CamVid(root="camvid", split="val", forget_classes=["car"], max_images=3)
    assert data.class_names == CAMVID_CLASSES and len(data) == 3
    image_path, label_path = data.items[0]
    raw = np.asarray(Image.open(label_path))
    label = data[0]["data_samples"]["label"].numpy()
    assert label.shape == (180, 240) and data[0]["inputs"].shape == (3, 180, 240)
    assert (raw == 11).any(), "this val image has void pixels"
    np.testing.assert_array_equal(label == IGNORE_INDEX, raw == 11)
    np.testing.assert_array_equal(label[raw != 11], raw[raw != 11])
    remain = CamVid(root="camvid", split="val", forget_classes=["car"], max_images=3,
                    subset="remain")
    rl = remain[0]["data_samples"]["label"].numpy()
    assert not (rl == CAR).any() and ((rl == IGNORE_INDEX) == ((raw == 11) | (raw == CAR))).all()


def test_camvid_train_pipeline_pads_with_ignore():
    pipeline = [dict(type="PadIfNeeded", min_height=192, min_width=256, border_mode=0,
                     fill=0, fill_mask=255, position="top_left"),
                dict(type="RandomCrop", height=192, width=256), dict(type="Normalize"),
                dict(type="ToTensorV2")]
    data = CamVid(root="camvid", split="train", max_images=2, pipeline=pipeline)
    item = data[0]
    assert item["inputs"].shape == (3, 192, 256) and item["data_samples"]["label"].dtype == \
        torch.int64
    label = item["data_samples"]["label"]
    assert (label[180:] == IGNORE_INDEX).all() and (label[:, 240:] == IGNORE_INDEX).all()
    assert data.augment


# ---------------------------------------------------------------- adapter and ignore handling
def _adapter(scope="all"):
    return SegmentationAdapter(CAMVID_CLASSES, ["car"], mask_scope=scope)


def test_adapter_masks_and_ignored_pixels():
    label = torch.tensor([[[CAR, 0], [IGNORE_INDEX, 3]]])
    samples = dict(label=label, uid=torch.tensor([0]), is_train=torch.tensor([True]))
    logits = torch.randn(1, 11, 2, 2, requires_grad=True)
    a_all, a_lab = _adapter("all"), _adapter("labelled")
    assert a_all.valid(samples).tolist() == [[[True, True], [False, True]]]
    m = a_all.class_mask(logits, samples)
    assert m.shape == (1, 11, 1, 1) and m[0, :, 0, 0].nonzero().flatten().tolist() == [CAR]
    m = a_lab.class_mask(logits, samples)
    assert m.shape == (1, 11, 2, 2) and m.sum() == 1 and bool(m[0, CAR, 0, 0])
    # cross-entropy and DELETE's loss: the ignored pixel gets exactly zero gradient
    for loss in (a_all.supervised_loss(logits, samples),
                 masked_distillation_loss(logits, torch.randn(1, 11, 2, 2),
                                          a_all.class_mask(logits, samples),
                                          a_all.valid(samples))):
        (grad,) = torch.autograd.grad(loss, logits)
        assert grad[0, :, 1, 0].abs().sum() == 0 and grad[0, :, 0, 0].abs().sum() > 0
    with pytest.raises(ValueError, match="mask_scope"):
        _adapter("some")


def test_adapter_predict_confusions():
    label = torch.tensor([[[CAR, CAR, 0, IGNORE_INDEX]], [[3, 3, 3, 3]]])
    logits = torch.zeros(2, 11, 1, 4)
    logits[0, CAR, 0, 0] = logits[0, 3, 0, 1] = logits[0, 0, 0, 2] = logits[0, 5, 0, 3] = 1
    logits[1, 3] = 1
    out = _adapter().predict(logits, dict(label=label, is_train=torch.tensor([False, True])))
    c0 = out[0]["confusion"]
    assert c0.sum() == 3 and c0[CAR, CAR] == 1 and c0[CAR, 3] == 1 and c0[0, 0] == 1
    assert out[0]["has_forget"] and not out[1]["has_forget"] and out[1]["is_train"]
    assert out[1]["confusion"][3, 3] == 4


# ---------------------------------------------------------------- IoU maths
def test_iou_maths_on_known_confusions():
    label = np.array([[0, 0, 1, 1], [2, 2, 255, 1]])
    pred = np.array([[0, 1, 1, 1], [2, 0, 2, 2]])
    inter, union, area_pred, area_label = intersect_and_union(pred, label, 3)
    assert inter.tolist() == [1, 2, 1] and area_label.tolist() == [2, 3, 2]
    assert area_pred.tolist() == [2, 3, 2] and union.tolist() == [3, 4, 3]
    cm = confusion_matrix(torch.tensor(label), torch.tensor(pred), 3).numpy()
    assert cm.tolist() == [[1, 1, 0], [0, 2, 1], [1, 0, 1]]
    np.testing.assert_allclose(iou_from_confusion(cm), 100 * inter / union)
    scores = segmentation_scores(cm, forget_ids=[1], class_names=["a", "b", "c"])
    assert scores["IoU_ft"] == pytest.approx(50)
    assert scores["IoU_rt"] == pytest.approx(100 / 3)
    assert scores["mIoU"] == pytest.approx((100 / 3 + 50 + 100 / 3) / 3)
    assert scores["aAcc"] == pytest.approx(400 / 7)
    assert scores["forget_as/c"] == pytest.approx(100 / 3)  # one of the 3 'b' pixels -> c
    # a class absent from truth and prediction is NaN and left out of the means
    cm4 = np.zeros((4, 4), int)
    cm4[:3, :3] = cm
    assert np.isnan(iou_from_confusion(cm4)[3])
    assert segmentation_scores(cm4, [1], "abcd")["IoU_rt"] == pytest.approx(scores["IoU_rt"])


def test_metric_original_and_h_mean():
    cm_new = torch.tensor([[4, 0], [2, 0]])  # class 1 never predicted any more
    cm_old = torch.tensor([[4, 0], [0, 2]])
    metric = SegUnlearningMetric(forget_classes=[1], class_names=["x", "y"])
    metric.process(None, [dict(confusion=cm_new, is_train=False,
                               original=dict(confusion=cm_old, is_train=False))])
    m = metric.compute_metrics(metric.results)
    assert m["IoU_ft"] == 0 and m["IoU_rt"] == pytest.approx(400 / 6)
    assert m["original/IoU_ft"] == 100 and m["original/IoU_rt"] == 100
    assert m["H-Mean"] == pytest.approx(2 * (400 / 6) * 100 / (400 / 6 + 100))
    assert m["forget_as/x"] == 100


# ---------------------------------------------------------------- networks and baselines
def test_networks_any_size():
    x = torch.randn(1, 3, 45, 61)
    assert tiny_segnet(5)(x).shape == (1, 5, 45, 61)
    net = deeplabv3plus(3, encoder_name="resnet18").eval()
    with torch.no_grad():
        assert net(torch.randn(1, 3, 40, 50)).shape == (1, 3, 40, 50)


def test_shared_baselines_on_pixels():
    """The shared NG / RL baselines (seg_camvid_car_{ng,rl}.py) act on the car pixels only."""
    adapter = dict(type="SegmentationAdapter", class_names=CAMVID_CLASSES,
                   forget_classes=["car"])
    label = torch.full((2, 8, 8), 3)
    label[0, :2, :2] = CAR
    label[1, 0, 0] = IGNORE_INDEX
    samples = dict(label=label, uid=torch.tensor([5, 6]), is_train=torch.tensor([True, True]))
    network = dict(type="tiny_segnet", num_classes=11)
    rl = MODELS.build(dict(type="RandomLabel", network=network, adapter=adapter))
    relabelled = rl.relabel(None, samples)
    car = label == CAR
    assert torch.equal(relabelled[~car], label[~car])  # other and ignored pixels unchanged
    # a random class among all 11, the true one included (Random Label as published)
    assert ((relabelled[car] >= 0) & (relabelled[car] < 11)).all()
    assert torch.equal(relabelled, rl.relabel(None, samples))  # fixed per image and pixel
    ng = MODELS.build(dict(type="NegativeGradient", network=network, adapter=adapter))
    x = torch.randn(2, 3, 8, 8)
    assert ng.unlearn_loss(x, samples)["loss_ascent"] < 0
    no_car = dict(samples, label=torch.full((2, 8, 8), 3))
    assert ng.unlearn_loss(x, no_car)["loss_ascent"] == 0  # nothing to ascend on


# ---------------------------------------------------------------- a short real run
def _tiny_experiment(tmp_path, **overrides):
    cfg = Config.fromfile("configs/seg_camvid_car.py")
    half = [dict(type="Resize", height=90, width=120), *cfg.test_pipeline]
    images = dict(split="train", max_images=12, pipeline=half)
    cfg.model.network = dict(type="tiny_segnet", num_classes=11, width=32)
    cfg.merge_from_dict({
        "work_root": str(tmp_path),
        "train_dataloader.batch_size": 4, "train_dataloader.dataset": images,
        "forget_dataloader.batch_size": 4, "forget_dataloader.dataset": images,
        "val_dataloader.dataset": images, "test_dataloader.dataset": images,
        "pretrain.train_cfg": dict(max_epochs=60, val_interval=100),
        "pretrain.optim_wrapper": dict(type="OptimWrapper", optimizer=dict(lr=0.1)),
        "pretrain.param_scheduler": [], "forget.train_cfg": dict(max_epochs=10, val_interval=10),
        "forget.optim_wrapper": dict(type="OptimWrapper", optimizer=dict(lr=0.05)),
        "default_hooks.logger.interval": 100, **overrides})
    return pin_own_schedule(cfg)


def test_short_real_run_forgets_car(tmp_path):
    """Original model trained on 12 real CamVid images; DELETE must erase 'car' on them while
    keeping the other classes. Masking every pixel erases it fully; masking only the car
    pixels erases it more slowly (measured here: 90% of car pixels called car -> 0% vs 50%)."""
    cfg = _tiny_experiment(tmp_path)
    original = run_stage(cfg, "original")["metrics"]
    assert checkpoint_path(cfg, "original").is_file()
    assert original["IoU_f"] == original["train/IoU/car"] > 15, original
    assert original["train/forget_as/car"] > 60, original
    results = {}
    for scope in ("all", "labelled"):
        cfg.merge_from_dict({"model.adapter.mask_scope": scope, "run_suffix": f"_{scope}"})
        m = results[scope] = run_stage(cfg, "forget")["metrics"]
        assert m["original/IoU_f"] == pytest.approx(original["IoU_f"], abs=1e-6)
        assert m["IoU_r"] > original["IoU_r"] - 5, (scope, m)
    assert results["all"]["IoU_f"] < 0.1 * original["IoU_f"], results["all"]
    assert results["all"]["train/forget_as/car"] < 2, results["all"]
    labelled = results["labelled"]
    assert labelled["train/forget_as/car"] < 0.75 * original["train/forget_as/car"], labelled
    assert results["all"]["IoU_f"] < labelled["IoU_f"] < original["IoU_f"]


def test_overlay_figure_rows_with_and_without_car(tmp_path):
    from taskforget.checkpoint import save_weights
    from taskforget.commands.seg_overlay import make_overlay
    cfg = Config.fromfile("configs/seg_camvid_car.py")
    cfg.model.network = dict(type="tiny_segnet", num_classes=11, width=4)
    save_weights(tiny_segnet(11, width=4).state_dict(), str(tmp_path / "w.pth"))
    out = tmp_path / "overlay.png"
    make_overlay(cfg, {"original": str(tmp_path / "w.pth"), "DELETE": str(tmp_path / "w.pth")},
                 str(out), with_forget=1, without_forget=1)
    figure = np.asarray(Image.open(out).convert("RGB"))  # saved with a 256-colour palette
    assert figure.ndim == 3 and figure.shape[1] > 3 * figure.shape[0] / 2  # 2 rows, 4 columns


def test_audit_command_on_a_segmentation_checkpoint(tmp_path, capsys):
    """`taskforget audit` on a segmentation config: the IoU table, where the car pixels go and
    the prediction overlays, in one report with a verdict."""
    import sys

    from taskforget.__main__ import main
    from taskforget.checkpoint import save_weights
    weights = {}
    for name, seed in (("model", 0), ("retrain", 1), ("original", 2)):
        torch.manual_seed(seed)
        weights[name] = save_weights(tiny_segnet(11, width=4), tmp_path / f"{name}.pth")
    out = tmp_path / "report"
    argv = sys.argv
    try:
        main(["audit", "configs/seg_camvid_car.py", str(weights["model"]),
              "--retrain", str(weights["retrain"]), "--original", str(weights["original"]),
              "--out", str(out), "--work-dir", str(tmp_path), "--cfg-options",
              "model.network={'_delete_':True,'type':'tiny_segnet','num_classes':11,'width':4}",
              "test_dataloader.dataset.max_images=8"])
    finally:
        sys.argv = argv
    assert "verdict: model differs from retrain" in capsys.readouterr().out
    text = (out / "audit.md").read_text()
    assert "## IoU (%)" in text and "## Where the forgotten class went (%)" in text
    assert "![prediction overlays](overlays.png)" in text
    overlays = np.asarray(Image.open(out / "overlays.png").convert("RGB"))
    assert overlays.shape[1] > overlays.shape[0]  # rows of 5 panels: image, truth, 3 models
    assert (out / "audit.html").is_file() and (out / "where.png").is_file()
