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

from taskforget.ledger import Ledger  # noqa: E402
from taskforget.request import compose_method, is_tuned  # noqa: E402


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
        s.table[tuning.point_key(row)] = row
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


def test_a_method_better_at_the_short_budget_is_selected_there(search, monkeypatch):
    """The epoch count is searched too: where more epochs cost H-Mean, the best point of the
    short budget beats every full-budget point and is selected with its epoch count."""
    s, runs = search
    peak = surface

    def over_trained(point):
        scores = peak(point)
        if scores["H-Mean"] is not None and point.knob is None:
            scores["H-Mean"] -= 0.2 * point.epochs  # net -0.1 per epoch
        return scores

    monkeypatch.setattr(sys.modules[__name__], "surface", over_trained)
    lr, norm, _, epochs = s.search("delete")
    assert lr == pytest.approx(10 ** -3.5) and norm == "train" and epochs == 5
    assert {p.epochs for p in runs if p.phase == "full"} == {20}  # the finalists still ran


def test_remaining_data_methods_get_the_remaining_data_budget(search):
    s, runs = search
    assert s.search("finetune")[3] == tuning.BUDGET["remain"][1]
    assert {p.epochs for p in runs} == set(tuning.BUDGET["remain"])


def test_knob_method_and_the_written_settings(search, tmp_path):
    s, runs = search
    shipped = Config.fromfile(str(ROOT / "configs" / "cls_cifar10_resnet20_cpu.py"))
    shipped_alpha = compose_method(shipped, "fisher").model.alpha
    selected = {"fisher": s.search("fisher"), "delete": s.search("delete")}
    assert selected["fisher"][2] == pytest.approx(10 ** -6.5)
    assert {p.phase for p in runs if p.method == "fisher"} == {"grid", "refine"}
    s.write(selected)
    csv_rows = (tmp_path / "out" / "tuning.csv").read_text().splitlines()
    assert len(csv_rows) == 1 + len(runs)
    assert sum(",diverged" in r for r in csv_rows) == 4  # lr 1e-2, both modes, both classes
    report = (tmp_path / "out" / "tuning.md").read_text()
    # 80 - 10 * |-3.5 + 3.4| + 0.1 * 20, the selected point in bold; a diverged setting named
    assert "| **lr 3.2e-04, batch norm train** | 20 | **81.00** |" in report
    assert "| lr 1.0e-02, batch norm eval | 5 | diverged |" in report
    assert "| **alpha 3.2e-07** | - | **79.00** |" in report  # 80 - 10 * |-6.5 + 6.4|
    # the written settings are a config the protocol composes with
    tuned = Config.fromfile(str(tmp_path / "tuned.py"))
    cfg = Config.fromfile(str(ROOT / "configs" / "cls_cifar10_resnet20_cpu.py"))
    cfg.method_settings = tuned.method_settings
    delete = compose_method(cfg, "delete")
    assert delete.model.norm_eval is False and delete.forget.train_cfg.max_epochs == 20
    assert delete.forget.optim_wrapper.optimizer.lr == pytest.approx(10 ** -3.5)
    # the shipped settings are untouched (the search wrote under tmp_path)
    assert compose_method(Config.fromfile(str(ROOT / "configs" / "cls_cifar10_resnet20_cpu.py")
                                          ), "fisher").model.alpha == shipped_alpha
    assert shipped_alpha != pytest.approx(10 ** -6.5)
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
        s.table[tuning.point_key(row)] = row
        return row

    monkeypatch.setattr(s, "run", run)
    return s, runs


@pytest.mark.parametrize("protocol, method, classes, short, full, top_lr", [
    ("face_yaleb", "delete", [5, 9], 10, 40, 1e-2),
    ("seg_camvid", "delete", ["pedestrian"], 1, 3, 1e-2),
    # the defenses' own recipes train at 0.1 (NAD), so the backdoor grid goes a decade higher
    ("backdoor", "nc_delete", [5], 3, 10, 1e-1)])
