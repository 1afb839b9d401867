"""The benchmarks' maths and bookkeeping: mean ± std over seeds, H-Mean, the markdown/CSV output,
the linear probe, divergence records."""
import csv
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config

from taskforget.evaluation import tables
from taskforget.evaluation.probe import linear_probe

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


def test_mean_std_by_hand():
    assert tables.mean_std([1.0, 2.0, 3.0]) == (2.0, 1.0, 3)
    assert tables.mean_std([94.0, 96.0]) == pytest.approx((95.0, 2 ** 0.5, 2))
    assert tables.mean_std([5.0]) == (5.0, 0.0, 1)
    mean, _, n = tables.mean_std([])
    assert n == 0 and mean != mean
    assert tables.mean_std([1.0, None, float("nan"), 3.0])[:2] == (2.0, 2 ** 0.5)
    assert tables.format_mean_std([1.0, 2.0, 3.0]) == "2.00 ± 1.00"
    assert tables.format_mean_std([95.031]) == "95.03" and tables.format_mean_std([]) == "-"


def test_h_mean_matches_the_paper():
    # CIFAR-10 retrain row of Table 1: Acc_rt 95.20, original Acc_ft 97.00 -> 96.09.
    assert tables.h_mean(95.20, 97.00 - 0.0) == pytest.approx(96.09, abs=0.005)
    # DELETE row: Acc_rt 95.03, Acc_ft 0 -> 96.00; Table 5 alpha=0.25: 95.49, 37.30 -> 73.47.
    assert tables.h_mean(95.03, 97.00) == pytest.approx(96.00, abs=0.005)
    assert tables.h_mean(95.49, 97.00 - 37.30) == pytest.approx(73.47, abs=0.01)
    assert tables.h_mean(90.0, -3.0) == 0.0


def test_grouped_rows_and_written_table(tmp_path):
    records = [dict(method="A", metrics={"Acc_ft": v, "Acc_rt": 90.0}, wall_time_s=t)
               for v, t in ((0.0, 10.0), (2.0, 12.0), (4.0, 14.0))]
    records.append(dict(method="B", metrics={"Acc_ft": 50.0}, wall_time_s=None))
    rows = tables.summary_rows(tables.group(records, lambda r: r["method"]),
                               ["Acc_ft", "Acc_rt", "time"],
                               extra=lambda name, recs: {"runs": len(recs)})
    assert rows[0]["Acc_ft"] == (2.0, 2.0, 3) and rows[0]["time"] == (12.0, 2.0, 3)
    assert rows[1]["Acc_rt"][2] == 0 and rows[1]["runs"] == 1
    md, path = tables.write_table(rows, ["Acc_ft", "Acc_rt", "time"], tmp_path / "t",
                                  headers={"time": "time (s)"}, label_columns=["runs"],
                                  note="n = 3 seeds")
    text = md.read_text().splitlines()
    assert text[0] == "| method | runs | Acc_ft | Acc_rt | time (s) |"
    assert text[2] == "| A | 3 | 2.00 ± 2.00 | 90.00 ± 0.00 | 12.00 ± 2.00 |"
    assert text[3] == "| B | 1 | 50.00 | - | - |" and text[-1] == "n = 3 seeds"
    rows_csv = list(csv.reader(path.open()))
    assert rows_csv[0][:5] == ["method", "runs", "Acc_ft_mean", "Acc_ft_std", "Acc_ft_n"]
    assert rows_csv[1][:5] == ["A", "3", "2.0", "2.0", "3"]
    assert rows_csv[2][5:8] == ["", "", "0"]


def test_plots_write_pngs(tmp_path):
    box = tables.boxplots({"Acc_ft": {"A": [0, 1, 2], "B": [3, 4]}}, tmp_path / "b.png")
    line = tables.lineplots([1, 2, 5], {"Acc_rt": {"A": [90, 88, float("nan")]}},
                            tmp_path / "l.png", xlabel="classes")
    for p in (box, line):
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_linear_probe_finds_a_separable_forget_class_and_not_a_merged_one():

    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 60)
    centres = 4.0 * np.eye(4, 8)
    separable = centres[labels] + rng.normal(size=(240, 8))
    recall, remain, auc = linear_probe(separable, labels, [0])
    assert recall > 90 and remain > 90 and auc > 0.98
    # class 0's features drawn like class 1's: the probe can only guess between the two (recall
    # ~50), and ranks class 0 above class 1 at chance (AUC ~ (0.5 + 2 x 1.0) / 3)
    merged = centres[np.where(labels == 0, 1, labels)] + rng.normal(size=(240, 8))
    recall, remain, auc = linear_probe(merged, labels, [0])
    assert recall < 70 and auc < 0.9


