"""The tuning protocol's bookkeeping (benchmarks/tuning.py) on a synthetic score surface: which
points it runs, what it selects, and the settings file it writes. No model is trained."""
import math
import shutil
import sys
from pathlib import Path

import pytest
from mmengine.config import Config

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import tuning  # noqa: E402

from taskforget.request import compose_method  # noqa: E402


def surface(point) -> dict:
    """H-Mean peaks at lr 10^-3.4 in train mode; eval mode is 5 points lower; every point
    gains 0.1 per epoch; lr 1e-2 diverges. Knob methods peak at alpha 10^-6.4."""
    if point.knob is not None:
        h = 80 - 10 * abs(math.log10(point.knob) + 6.4)
    elif point.lr >= 1e-2:
        return dict(status="diverged", **{"H-Mean": None, "Acc_rt": None})
    else:
        h = 80 - 10 * abs(math.log10(point.lr) + 3.4) - 5 * (point.norm == "eval") \
            + 0.1 * point.epochs
    return {"H-Mean": h, "Acc_rt": 70.0, "status": "ok"}


@pytest.fixture
def search(tmp_path, monkeypatch):
    args = tuning.parse_args(["--out", str(tmp_path / "out"), "--tuned-config",
                              str(tmp_path / "tuned.py"), "--classes", "cat", "automobile"])
    s = tuning.Search(args)
    runs = []

    def run(point):
        runs.append(point)
        row = dict(method=point.method, **{"class": point.forget_class}, phase=point.phase,
                   lr=point.lr, norm=point.norm, knob=point.knob, epochs=point.epochs,
                   **surface(point))
        s.rows.append(row)
        return row

    monkeypatch.setattr(s, "run", run)
    return s, runs


def test_training_method_grid_refine_and_successive_halving(search):
    s, runs = search
    lr, norm, knob, epochs = s.search("delete")
    # 5 lr x 2 modes on both classes, two refining points, the best three at the full budget
    assert [len([p for p in runs if p.phase == ph]) for ph in ("grid", "refine", "full")] \
        == [20, 4, 6]
    assert {p.epochs for p in runs if p.phase != "full"} == {5}
    assert {p.epochs for p in runs if p.phase == "full"} == {20}
    refine = sorted({p.lr for p in runs if p.phase == "refine"})
    assert refine == pytest.approx([10 ** -3.5, 10 ** -2.5])
    # nearest the peak (10^-3.4): the refined 10^-3.5, train mode, at the full budget
    assert lr == pytest.approx(10 ** -3.5) and norm == "train" and epochs == 20
    assert knob is None


def test_remaining_data_methods_get_the_remaining_data_budget(search):
    s, runs = search
    assert s.search("finetune")[3] == tuning.BUDGET["remain"][1]
    assert {p.epochs for p in runs} == set(tuning.BUDGET["remain"])


def test_knob_method_and_the_written_settings(search, tmp_path):
    s, runs = search
    selected = {"fisher": s.search("fisher"), "delete": s.search("delete")}
    assert selected["fisher"][2] == pytest.approx(10 ** -6.5)
    assert {p.phase for p in runs if p.method == "fisher"} == {"grid", "refine"}
    s.write(selected)
    csv_rows = (tmp_path / "out" / "tuning.csv").read_text().splitlines()
    assert len(csv_rows) == 1 + len(runs)
    assert sum(",diverged" in r for r in csv_rows) == 4  # lr 1e-2, both modes, both classes
    # the written settings are a config the protocol composes with
    tuned = Config.fromfile(str(tmp_path / "tuned.py"))
    cfg = Config.fromfile(str(ROOT / "configs" / "cls_cifar10_resnet20_cpu.py"))
    cfg.method_settings = tuned.method_settings
    delete = compose_method(cfg, "delete")
    assert delete.model.norm_eval is False and delete.forget.train_cfg.max_epochs == 20
    assert delete.forget.optim_wrapper.optimizer.lr == pytest.approx(10 ** -3.5)
    assert compose_method(Config.fromfile(str(ROOT / "configs" / "cls_cifar10_resnet20_cpu.py")
                                          ), "fisher").model.alpha == 1e-7  # untouched
    cfg = Config.fromfile(str(ROOT / "configs" / "cls_cifar10_resnet20_cpu.py"))
    cfg.method_settings = tuned.method_settings
    assert compose_method(cfg, "fisher").model.alpha == pytest.approx(10 ** -6.5)


# ---- the same rule on the other tasks' protocols (issue #12 item 5) -------------------------
def fake_search(monkeypatch, argv):
    s = tuning.Search(tuning.parse_args(argv))
    runs = []

    def run(point):
        runs.append(point)
        scores = surface(point)
        if s.protocol.retain != "Acc_rt":  # the protocol's own tie-break column
            scores[s.protocol.retain] = scores.pop("Acc_rt")
        row = dict(method=point.method, **{"class": point.forget_class}, phase=point.phase,
                   lr=point.lr, norm=point.norm, knob=point.knob, epochs=point.epochs, **scores)
        s.rows.append(row)
        return row

    monkeypatch.setattr(s, "run", run)
    return s, runs