def test_protocol_points_and_budgets(monkeypatch, tmp_path, protocol, method, classes, short,
                                     full, top_lr):
    s, runs = fake_search(monkeypatch, ["--protocol", protocol, "--out", str(tmp_path)])
    assert s.args.classes == classes
    assert s.search(method) == (pytest.approx(10 ** -3.5), "train", None, full)
    n, lrs = len(classes), int(round(math.log10(top_lr / 1e-6))) + 1
    assert [len([p for p in runs if p.phase == ph]) for ph in ("grid", "refine", "full")] \
        == [2 * lrs * n, 2 * n, 3 * n]
    assert max(p.lr for p in runs if p.phase == "grid") == top_lr
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


def test_backdoor_defenses_take_the_settings_selected_on_the_5x5_model(monkeypatch,
                                                                       tmp_path):
    """Tuned on the 5x5 model, written into a copy of configs/: every trigger size's leaf of
    that defense runs the selection; a defense not searched keeps its leaf's schedule."""
    shutil.copytree(ROOT / "configs", tmp_path / "configs")
    s, runs = fake_search(monkeypatch, [
        "--protocol", "backdoor", "--out", str(tmp_path / "out"),
        "--tuned-config", str(tmp_path / "configs" / "_base_" / "tuned" / "backdoor_cifar10.py")])
    s.write({"bae_delete": s.search("bae_delete"), "nad": s.search("nad")})
    assert {p.forget_class for p in runs} == {5}
    configs = tmp_path / "configs"
    for leaf in ("backdoor_cifar10_k3.py", "backdoor_cifar10_k7.py", "backdoor_cifar10_k3_nad.py"):
        cfg = compose_method(Config.fromfile(str(configs / leaf)))
        assert cfg.forget.optim_wrapper.optimizer.lr == pytest.approx(10 ** -3.5), leaf
        assert cfg.forget.train_cfg.max_epochs == 10 and cfg.model.norm_eval is False
    nc = compose_method(Config.fromfile(str(configs / "backdoor_cifar10_k3_nc.py")))
    assert (nc.forget.optim_wrapper.optimizer.lr, nc.forget.train_cfg.max_epochs) == (1e-2, 4)
    assert compose_method(Config.fromfile(str(configs / "backdoor_cifar10_k3_nad.py"))
                          ).model.type == "NAD"


class SurfaceBench:
    """Bench's ``config``/``lookup``/``unlearn`` with ``surface`` for scores and a real ledger;
    a run's key stands for its hash (``original``: the weights it starts from). Checks, at every
    run, that tuning.csv already holds every earlier point of the method (a killed search keeps
    them)."""

    def __init__(self, tmp_path, original):
        self.csv_path = tmp_path / "out" / "tuning.csv"
        self.ledger = Ledger(tmp_path / "out" / "runs.jsonl")
        self.original, self.runs = original, []
        self.optim_wrapper = "OptimWrapper"

    def config(self, method, seed, forget, **overrides):
        return dict(method=method, forget=forget[0], **overrides)

    def lookup(self, cfg):
        name = f"{cfg['method']}_{cfg['forget']}{cfg['run_suffix']}"
        return name, self.original, self.ledger.get(name, self.original)

    def unlearn(self, cfg):
        name, key, recorded = self.lookup(cfg)
        if recorded is not None:
            return recorded
        rows = tuning.read_tuning(self.csv_path) if self.csv_path.is_file() else []
        assert sum(r["original"] == self.original and r["method"] == cfg["method"]
                   for r in rows) == sum(c["method"] == cfg["method"] for c in self.runs)
        self.runs.append(cfg)
        epochs = cfg.get("forget.train_cfg.max_epochs")
        point = tuning.Point(cfg["method"], cfg["forget"], "grid", epochs=epochs,
                             lr=cfg.get("forget.optim_wrapper.optimizer.lr"),
                             norm="eval" if cfg.get("model.norm_eval") else "train",
                             knob=cfg.get("model.alpha"))
        scores = surface(point)
        record = dict(metrics={}, missing="diverged") if scores["status"] == "diverged" else \
            dict(metrics={"H-Mean": scores["H-Mean"], "Acc_rt": scores["Acc_rt"]},
                 wall_time_s=2.0)
        # as Bench records them: the device, and the precision by the optimizer wrapper
        record.update(device="cpu x1 threads",
                      hyperparameters=dict(optim_wrapper=self.optim_wrapper))
        self.ledger.put(name, key, record)
        return record