def test_benchmark_records_a_diverged_run_and_does_not_repeat_it(tmp_path, monkeypatch):
    import cls_cifar10

    calls = []

    def diverge(cfg, stage, name=None, **kwargs):
        calls.append(name)
        raise FloatingPointError("loss became nan at epoch 1, iteration 3: lower the lr")

    monkeypatch.setattr(cls_cifar10, "run_or_load", diverge)
    bench = cls_cifar10.Bench(cls_cifar10.parse_args(
        ["--work-dir", str(tmp_path / "w"), "--out", str(tmp_path / "out")]))
    cfg = bench.config("negative_gradient")
    first = bench.unlearn(cfg)
    second = bench.unlearn(cfg)
    assert calls == ["negative_gradient_airplane_seed0"]
    assert first["missing"] == second["missing"] == (
        "negative_gradient_airplane_seed0 diverged (loss became nan at epoch 1, iteration 3)")
    assert first["metrics"] == {}
    # the record is keyed by the settings: other settings run again
    cfg.merge_from_dict({"forget.optim_wrapper.optimizer.lr": 2e-5})
    bench.unlearn(cfg)
    assert len(calls) == 2


def test_feature_extraction_goes_through_the_network_contract():
    import torch

    from taskforget.evaluation.probe import extract_features
    from taskforget.tasks.classification import small_cnn
    net = small_cnn(num_classes=3, width=4).train()
    items = [dict(inputs=torch.randn(3, 16, 16), data_samples=dict(label=i % 3))
             for i in range(7)]
    feats, labels, preds = extract_features(net, items, batch_size=3)
    assert net.training  # its mode is restored
    with torch.no_grad():
        net.eval()
        x = torch.stack([it["inputs"] for it in items])
        assert np.allclose(feats, net.features(x).numpy(), atol=1e-6)
        assert (preds == net(x).argmax(1).numpy()).all()
    assert labels.tolist() == [0, 1, 2, 0, 1, 2, 0]


def test_h_mean_ranks_and_the_paper_comparison(tmp_path):
    import cls_cifar10

    ranks = cls_cifar10.h_mean_ranks({"DELETE": 80.0, "SalUn (D_r)": 85.0, "Random Label": 70.0,
                                      "Negative Gradient": None})
    assert ranks == {"SalUn (D_r)": "1 / -", "DELETE": "2 / 1", "Random Label": "3 / 2"}

    def rec(row, acc_ft, acc_rt, h, forget_class="airplane"):
        return dict(row=row, forget_class=forget_class,
                    metrics={"Acc_ft": acc_ft, "Acc_rt": acc_rt, "H-Mean": h})

    records = [rec("Retrain model", 0.0, 80.0, 82.0), rec("Retrain model", 0.0, 82.0, 83.0, "deer"),
               rec("Random Label", 1.0, 70.0, 75.0), rec("Random Label", 3.0, 72.0, 76.0, "deer"),
               rec("DELETE", 0.0, 81.0, 82.5)]
    text = cls_cifar10.write_paper_comparison(records, tmp_path / "cmp.md").read_text()
    assert "Ours: means over airplane, deer x seeds" in text
    row = next(line for line in text.splitlines() if line.startswith("| Random Label"))
    # ours: mean Acc_rt 71 of retrain's 81 = 87.7 %; the paper's 82.18 / 95.20 = 86.3 %
    assert "| 71.00 |" in row and "| 87.7 |" in row and "| 86.3 |" in row
    assert row.endswith("| yes |")
    delete = next(line for line in text.splitlines() if line.startswith("| DELETE"))
    assert "| 100.0 |" in delete and "| 99.8 |" in delete and delete.endswith("| yes |")
    # the shares are compared as shown (one decimal): DELETE's paper share is 95.03 / 95.20 =
    # 99.82 %; 80.82 / 81 = 99.78 % shows 99.8 and keeps it, 80.78 / 81 = 99.73 % shows 99.7
    for acc_rt, verdict in ((80.82, "| 99.8 | yes |"), (80.78, "| 99.8 | **no** |")):
        text = cls_cifar10.write_paper_comparison(
            [rec("Retrain model", 0.0, 81.0, 82.0), rec("DELETE", 0.0, acc_rt, 82.0)],
            tmp_path / "cmp.md").read_text()
        assert next(line for line in text.splitlines()
                    if line.startswith("| DELETE")).endswith(verdict)


