"""The accuracy-against-cost curve's bookkeeping (benchmarks/cost_curve.py) on synthetic records:
which baselines the tuning selects, the time ratios, the table and the plot. No model is
trained."""
import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import cost_curve  # noqa: E402
import tuning  # noqa: E402


def row(method, phase, lr, h, acc=70.0, status="ok", knob=None, cls="cat", epochs=20):
    return {"method": method, "class": cls, "phase": phase, "lr": lr, "norm": "train",
            "knob": knob, "epochs": epochs, "H-Mean": h, "Acc_rt": acc, "status": status}


def test_selected_scores_follow_the_tunings_selection():
    full = [row("delete", "full", 1e-3, 80.0), row("delete", "full", 1e-3, 70.0, cls="dog"),
            row("delete", "full", 1e-4, 90.0),
            row("delete", "full", 1e-4, None, status="diverged", cls="dog"),
            row("fisher", "grid", None, 60.0, knob=1e-6), row("fisher", "refine", None, 65.0,
                                                               knob=3e-6)]
    short = [row("delete", "grid", 1e-3, 99.0, epochs=5),
             row("delete", "grid", 1e-3, 62.0, cls="dog", epochs=5)]
    scores = cost_curve.selected_scores(full + short[:1] + [dict(short[1], **{"H-Mean": 40.0})])
    assert scores["delete"] == pytest.approx((75.0, 70.0))  # 1e-4 diverged on dog: 45; 5 ep: 69.5
    assert scores["fisher"] == pytest.approx((65.0, 70.0))
    # the epoch count is searched too: the short-budget point, better on both classes, wins
    assert cost_curve.selected_scores(full + short)["delete"] == pytest.approx((80.5, 70.0))


def test_best_baselines_are_training_based_forget_set_methods():
    scores = {"delete": (95, 0), "fisher": (94, 0), "finetune": (93, 0), "scrub": (80, 0),
              "unsir_dr": (92, 0), "maga_dr": (91, 0), "influence": (90, 0),
              "random_label": (85, 0), "negative_gradient": (70, 0), "salun": (80, 1)}
    # remaining-data methods (every *_dr row, Fine-tune, Fisher) and weight edits are not
    # forget-set training methods, however they score
    assert cost_curve.best_baselines(scores) == ["random_label", "salun"]
    # only among the methods whose search is complete, when the tuned config is given
    assert cost_curve.best_baselines(scores, tuned=["delete", "scrub", "negative_gradient"]) == [
        "scrub", "negative_gradient"]
    assert cost_curve.best_baselines(scores, tuned=[]) == []


def test_tuned_methods_are_read_from_the_tuned_config(tmp_path):
    path = tmp_path / "tuned.py"
    path.write_text("method_settings = dict()\ntuned_methods = ['delete', 'salun']\n")
    assert cost_curve.tuned_methods(path) == ["delete", "salun"]


def test_curve_rows_table_and_plot(tmp_path):
    records = [dict(method="delete", epochs=e, lr=1e-3, wall_time_s=10.0 * e,
                    metrics={"Acc_ft": 0.0, "Acc_rt": 80 + e, "H-Mean": 88 + e / 10})
               for e in (1, 2, 5)]
    records.append(dict(method="random_label", epochs=1, lr=3e-4, metrics={},
                        missing="diverged"))
    retrain = dict(wall_time_s=1000.0, metrics={"Acc_ft": 0.0, "Acc_rt": 90.0, "H-Mean": 94.0})
    rows = cost_curve.curve_rows(records, retrain["wall_time_s"])
    assert [r["ratio"] for r in rows[:3]] == pytest.approx([0.01, 0.02, 0.05])
    assert math.isnan(rows[3]["ratio"]) and math.isnan(rows[3]["H-Mean"])
    text = cost_curve.markdown(rows, retrain, "note")
    assert "| delete | 1.0e-03 | 5 | 50.0 | 0.0500 | 0.00 | 85.00 | 88.50 |" in text
    assert "| random_label | 3.0e-04 | 1 | - | - | - | - | - |" in text
    assert "| Retrain model | - | - | 1000 | 1 | 0.00 | 90.00 | 94.00 |" in text
    assert cost_curve.plot(rows, retrain, tmp_path / "c.png").stat().st_size > 0
    assert math.isnan(cost_curve.curve_rows(records[:1], None)[0]["ratio"])  # no retrain time


def test_tuned_overrides_and_the_csv_round_trip(tmp_path):
    path = tmp_path / "tuned.py"
    path.write_text(tuning.tuned_config({"delete": (1e-3, "eval", None, 20),
                                         "fisher": (None, None, 1e-6, None)}))
    assert cost_curve.tuned_overrides(path, "delete") == {
        "model.norm_eval": True, "forget.optim_wrapper.optimizer.lr": 1e-3}
    assert cost_curve.tuned_overrides(path, "random_label") == {}
    assert cost_curve.tuned_overrides(None, "delete") == {}
    csv_path = tmp_path / "tuning.csv"
    csv_path.write_text(",".join(tuning.PROTOCOLS["cls_cifar10"].columns) + "\n"
                        "delete,cat,full,0.001,train,,20,0,1,0,80,88.5,0,12.5,ok\n"
                        "delete,cat,full,0.01,train,,20,,,,,,,,diverged\n")
    rows = tuning.read_tuning(csv_path)
    assert rows[0]["lr"] == 1e-3 and rows[0]["H-Mean"] == 88.5 and rows[0]["knob"] is None
    assert cost_curve.selected_scores(rows)["delete"] == pytest.approx((88.5, 80.0))


def test_protocols_forget_a_reported_class_up_to_their_full_budget():
    cls = cost_curve.parse_args([])
    assert (cls.forget, cls.epochs) == ("airplane", [1, 2, 5, 10, 20])
    assert cls.out == ROOT / "docs/results/classification"
    assert cls.work_dir == str(ROOT / "work_dirs/cls_cifar10_resnet20_cpu")
    face = cost_curve.parse_args(["--protocol", "face_yaleb"])
    # identity 0 is reported, never tuned on; 40 epochs is the face search's full budget
    assert face.forget == 0 and face.forget not in tuning.PROTOCOLS["face_yaleb"].validation
    assert face.epochs[-1] == tuning.PROTOCOLS["face_yaleb"].budget["forget"][1] == 40
    assert face.out == ROOT / "docs/results/face" and face.tuning == face.out / "tuning.csv"
    assert face.work_dir is None  # the face config's own work root
    with pytest.raises(SystemExit):
        cost_curve.parse_args(["--protocol", "face_yaleb", "--quick"])