def surface_search(tmp_path, original):
    args = tuning.parse_args(["--out", str(tmp_path / "out"), "--tuned-config",
                              str(tmp_path / "tuned.py"), "--classes", "cat"])
    s = tuning.Search(args)
    s.bench, s.original = SurfaceBench(tmp_path, original), original
    return s


def test_the_search_resumes_from_the_committed_ledger(tmp_path):
    first = surface_search(tmp_path, "a" * 16)
    selected = first.search("delete")
    assert len(first.bench.runs) == 10 + 2 + 3
    rows = tuning.read_tuning(tmp_path / "out" / "tuning.csv")
    assert len(rows) == 15 and {r["original"] for r in rows} == {"a" * 16}
    assert sum(r["status"] == "diverged" for r in rows) == 2  # lr 1e-2, both modes
    assert next(r for r in rows if r["lr"] == 1e-3 and r["norm"] == "train"
                and r["epochs"] == 5)["H-Mean"] == pytest.approx(80 - 4 + 0.5)
    assert len(Ledger(tmp_path / "out" / "runs.jsonl")) == 15
    # a new machine, the same original: every point is read back, nothing runs
    again = surface_search(tmp_path, "a" * 16)
    assert again.search("delete") == selected and again.bench.runs == []
    assert [r["phase"] for r in again.rows].count("full") == 3
    # a method with no point there is not selected from the ledger alone
    again.offline = True
    with pytest.raises(tuning.NotCached):
        again.search("random_label")
    # another original: other runs, measured again
    other = surface_search(tmp_path, "b" * 16)
    assert other.search("delete") == selected and len(other.bench.runs) == 15


def test_backdoor_selection_score_is_the_h_mean_of_clean_acc_and_the_asr_drop():
    from backdoor_cifar10 import selection_score
    # 2 * 78 * 98 / (78 + 98)
    assert selection_score(dict(Acc=78.0, ASR_original=99.7, ASR=1.7)) == pytest.approx(86.8636,
                                                                                          abs=1e-4)
    assert selection_score(dict(Acc=78.0, ASR_original=99.7, ASR=99.9)) == 0.0  # no drop


def test_backdoor_spread_over_seeds_is_mean_and_sample_std_in_order_of_mean_h_mean():
    from backdoor_cifar10 import seed_run_name, spread

    def seeds(*h_means):
        return {str(s): dict(ASR=2.0 + s, Acc=78.0, **{"H-Mean": h}) for s, h in enumerate(h_means)}

    results = {"3": {"NAD": dict(seeds=seeds(84.0, 86.0)),
                     "NC + DELETE": dict(seeds=seeds(87.0, 87.5, 88.0)),
                     "Fine-tune": dict(seeds=seeds(70.0))},  # one seed: left out
               "7": {"NAD": dict(seeds=seeds(88.0, 90.0)),
                     "NC + DELETE": dict(seeds=seeds(86.0, 87.0))}}
    lines = spread(results, [3, 7]).splitlines()
    # NC + DELETE: mean H-Mean (87.5 + 86.5) / 2 = 87.0 over the sizes, NAD (85 + 89) / 2 = 87.0
    # too; ties keep DEFENSES order (NC + DELETE before NAD)
    assert [line.split(" | ")[0] for line in lines[2:]] == ["| NC + DELETE", "| NAD"]
    # 3x3 NAD: H-Mean 85 +- sqrt(((84-85)^2 + (86-85)^2) / 1) = 1.41; ASR 2.5 +- 0.71
    nad = lines[3].split(" | ")
    assert nad[1:4] == ["2.50 ± 0.71", "78.00 ± 0.00", "85.00 ± 1.41"]
    assert lines[2].endswith("| 2/3 |")  # seed counts per size
    assert spread({"3": {"NAD": dict(seeds=seeds(84.0))}}, [3]) == ""
    assert seed_run_name("nad", 0) is None and seed_run_name("nad", 2) == "nad_seed2"