def test_table1_audit_is_written_and_read_back(tmp_path, monkeypatch, capsys):
    """The --quick Table 1 on one class and method: table1_audit.md/.csv with the audit's
    columns, a report page, and a second run that audits nothing (every audit cached)."""
    import cls_cifar10

    import taskforget.commands.audit as audit_command
    monkeypatch.setattr(cls_cifar10.tables, "boxplots", lambda *a, **k: None)
    argv = ["--quick", "--sections", "table1", "--methods", "delete", "--seeds", "0",
            "--reported", "airplane",
            "--work-dir", str(tmp_path / "w"), "--out", str(tmp_path / "out")]
    cls_cifar10.main(argv)
    out = tmp_path / "out"
    lines = (out / "table1_audit.md").read_text().splitlines()
    assert lines[0] == ("| method | runs | indistinguishable from retrain | relearn Acc_ft ↓ "
                        "(20 images, 25 steps) | relearn: remaining called forgotten (%) | "
                        "linear-probe recall ↓ | kNN-probe recall ↓ | loss-attack AUC (D_f vs "
                        "D_ft) |")
    rows = {line.split(" | ")[0][2:]: line.split(" | ") for line in lines[2:5]}
    assert list(rows) == ["Original model", "Retrain model", "DELETE"]
    assert rows["Retrain model"][2] == "reference" and rows["DELETE"][2] in ("0 / 1", "1 / 1")
    assert all(cell != "-" for row in rows.values() for cell in row[3:])
    header = next(csv.reader((out / "table1_audit.csv").open()))
    assert header[:4] == ["method", "runs", "verdict", "relearn_Acc_ft_mean"]
    assert {f"{c}_mean" for c in cls_cifar10.AUDIT_COLUMNS} <= set(header)
    report = (out / "audit" / "delete_airplane_seed0" / "audit.md").read_text()
    assert "**Verdict: DELETE " in report and "| retrain |" in report and "| original |" in report
    assert (out / "table1.md").is_file()
    table1 = (out / "table1.md").read_text().splitlines()

    # a new machine: the committed out/ (its ledger runs.jsonl) and the retrained original,
    # nothing else of the work dir; every run and audit is read back from the ledger
    for path in (tmp_path / "w").iterdir():
        if path.name not in ("original.pth", "original.pth.sha256.json"):
            shutil.rmtree(path) if path.is_dir() else path.unlink()

    def ran_again(*args, **kwargs):
        raise AssertionError("a recorded run or audit was run again")

    monkeypatch.setattr(audit_command, "audit", ran_again)
    monkeypatch.setattr(cls_cifar10, "run_or_load", ran_again)
    cls_cifar10.main(argv)
    assert (out / "table1_audit.md").read_text().splitlines()[:5] == lines[:5]
    assert (out / "table1.md").read_text().splitlines()[:6] == table1[:6]


def test_the_classification_benchmark_runs_another_protocol_with_options():
    """--config, --cfg-options and --reported (benchmarks/paper_protocol.sh on a GPU): every run
    is that protocol's, with the options applied after the benchmark's own overrides, in the
    protocol's own work root."""
    import cls_cifar10

    args = cls_cifar10.parse_args([
        "--config", "configs/cls_cifar10_resnet18_short.py", "--reported", "deer",
        "--cfg-options", "forget.train_cfg.max_epochs=1", "train_dataloader.num_workers=0"])
    assert args.work_dir.endswith("work_dirs/cls_cifar10_resnet18_short")
    assert args.reported == ["deer"]
    cfg = cls_cifar10.Bench(args).config("negative_gradient", forget=("deer",))
    assert cfg.model.network.type == "resnet18_cifar" and cfg.forget_classes == ["deer"]
    assert cfg.forget.train_cfg.max_epochs == 1 and cfg.train_dataloader.num_workers == 0
    # the CPU protocol's selected setting (configs/_base_/tuned/), carried over, the options on
    # top of it; before the CPU protocol's search selects one, the fragment's, marked untuned
    tuned = Config.fromfile(str(ROOT / "configs/_base_/tuned/cls_cifar10_resnet20_cpu.py"))
    if "negative_gradient" in tuned.tuned_methods:
        selected = tuned.method_settings.negative_gradient
        lr, frozen, mark = selected.forget.optim_wrapper.optimizer.lr, selected.model.norm_eval, ""
    else:
        fragment = Config.fromfile(str(ROOT / "configs/_base_/methods/negative_gradient.py"))
        lr, frozen, mark = fragment.forget.optim_wrapper.optimizer.lr, False, ", untuned"
    assert cfg.forget.optim_wrapper.optimizer.lr == lr
    assert bool(cfg.model.get("norm_eval")) == frozen
    assert cls_cifar10.schedule(cfg) == (f"1 ep SGD {lr:.0e}" + (", BN frozen" if frozen else "")
                                         + mark)