@pytest.mark.parametrize("protocol, classes, short, full", [
    ("face_yaleb", [5, 9], 10, 40), ("seg_camvid", ["pedestrian"], 1, 3)])
def test_protocol_points_and_budgets(monkeypatch, tmp_path, protocol, classes, short, full):
    s, runs = fake_search(monkeypatch, ["--protocol", protocol, "--out", str(tmp_path)])
    assert s.args.classes == classes
    assert s.search("delete") == (pytest.approx(10 ** -3.5), "train", None, full)
    n = len(classes)
    assert [len([p for p in runs if p.phase == ph]) for ph in ("grid", "refine", "full")] \
        == [10 * n, 2 * n, 3 * n]
    assert {p.forget_class for p in runs} == set(classes)
    assert {p.epochs for p in runs if p.phase != "full"} == {short}
    assert {p.epochs for p in runs if p.phase == "full"} == {full}


def test_protocol_methods_classes_and_output_paths():
    seg = tuning.parse_args(["--protocol", "seg_camvid"])
    assert seg.out == ROOT / "docs/results/segmentation"
    assert seg.tuned_config == ROOT / "configs/_base_/tuned/seg_camvid_car.py"
    assert seg.work_dir is None  # the protocol config's own work root
    assert tuning.PROTOCOLS["seg_camvid"].methods() == ["delete", "negative_gradient",
                                                        "random_label"]
    face = tuning.parse_args(["--protocol", "face_yaleb", "--classes", "9"])
    assert face.classes == [9]  # identity ids stay ints
    assert face.out == ROOT / "docs/results/face"
    assert face.tuned_config == ROOT / "configs/_base_/tuned/face_yaleb_id0.py"
    assert set(tuning.PROTOCOLS["face_yaleb"].methods()) >= {
        "delete", "random_label", "negative_gradient", "boundary_shrink"}
    cls = tuning.parse_args([])
    assert cls.out == ROOT / "docs/results/classification" and cls.classes == ["cat", "automobile"]
    assert cls.tuned_config == ROOT / "configs/_base_/tuned/cls_cifar10_resnet20_cpu.py"
    with pytest.raises(SystemExit):  # the quick check is the classification protocol's
        tuning.parse_args(["--protocol", "face_yaleb", "--quick"])


@pytest.mark.parametrize("protocol, leaf", [("face_yaleb", "face_yaleb_id0.py"),
                                            ("seg_camvid", "seg_camvid_car.py"),
                                            ("seg_camvid", "seg_camvid_car_labelled.py")])
def test_tuned_settings_are_inherited_by_the_protocol_config(monkeypatch, tmp_path, protocol,
                                                             leaf):
    """Written into a copy of configs/, the tuned file is what the protocol leaf composes."""
    shutil.copytree(ROOT / "configs", tmp_path / "configs")
    stem = Path(tuning.PROTOCOLS[protocol].config).stem
    s, runs = fake_search(monkeypatch, [
        "--protocol", protocol, "--out", str(tmp_path / "out"),
        "--tuned-config", str(tmp_path / "configs" / "_base_" / "tuned" / f"{stem}.py")])
    s.write({"delete": s.search("delete"), "random_label": s.search("random_label")})
    assert (tmp_path / "out" / "tuning.md").is_file()
    header = (tmp_path / "out" / "tuning.csv").read_text().splitlines()[0].split(",")
    assert header == tuning.PROTOCOLS[protocol].columns
    path = str(tmp_path / "configs" / leaf)
    for method in ("delete", "random_label"):
        cfg = compose_method(Config.fromfile(path), method)
        assert cfg.forget.optim_wrapper.optimizer.lr == pytest.approx(10 ** -3.5)
        assert cfg.forget.train_cfg.max_epochs == tuning.PROTOCOLS[protocol].budget["forget"][1]
        assert cfg.model.norm_eval is False
    if protocol == "seg_camvid":
        assert compose_method(Config.fromfile(path), "random_label").model.label_seed == 0
        # not searched: Negative Gradient keeps the protocol's own 3 epochs at lr 1e-4
        ng = compose_method(Config.fromfile(path), "negative_gradient")
        assert ng.forget.optim_wrapper.optimizer.lr == 1e-4
        assert ng.forget.train_cfg.max_epochs == 3


def test_shipped_segmentation_settings_until_searched():
    """Before its search the CamVid protocol runs its baselines as it did (Table S14)."""
    path = str(ROOT / "configs" / "seg_camvid_car.py")
    ng = compose_method(Config.fromfile(path), "negative_gradient")
    rl = compose_method(Config.fromfile(path), "random_label")
    assert (ng.forget.train_cfg.max_epochs, ng.forget.optim_wrapper.optimizer.lr) == (3, 1e-4)
    assert (rl.forget.train_cfg.max_epochs, rl.forget.optim_wrapper.optimizer.lr) == (3, 1e-3)
    assert rl.model.label_seed == 0