def test_backdoor_points_are_recorded_in_the_ledger_and_read_back(tmp_path, monkeypatch):
    import backdoor_cifar10

    reports = []

    def defend(cfg, checkpoint):
        reports.append(cfg.defense_name)
        if cfg.forget.optim_wrapper.optimizer.lr > 1e-3:
            raise FloatingPointError("loss became nan at epoch 1, iteration 2: lower the lr")
        return dict(metrics=dict(ASR=1.7, ASR_original=99.7, ASR_clean=2.0, Acc=78.0),
                    total_time_s=5.0, device="cpu x1 threads",
                    hyperparameters=dict(optim_wrapper="OptimWrapper"))

    monkeypatch.setattr(backdoor_cifar10, "defend", defend)
    args = tuning.parse_args(["--protocol", "backdoor", "--out", str(tmp_path / "out")])
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "original.pth").write_bytes(b"poisoned weights")

    def point(bench, lr):
        return bench.config("nc_delete", 0, (5,), work_root=str(tmp_path / "w"),
                            run_suffix=f"_tune_lr{lr:.1e}",
                            **{"forget.optim_wrapper.optimizer.lr": lr})

    bench = backdoor_cifar10.BackdoorBench(args)
    assert bench.lookup(point(bench, 1e-4))[2] is None
    record = bench.unlearn(point(bench, 1e-4))
    assert record["metrics"]["H-Mean"] == pytest.approx(86.8636, abs=1e-4)
    diverged = bench.unlearn(point(bench, 1e-2))
    assert "missing" in diverged and tuning.record_machine(diverged)["precision"] == "fp32"
    assert diverged["hyperparameters"]["optimizer"]["lr"] == 1e-2
    assert reports == ["nc_delete_tune_lr1.0e-04", "nc_delete_tune_lr1.0e-02"]
    # a new machine with the same poisoned weights: both read back from the committed ledger
    again = backdoor_cifar10.BackdoorBench(args)
    assert again.unlearn(point(again, 1e-4)) == record
    assert "missing" in again.unlearn(point(again, 1e-2)) and len(reports) == 2
    # the record names the machine and the precision the report's machine line gives
    assert tuning.record_machine(record) == dict(device="cpu x1 threads", precision="fp32")
    # other poisoned weights: another run
    (tmp_path / "w" / "original.pth").write_bytes(b"other weights")
    again.unlearn(point(again, 1e-4))
    assert len(reports) == 3


def test_face_rows_run_each_method_at_its_selected_setting():
    import face_yaleb

    assert tuning.PROTOCOLS["face_yaleb"].methods() == list(face_yaleb.METHODS.values())
    cfg = Config.fromfile(str(ROOT / "configs" / "face_yaleb_id0.py"))
    cfg.method_settings = {"random_label": dict(forget=dict(optim_wrapper=dict(
        optimizer=dict(lr=5e-5))))}
    tuned = face_yaleb.method_config(cfg, "Random Label")
    assert tuned.forget.optim_wrapper.optimizer.lr == 5e-5 and tuned.model.type == "RandomLabel"
    cfg.tuned_methods = ["random_label"]
    assert face_yaleb.row_label("Random Label", cfg) == "Random Label"
    untuned = face_yaleb.method_config(cfg, "Boundary Shrink")  # its fragment's own lr
    fragment = Config.fromfile(str(ROOT / "configs/_base_/methods/boundary_shrink.py"))
    assert untuned.forget.optim_wrapper.optimizer.lr == fragment.forget.optim_wrapper.optimizer.lr
    assert face_yaleb.row_label("Boundary Shrink", cfg) == "Boundary Shrink (untuned)"


