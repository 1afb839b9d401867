"""The tuning protocol's bookkeeping (benchmarks/tuning.py) on a synthetic score surface: which
points it runs, what it selects, and the settings file it writes. No model is trained."""
import math
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