def test_report_writes_the_tables_from_the_ledger_alone(tmp_path, monkeypatch):
    surface_search(tmp_path, "a" * 16).search("delete")  # a tuning process recorded DELETE
    bench = SurfaceBench(tmp_path, "a" * 16)
    monkeypatch.setattr(tuning.PROTOCOLS["cls_cifar10"], "bench", lambda args: bench)
    monkeypatch.setattr(tuning.Search, "original_digest", lambda self: "a" * 16)
    tuning.main(["--report", "--classes", "cat", "--out", str(tmp_path / "out"),
                 "--tuned-config", str(tmp_path / "tuned.py")])
    assert bench.runs == []  # nothing ran
    report = (tmp_path / "out" / "tuning.md").read_text()
    assert "| delete | lr 3.2e-04, batch norm train, 20 epochs | 81.00 | 70.00 | 15 (2) |" in report
    # the machine line is what the points' records name, not the machine writing the report
    assert "Points run on: cpu x1 threads, fp32 (15 points)." in report
    mixed = [dict(device="cpu x2 threads", precision="bf16 autocast", status="ok")] * 2 + [
        dict(device=None, precision=None, status="diverged"), dict(status="planned")]
    assert tuning.recorded_machines(mixed) == ("cpu x2 threads, bf16 autocast (2 points); "
                                               "device not recorded, precision not recorded "
                                               "(1 point)")
    tuned = (tmp_path / "tuned.py").read_text()
    assert "delete=dict(" in tuned and "random_label" not in tuned  # not searched: not selected


def test_every_write_keeps_the_selections_other_processes_completed(tmp_path, monkeypatch):
    """Two tuning processes side by side: one searching DELETE writes the tables after it, and
    Random Label, searched by the other one (and later in the protocol's order), stays
    selected in every file it writes, with its points."""
    surface_search(tmp_path, "a" * 16).search("random_label")  # the other process, done
    bench = SurfaceBench(tmp_path, "a" * 16)
    monkeypatch.setattr(tuning.PROTOCOLS["cls_cifar10"], "bench", lambda args: bench)
    monkeypatch.setattr(tuning.Search, "original_digest", lambda self: "a" * 16)
    csv_rows = []  # Random Label's rows in tuning.csv at each DELETE run: none is dropped
    unlearn = bench.unlearn

    def counting_unlearn(cfg):
        if cfg["method"] == "delete":
            csv_rows.append(sum(r["method"] == "random_label"
                                for r in tuning.read_tuning(bench.csv_path)))
        return unlearn(cfg)

    monkeypatch.setattr(bench, "unlearn", counting_unlearn)
    written = []
    write = tuning.Search.write
    monkeypatch.setattr(tuning.Search, "write", lambda self, selected: (
        written.append(list(selected)), write(self, selected)))
    tuning.main(["--methods", "delete", "--classes", "cat", "--out", str(tmp_path / "out"),
                 "--tuned-config", str(tmp_path / "tuned.py")])
    assert len(bench.runs) == 15 and set(csv_rows) == {15}  # DELETE's points only
    assert written and all(w == ["delete", "random_label"] for w in written)
    report = (tmp_path / "out" / "tuning.md").read_text()
    assert "| random_label | lr 3.2e-04, batch norm train, 20 epochs | 81.00 | 70.00 | 15 (2) |" \
        in report and "Points run on: cpu x1 threads, fp32 (30 points)." in report
    assert len(tuning.read_tuning(tmp_path / "out" / "tuning.csv")) == 30
    assert "random_label=dict(" in (tmp_path / "tuned.py").read_text()


def test_without_the_original_a_report_reads_the_committed_table(tmp_path, monkeypatch):
    """The ledger's keys need the original's bytes; where the original is absent, --report
    selects from tuning.csv's points instead: the same selection, every point kept, and the
    tuned file written. Without that table it stops with the command that trains the
    original."""
    surface_search(tmp_path, "a" * 16).search("delete")  # a search on another machine
    before = tuning.read_tuning(tmp_path / "out" / "tuning.csv")
    bench = SurfaceBench(tmp_path, "b" * 16)  # other weights here: no ledger key matches
    monkeypatch.setattr(tuning.PROTOCOLS["cls_cifar10"], "bench", lambda args: bench)
    monkeypatch.setattr(tuning.Search, "original_digest", lambda self: None)
    argv = ["--report", "--classes", "cat", "--out", str(tmp_path / "out"), "--tuned-config",
            str(tmp_path / "tuned.py")]
    tuning.main(argv)
    assert bench.runs == []
    report = (tmp_path / "out" / "tuning.md").read_text()
    assert "| delete | lr 3.2e-04, batch norm train, 20 epochs | 81.00 | 70.00 | 15 (2) |" in report
    assert "digest " + "a" * 16 in report and "Points run on: cpu x1 threads, fp32" in report
    assert tuning.read_tuning(tmp_path / "out" / "tuning.csv") == before
    assert "delete=dict(" in (tmp_path / "tuned.py").read_text()
    (tmp_path / "out" / "tuning.csv").unlink()
    with pytest.raises(SystemExit, match="original model is missing"):
        tuning.main(argv)


def test_face_table_beside_the_papers_table_s12():
    """Shares of retrain's Acc_rt and H-Mean gaps against hand-computed ones; the paper's side
    from Table S12 (DELETE 97.67 / 98.89 = 98.77 %, H-Mean 97.33 - 97.94 = -0.61)."""
    import face_yaleb

    def runs(*pairs):
        return [dict(metrics={"Acc_rt": a, "H-Mean": h}) for a, h in pairs]

    rows = {"original": runs((99.0, 0.0)), "retrain": runs((88.0, 94.0), (92.0, 96.0)),
            "DELETE": runs((89.1, 93.0), (89.1, 95.0)),
            "Negative Gradient (untuned)": runs((45.0, 60.0))}
    lines = face_yaleb.versus_paper(rows).splitlines()
    assert lines[2] == "| DELETE | 99.0 | 98.8 | yes | -1.00 | -0.61 |"
    assert lines[3] == "| Negative Gradient (untuned) | 50.0 | 94.7 | no | -35.00 | -3.12 |"
    assert len(lines) == 4  # the original has no row


def test_the_tuned_file_lists_the_selected_methods_and_tables_mark_the_others(tmp_path):
    """A method the search has not selected yet runs at the protocol's own setting, and its
    schedule says "untuned"; a backdoor defense is looked up by its defense_name."""
    import cls_cifar10

    path = tmp_path / "tuned.py"
    path.write_text(tuning.tuned_config({"delete": (1e-3, "eval", None, 20)}, untuned={
        "random_label": dict(forget=dict(optim_wrapper=dict(optimizer=dict(lr=2e-3))))}))
    tuned = Config.fromfile(str(path))
    assert tuned.tuned_methods == ["delete"]
    assert set(tuned.method_settings) == {"delete", "random_label"}
    protocol = Config.fromfile(str(ROOT / "configs" / "cls_cifar10_resnet20_cpu.py"))
    protocol.method_settings, protocol.tuned_methods = tuned.method_settings, tuned.tuned_methods
    delete = compose_method(protocol.copy(), "delete")
    random_label = compose_method(protocol.copy(), "random_label")
    assert is_tuned(delete) and not is_tuned(random_label)
    assert is_tuned(protocol, "delete") and not is_tuned(protocol, "random_label")  # by name
    assert random_label.forget.optim_wrapper.optimizer.lr == 2e-3
    assert cls_cifar10.schedule(delete) == "20 ep SGD 1e-03, BN frozen"
    assert cls_cifar10.schedule(random_label).endswith(", untuned")
    path.write_text(tuning.tuned_config({}))
    assert Config.fromfile(str(path)).tuned_methods == []
    defense = Config.fromfile(str(ROOT / "configs" / "backdoor_cifar10_k3.py"))
    defense.tuned_methods = ["bae_delete"]
    assert is_tuned(compose_method(defense))
    defense.tuned_methods = ["delete"]  # the method inside, not the defense
    assert not is_tuned(compose_method(defense))


def test_a_run_hash_ignores_the_other_methods_selections():
    """The ledger finds a run by its hash: selecting another method (or listing it as tuned)
    must not change it; changing the run's own setting must."""
    from taskforget.apis import config_hash

    base = Config.fromfile(str(ROOT / "configs" / "cls_cifar10_resnet20_cpu.py"))
    before = config_hash(compose_method(base.copy(), "delete"))
    other = base.copy()
    other.method_settings = dict(other.method_settings.to_dict(), random_label=dict(
        forget=dict(optim_wrapper=dict(optimizer=dict(lr=2e-3)))))
    other.tuned_methods = [*other.tuned_methods, "random_label"]
    assert config_hash(compose_method(other, "delete")) == before
    changed = compose_method(base.copy(), "delete")
    changed.forget.optim_wrapper.optimizer.lr *= 2
    assert config_hash(changed) != before


def test_backdoor_rows_of_another_poisoned_model_are_not_mixed_in():
    from backdoor_cifar10 import ORIGINAL_ROW, size_rows
    poisoned = dict(metrics=dict(ASR=99.8, Acc=78.7), time=10.0)
    results = {"3": {ORIGINAL_ROW: dict(ASR=99.7, digest="aaaa"), "NAD": dict(ASR=6.1)},
               "7": {ORIGINAL_ROW: dict(ASR=99.9), "NAD": dict(ASR=100.0)}}  # no digest: old
    rows = size_rows(results, 3, poisoned, "aaaa")
    rows["NC + DELETE"] = dict(ASR=0.9)
    assert set(results["3"]) == {ORIGINAL_ROW, "NAD", "NC + DELETE"}  # the same model: kept
    assert results["3"][ORIGINAL_ROW]["ASR"] == 99.8
    size_rows(results, 7, poisoned, "bbbb")
    assert results["7"] == {ORIGINAL_ROW: dict(ASR=99.8, Acc=78.7, time=10.0, digest="bbbb")}
    size_rows(results, 3, poisoned, "cccc")  # another machine's poisoned model
    assert set(results["3"]) == {ORIGINAL_ROW}


def test_backdoor_table_beside_the_papers_table_s13():
    """ASR, the clean-Acc change from the poisoned model and the H-Mean, beside Table S13's
    (3x3 NAD: 4.24, 69.00 - 83.81 = -14.81, H-Mean of 69.00 and 98.80 - 4.24 = 79.78; ours
    of 76.2 and 99.8 - 6.1: 84.05); a row the paper has not (NC + DELETE) is left out."""
    from backdoor_cifar10 import ORIGINAL_ROW, versus_paper
    results = {"3": {ORIGINAL_ROW: dict(ASR=99.8, Acc=78.7), "NAD": dict(ASR=6.1, Acc=76.2),
                     "NC + DELETE": dict(ASR=0.9, Acc=78.6)},
               "5": {"NAD": dict(ASR=1.0, Acc=70.0)}}  # no poisoned row: no comparison
    lines = versus_paper(results, [3, 5]).splitlines()
    assert lines[2:] == ["| NAD | 3x3 | 6.10 | 4.24 | -2.50 | -14.81 | 84.05 | 79.78 |"]


def test_the_frontier_keeps_the_best_retained_score_at_each_forgetting_bound():
    """tuning.md's frontier: per bound, the best Acc_rt (mean over classes) of the settings whose
    mean Acc_ft is within it; a setting diverged on any class is left out."""
    def row(lr, cls, ft, rt, status="ok"):
        return dict(method="m", **{"class": cls}, lr=lr, norm="train", knob=None, epochs=5,
                    Acc_ft=ft, Acc_rt=rt, status=status)
    rows = [row(1e-3, "cat", 0.0, 60.0), row(1e-3, "automobile", 2.0, 70.0),  # 1.0 / 65.0
            row(1e-4, "cat", 8.0, 80.0), row(1e-4, "automobile", 4.0, 84.0),  # 6.0 / 82.0
            row(1e-5, "cat", 30.0, 90.0), row(1e-5, "automobile", 20.0, 88.0),  # 25.0 / 89.0
            row(1e-2, "cat", 0.0, 99.0), row(1e-2, "automobile", None, None, "diverged")]
    assert tuning.frontier(rows) == [65.0, 65.0, 82.0, 82.0]
    assert tuning.frontier(rows, bounds=(0.5, 30)) == [None, 89.0]
