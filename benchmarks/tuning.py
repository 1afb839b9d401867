"""One tuning protocol for every method, DELETE included, on validation classes that are never
reported (issue #12). Resumable: every grid point is a cached run (``run_or_load``).

    python benchmarks/tuning.py --plan          # the runs it would make, with their count
    python benchmarks/tuning.py --report        # the tables from the ledger alone (from the
                                                # committed tuning.csv without the original)
    python benchmarks/tuning.py                 # run (or read back) the whole search
    python benchmarks/tuning.py --methods delete random_label --classes cat
    python benchmarks/tuning.py --quick         # tiny model and data: checks the code
    python benchmarks/tuning.py --protocol face_yaleb   # Yale B: identities 5 and 9
    python benchmarks/tuning.py --protocol seg_camvid   # CamVid: pedestrian (car is reported)
    python benchmarks/tuning.py --protocol backdoor     # BadNets: the 5x5 model (3x3, 7x7 reported)

The protocol, the same for every method:

* **Training-based methods**: lr on a log grid over [1e-6, 1e-2] (one point per decade; the
  backdoor protocol to 1e-1, where the defenses' own recipes train) x the
  batch-norm mode {train, eval} (``model.norm_eval``), every point at the short budget; then two
  refining points at the best mode, half a decade either side of the best lr (the geometric
  midpoints to its grid neighbours); then successive
  halving: the best three points so far run again at the full budget, and the best point at
  either budget is selected (the epoch count is a hyperparameter like the others: a method
  that does better in fewer epochs is compared there). Budgets (epochs): ``BUDGET`` -- the
  paper's 20 for methods whose epoch is a pass over the forget set (5 for the search points),
  and fewer for the methods whose epoch is a pass over the remaining data (45,000 images:
  ``DR_EPOCH``).
* **Weight-editing methods** (no training): their own knob (``KNOBS``) on a log grid over the
  paper's range, then the geometric midpoints between the best and its grid neighbours.
* **Selection**: mean H-Mean over the validation classes (ties: mean Acc_rt). H-Mean uses the
  original model's Acc_ft, so no retrain model is needed. Evaluation uses a fixed subset
  (``EVAL_PER_CLASS`` train + test images per class). A diverged point (NaN) is recorded as
  such, scores H-Mean 0 and is never repeated on resume.

The same rule runs on the other tasks' protocols (``PROTOCOLS``, issue #12 item 5), each with its
own config, validation classes, methods and budgets: ``face_yaleb`` (every method of
benchmarks/face_yaleb.py on identities 5 and 9; ids 0, 3, 7 are reported), ``seg_camvid``
(DELETE, Negative Gradient, Random Label on pedestrian; car is reported; tie-break IoU_rt) and
``backdoor`` (every defense of benchmarks/backdoor_cifar10.py on the 5x5 trigger's poisoned
model; 3x3 and 7x7 are reported; H-Mean of clean Acc and the drop in ASR, tie-break Acc).

Resumable across machines: every point is a run of the protocol benchmark, recorded in its
committed ledger (``<out>/runs.jsonl``, :class:`taskforget.ledger.Ledger`) under the run's hash,
which covers its settings and the bytes of the original it starts from; a recorded point is read
back, not run again. The original is trained by a fixed-seed command (``train_hint``, with the
thread count pinned: the order of floating-point sums follows it) whose rerun gives the same
weights, so a new machine retrains it and continues the committed search (points of another
original are other runs). ``tuning.csv`` is rewritten after every point, with the digest of the
original (``original``). Processes side by side (disjoint ``--methods``, one core each) share
the ledger: every file a process writes holds every point recorded there and every search it
holds complete, whichever process ran it; ``--report`` after the last one rewrites them all.

Writes ``<out>/tuning.csv`` (every point with its scores), ``<out>/tuning.md`` (the selected
setting per method beside its grid) and ``configs/_base_/tuned/<protocol config stem>.py``
(``method_settings`` with each fully searched method's selected setting), which the protocol
config inherits, so ``--method NAME`` runs a method at its selected setting.
"""
import argparse
import csv
import math
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from statistics import fmean
from typing import Callable, Dict, Optional, Sequence, Tuple

from mmengine.config import Config

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))

from cls_cifar10 import BASE, BENCH_DEFAULTS, METHODS, QUICK_MODEL, Bench  # noqa: E402
from face_yaleb import CONFIG as FACE_CONFIG  # noqa: E402
from face_yaleb import METHODS as FACE_ROWS  # noqa: E402

from taskforget.apis import checkpoint_path  # noqa: E402
from taskforget.checkpoint import file_digest, write_text_atomic  # noqa: E402
from taskforget.cli import run_or_load  # noqa: E402
from taskforget.request import compose_method  # noqa: E402

VALIDATION = ["cat", "automobile"]  # never reported (Table 1 reports airplane, deer, ship)
LR_GRID = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2]
NORM_MODES = {"train": False, "eval": True}  # name -> model.norm_eval
# (search epochs, full epochs)
BUDGET = {"forget": (5, 20), "remain": (1, 4)}
# methods whose epoch is a pass over the remaining data (or a 30 % share of it)
DR_EPOCH = {"salun_dr", "scrub_dr", "finetune", "amnesiac", "bad_teacher_dr"}
# weight-editing methods: (model knob, grid over the paper's range)
KNOBS = {
    "fisher": ("alpha", [1e-8, 1e-7, 1e-6, 1e-5]),
    "influence": ("alpha", [1e-2, 1e-1, 1.0, 1e1, 1e2]),
    "influence_dr": ("alpha", [1e-2, 1e-1, 1.0, 1e1, 1e2]),
    # SSD's selection threshold: the official 10 selects no weight once alpha >~ K (10 here)
    "ssd": ("alpha", [0.5, 1.0, 2.0, 5.0, 10.0]),
}
TOP = 3  # points promoted to the full budget
EVAL_PER_CLASS = 200  # train and test images per class scored during the search
CLS_METRICS = ("Acc_f", "Acc_r", "Acc_ft", "Acc_rt", "H-Mean", "MIA")


class ProtocolBench(Bench):
    """The classification benchmark's cached, divergence-recording ``unlearn`` on another task's
    protocol config: ``build(method)`` gives the config with the method composed."""

    def __init__(self, args, build: Callable[[str], Config]):
        super().__init__(args)
        self.build = build

    def config(self, method="delete", seed=0, forget=None, **options) -> Config:
        cfg = self.build(method or "delete")
        overrides = {"randomness.seed": seed,
                     # evaluate once, after unlearning (runner.test), not after every epoch
                     "forget.train_cfg.val_interval": 10_000}
        if forget is not None:
            overrides["forget_classes"] = list(forget)
        if self.args.work_dir is not None:
            overrides["work_root"] = self.args.work_dir
        overrides.update(options)
        cfg.merge_from_dict(overrides)
        return cfg


def _face_build(method: str) -> Config:
    return compose_method(Config.fromfile(str(ROOT / FACE_CONFIG)), method)


def _face_methods() -> list:
    """The method fragments benchmarks/face_yaleb.py runs (one per row)."""
    return list(FACE_ROWS.values())


def _backdoor_bench(args):
    from backdoor_cifar10 import BackdoorBench
    return BackdoorBench(args)


def _backdoor_methods() -> list:
    from backdoor_cifar10 import DEFENSES
    return list(DEFENSES)


def _seg_build(method: str) -> Config:
    from seg_camvid import METHODS as SEG_ROWS
    from seg_camvid import load
    return load(*SEG_ROWS[method][1:], None)


SEG_CONFIG = "configs/seg_camvid_car.py"


@dataclass
class Protocol:
    """What the tuning rule needs of one task's protocol."""

    config: str  # the protocol leaf config (its stem names the tuned settings file)
    task: str  # outputs under docs/results/<task>/
    validation: Sequence  # classes (or identity ids) searched on, never reported
    methods: Callable[[], list]  # the method fragments searched by default
    bench: Callable  # args -> an object with Bench's config() / unlearn()
    evaluation: str  # what the search scores, for tuning.md
    budget: Dict[str, Tuple[int, int]] = field(default_factory=lambda: dict(BUDGET))
    dr_epoch: set = field(default_factory=set)
    knobs: dict = field(default_factory=dict)
    metrics: Tuple[str, ...] = CLS_METRICS
    retain: str = "Acc_rt"  # the tie-break
    forgotten: str = "Acc_ft"  # what forgetting lowers (tuning.md's frontier table)
    work_dir: Optional[str] = None  # None: the config's own work root
    eval_overrides: dict = field(default_factory=dict)  # the search's evaluation subset
    # settings written for a protocol method that has no selection yet (the leaf's own)
    untuned: dict = field(default_factory=dict)
    train_hint: str = ""  # how to make the original model
    tuned: Optional[str] = None  # the tuned settings file's stem (default: the config's)
    lr_grid: Sequence[float] = tuple(LR_GRID)  # the coarse lr grid, one point per decade

    @property
    def columns(self) -> list:
        return ["method", "class", "phase", "lr", "norm", "knob", "epochs", *self.metrics,
                "time_s", "status", "original", "device", "precision"]


PROTOCOLS = {
    "cls_cifar10": Protocol(
        config=BASE, task="classification", validation=VALIDATION,
        methods=lambda: [m for _, m in METHODS], bench=Bench,
        evaluation=f"evaluation on {EVAL_PER_CLASS} train + {EVAL_PER_CLASS} test images per "
                   "class",
        dr_epoch=DR_EPOCH, knobs=KNOBS, work_dir="work_dirs/cls_cifar10_resnet20_cpu",
        eval_overrides={"val_dataloader.dataset.max_per_class": EVAL_PER_CLASS,
                        "test_dataloader.dataset.max_per_class": EVAL_PER_CLASS},
        train_hint=f"OMP_NUM_THREADS=2 python tools/train.py {BASE}"),
    # face_yaleb.py reports identities 0, 3 and 7; a D_f epoch is ~50 images (4 batches), so
    # the full budget is the protocol's DELETE schedule (40 epochs, face_cpu.py)
    "face_yaleb": Protocol(
        config=FACE_CONFIG, task="face", validation=[5, 9], methods=_face_methods,
        bench=lambda args: ProtocolBench(args, _face_build),
        evaluation="evaluation on every train + test image of the 10 target identities",
        budget={"forget": (10, 40)}, knobs={"influence": KNOBS["influence"]},
        train_hint="OMP_NUM_THREADS=1 python tools/train.py configs/face_yaleb_pretrain.py && "
                   "OMP_NUM_THREADS=1 python "
                   f"tools/train.py {FACE_CONFIG}"),
    # seg_camvid.py reports car; an epoch is a pass over the images with the class (minutes)
    "seg_camvid": Protocol(
        config=SEG_CONFIG, task="segmentation", validation=["pedestrian"],
        methods=lambda: ["delete", "negative_gradient", "random_label"],
        bench=lambda args: ProtocolBench(args, _seg_build),
        evaluation="evaluation on the 101 val images at 180x240",
        budget={"forget": (1, 3)},
        metrics=("IoU_ft", "IoU_rt", "mIoU", "aAcc", "H-Mean"), retain="IoU_rt",
        forgotten="IoU_ft",
        untuned={"negative_gradient": dict(forget=dict(
                     train_cfg=dict(max_epochs=3), optim_wrapper=dict(optimizer=dict(lr=1e-4)))),
                 "random_label": dict(forget=dict(
                     train_cfg=dict(max_epochs=3), optim_wrapper=dict(optimizer=dict(lr=1e-3))))},
        train_hint=f"OMP_NUM_THREADS=1 python tools/train.py {SEG_CONFIG}"),
    # backdoor_cifar10.py reports the 3x3 and 7x7 models; a "class" is a trigger size; an
    # epoch is a pass over the 2,500 held-out images (and their stamped copies): seconds
    "backdoor": Protocol(
        config="configs/backdoor_cifar10_k5.py", task="backdoor", validation=[5],
        methods=_backdoor_methods, bench=_backdoor_bench,
        evaluation="ASR and clean Acc on the 7,500 evaluation test images; H-Mean = harmonic "
                   "mean of clean Acc and the drop in ASR",
        budget={"forget": (3, 10)}, metrics=("ASR", "ASR_clean", "Acc", "H-Mean"),
        retain="Acc", forgotten="ASR", tuned="backdoor_cifar10",
        # a decade more than the other tasks: the defenses' own recipes start at lr 0.1 (NAD's
        # main.py and its fine-tuned teacher: 0.1 for two epochs, then 0.01)
        lr_grid=(*LR_GRID, 1e-1),
        train_hint="OMP_NUM_THREADS=2 python tools/poison.py configs/backdoor_cifar10_k5.py"),
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--protocol", choices=list(PROTOCOLS), default="cls_cifar10",
                   help="the task protocol tuned (default cls_cifar10)")
    p.add_argument("--methods", nargs="+", help="method fragments (default: every method the "
                                                "protocol's benchmark reports)")
    p.add_argument("--classes", nargs="+", help="validation classes (default: the protocol's)")
    p.add_argument("--plan", action="store_true", help="list the runs, run nothing")
    p.add_argument("--report", action="store_true",
                   help="write tuning.md/.csv and the tuned settings from the ledger alone, run "
                        "nothing (e.g. after tuning processes that ran side by side)")
    p.add_argument("--quick", action="store_true", help="tiny model and data (checks the code; "
                                                        "cls_cifar10 only)")
    p.add_argument("--work-dir", help="work root (default: the protocol benchmark's)")
    p.add_argument("--out", help="tables (default docs/results/<task>)")
    p.add_argument("--tuned-config", help="where the selected settings go "
                                          "(default configs/_base_/tuned/<protocol>.py)")
    args = p.parse_args(argv)
    protocol = PROTOCOLS[args.protocol]
    if args.quick and args.protocol != "cls_cifar10":
        p.error("--quick is the classification protocol's (use --plan to check another one)")
    if args.classes is None:
        args.classes = list(protocol.validation)
    elif all(isinstance(c, int) for c in protocol.validation):  # identity ids
        args.classes = [int(c) for c in args.classes]
    if args.quick:
        args.work_dir = args.work_dir or "work_dirs/tuning_quick"
        args.out = args.out or "work_dirs/tuning_quick/report"
        args.tuned_config = args.tuned_config or "work_dirs/tuning_quick/tuned.py"
    work_dir = args.work_dir or protocol.work_dir
    args.work_dir = str(ROOT / work_dir) if work_dir else None
    args.out = ROOT / (args.out or f"docs/results/{protocol.task}")
    args.tuned_config = ROOT / (args.tuned_config or "configs/_base_/tuned/"
                                f"{protocol.tuned or Path(protocol.config).stem}.py")
    vars(args).update(BENCH_DEFAULTS)
    return args


class Point:
    """One grid point: a method's setting on one validation class at one budget."""

    def __init__(self, method, forget_class, phase, epochs=None, lr=None, norm=None,
                 knob=None, knob_name=None):
        self.method, self.forget_class, self.phase = method, forget_class, phase
        self.epochs, self.lr, self.norm, self.knob = epochs, lr, norm, knob
        self.knob_name = knob_name or (KNOBS[method][0] if knob is not None else None)

    @property
    def setting(self) -> tuple:
        """What selection compares across classes (everything but the class and phase)."""
        return (self.lr, self.norm, self.knob, self.epochs)

    def suffix(self) -> str:
        if self.knob is not None:
            return f"_tune_{self.knob_name}{self.knob:.1e}"
        return f"_tune_lr{self.lr:.1e}_bn{self.norm}_e{self.epochs}"

    def overrides(self, quick: bool, evaluation: Optional[dict] = None) -> dict:
        """Config overrides of the point; ``evaluation``: the search's evaluation subset
        (default the classification protocol's), left out in quick mode."""
        out = {"run_suffix": self.suffix()}
        if not quick:
            out.update(PROTOCOLS["cls_cifar10"].eval_overrides if evaluation is None
                       else evaluation)
        if self.knob is not None:
            out[f"model.{self.knob_name}"] = self.knob
        else:
            out.update({"forget.optim_wrapper.optimizer.lr": self.lr,
                        "model.norm_eval": NORM_MODES[self.norm],
                        "forget.train_cfg.max_epochs": self.epochs})
        return out


# what identifies a point in tuning.csv
POINT_KEY = ("method", "class", "lr", "norm", "knob", "epochs")


class NotCached(LookupError):
    """A point an offline search needs is not in the ledger."""


TEXT_COLUMNS = ("method", "class", "phase", "norm", "status", "original", "device", "precision")


def read_tuning(path: Path) -> list:
    """The rows of tuning.csv as the search makes them: epochs as ints, the other numbers as
    floats, empty cells as None."""
    def value(key, text):
        if text == "" or key in TEXT_COLUMNS:
            return text or None
        if key == "epochs":
            return int(float(text))
        try:
            return float(text)
        except ValueError:
            return text

    with open(path, newline="") as f:
        return [{k: value(k, v) for k, v in row.items()} for row in csv.DictReader(f)]


def score(rows, retain: str = "Acc_rt") -> tuple:
    """(mean H-Mean, mean ``retain`` metric) of one setting's rows over the validation
    classes; a diverged point scores 0; (-1, -1) without rows."""
    def ok(r, column):
        return r[column] if r.get("status") == "ok" and r.get(column) is not None else 0.0
    if not rows:
        return -1.0, -1.0
    return (sum(ok(r, "H-Mean") for r in rows) / len(rows),
            sum(ok(r, retain) for r in rows) / len(rows))


def row_setting(row: dict) -> tuple:
    """A row's ``(lr, norm, knob, epochs)``."""
    return row["lr"], row["norm"], row["knob"], row["epochs"]


def by_setting(rows) -> dict:
    """``{row_setting: [rows]}``: one method's points grouped by setting (a setting's rows are
    its validation classes), in the order first seen."""
    settings = {}
    for r in rows:
        settings.setdefault(row_setting(r), []).append(r)
    return settings


def setting_cells(setting: tuple) -> tuple:
    """A setting as tuning.csv writes it (a point's lr and the same lr read back from the
    table compare equal)."""
    return tuple(_cell(v) for v in setting)


def point_key(row: dict) -> tuple:
    """A row's (or a point's) identity in tuning.csv, as its written cells."""
    return tuple(_cell(row.get(k)) for k in POINT_KEY)


# the training precision a point's record names by its optimizer wrapper
PRECISION = {"OptimWrapper": "fp32", "BF16OptimWrapper": "bf16 autocast"}


def record_machine(record: dict) -> dict:
    """``{"device", "precision"}`` of a run's record (None where it does not say): the device
    it names, and the precision its optimizer wrapper (``hyperparameters.optim_wrapper``)
    gives."""
    wrapper = (record.get("hyperparameters") or {}).get("optim_wrapper")
    return dict(device=record.get("device"), precision=PRECISION.get(wrapper))


def recorded_machines(rows) -> str:
    """The devices and training precisions the points' own records name (not the machine that
    writes the report), e.g. ``"cpu x1 threads, fp32 (119 points)"``."""
    counts = Counter((r.get("device") or "device not recorded",
                      r.get("precision") or "precision not recorded")
                     for r in rows if r.get("status") != "planned")
    return "; ".join(f"{device}, {precision} ({n} point{'s' * (n != 1)})"
                     for (device, precision), n in sorted(counts.items())) or "no points yet"


class Search:
    """The search of one protocol. ``rows``: the points this search used, in order (a point read
    back again is there again); ``table``: the same once each, by :func:`point_key` (tuning.csv);
    ``original``: the digest of the original model the points are measured on."""

    def __init__(self, args):
        self.args = args
        self.protocol = PROTOCOLS[args.protocol]
        self.bench = self.protocol.bench(args)
        self.rows = []
        self.table = {}
        self.offline = False  # True: only read points back (NotCached when one is missing)
        self.original = self.original_digest()
        self.committed = None  # {point key: row} when reporting from tuning.csv alone
        self.original_scores = {}  # {class: {metric: the original's}} as the records carry them

    def report_from_table(self) -> bool:
        """Without the original model, a report reads the points from the committed
        tuning.csv instead of the ledger (its keys need the original's bytes); True when that
        table holds the points of one original."""
        path = self.args.out / "tuning.csv"
        rows = read_tuning(path) if path.is_file() else []
        originals = {r["original"] for r in rows}
        if len(originals) != 1:
            return False
        self.committed = {point_key(r): r for r in rows if r["status"] != "planned"}
        self.table = dict(self.committed)  # the rewritten csv keeps every committed point
        self.original = originals.pop()
        print(f"[tuning] the original is not on this machine: the points come from {path} "
              f"(original {self.original})", flush=True)
        return True

    def original_digest(self) -> Optional[str]:
        """The original model's file digest (16 hex digits), None while it is missing."""
        ckpt = checkpoint_path(self.bench.config(self.protocol.methods()[0]), "original")
        return file_digest(ckpt)[:16] if ckpt.is_file() else None

    def budget(self, method):
        return self.protocol.budget["remain" if method in self.protocol.dr_epoch else "forget"]

    def point(self, method, forget_class, phase, setting) -> Point:
        lr, norm, knob, epochs = setting
        name = self.protocol.knobs[method][0] if knob is not None else None
        return Point(method, forget_class, phase, epochs, lr, norm, knob, knob_name=name)

    def run(self, point: Point) -> dict:
        """The point's scores (its run, read back from the ledger when recorded there); the
        csv is rewritten after it. Offline, a point not in the ledger raises NotCached."""
        if self.committed is not None:
            row = self.committed.get(point_key(dict(
                method=point.method, **{"class": point.forget_class}, lr=point.lr,
                norm=point.norm, knob=point.knob, epochs=point.epochs)))
            if row is None:
                raise NotCached(point.suffix())
            self.rows.append(row)
            self.table[point_key(row)] = row
            return row
        cfg = self.bench.config(point.method, 0, (point.forget_class,),
                                **point.overrides(self.args.quick,
                                                  self.protocol.eval_overrides))
        if self.args.quick:
            cfg.merge_from_dict({f"model.{k}": v for k, v in QUICK_MODEL.items()
                                 if k in cfg.model})
            if point.knob is None:  # the quick check keeps every point at one epoch
                cfg.merge_from_dict({"forget.train_cfg.max_epochs": 1})
        recorded = self.bench.lookup(cfg)[2]
        if recorded is None and self.offline:
            raise NotCached(point.suffix())
        if self.args.plan and recorded is None:
            print(f"[plan] {point.method} {point.forget_class} {point.phase} {point.suffix()}")
            record = dict(metrics={}, planned=True)
        else:
            record = recorded if self.args.plan else self.bench.unlearn(cfg)
        m = record.get("metrics", {})
        original = {c: m[f"original/{c}"] for c in (self.protocol.forgotten, self.protocol.retain)
                    if f"original/{c}" in m}
        if len(original) == 2:
            self.original_scores[point.forget_class] = original
        status = ("planned" if record.get("planned") else
                  "diverged" if record.get("missing") else "ok")
        row = dict(method=point.method, **{"class": point.forget_class}, phase=point.phase,
                   lr=point.lr, norm=point.norm, knob=point.knob, epochs=point.epochs,
                   **{c: m.get(c) for c in self.protocol.metrics},
                   time_s=record.get("wall_time_s"), status=status, original=self.original,
                   **record_machine(record))
        self.rows.append(row)
        if not self.args.plan:
            self.table[point_key(row)] = row
            self.write_csv()
        return row

    def score(self, rows) -> tuple:
        return score(rows, self.protocol.retain)

    def evaluate(self, method, phase, settings) -> dict:
        """Run every setting on every validation class; {setting: score}."""
        scores = {}
        for setting in settings:
            rows = [self.run(self.point(method, c, phase, setting)) for c in self.args.classes]
            scores[setting] = self.score(rows)
        return scores

    def search(self, method) -> tuple:
        """The selected setting of one method, ``(lr, norm, knob, epochs)``."""
        if method in self.protocol.knobs:
            grid = self.protocol.knobs[method][1]
            scores = self.evaluate(method, "grid", [(None, None, k, None) for k in grid])
            refine = midpoints(grid, max(scores, key=scores.get)[2])
            scores.update(self.evaluate(method, "refine",
                                        [(None, None, k, None) for k in refine]))
            return max(scores, key=scores.get)
        short, full = self.budget(method)
        grid = self.protocol.lr_grid
        scores = self.evaluate(method, "grid", [(lr, norm, None, short) for lr in grid
                                                for norm in NORM_MODES])
        lr, norm, _, _ = max(scores, key=scores.get)
        scores.update(self.evaluate(method, "refine", [
            (refined, norm, None, short) for refined in midpoints(grid, lr)]))
        top = sorted(scores, key=scores.get, reverse=True)[:TOP]
        scores.update(self.evaluate(method, "full", [(lr, norm, None, full)
                                                     for lr, norm, _, _ in top]))
        return max(scores, key=scores.get)  # the epoch count is searched too

    # ---- outputs --------------------------------------------------------------------------
    def write_csv(self) -> None:
        """tuning.csv: every point read back or run, atomically."""
        columns = self.protocol.columns
        lines = [",".join(columns)]
        lines += [",".join(_cell(row.get(c)) for c in columns) for row in self.table.values()]
        self.args.out.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.args.out / "tuning.csv", "\n".join(lines) + "\n")

    def write(self, selected: dict) -> None:
        out = self.args.out
        self.write_csv()
        write_text_atomic(out / "tuning.md", self.markdown(selected))
        write_text_atomic(self.args.tuned_config, tuned_config(
            selected, self.protocol.knobs, _shown(out / "tuning.md"), self.protocol.untuned))
        print(f"[tuning] wrote {out / 'tuning.md'}, {out / 'tuning.csv'}, "
              f"{self.args.tuned_config}")

    def markdown(self, selected: dict) -> str:
        protocol = self.protocol
        classes = ", ".join(str(c) for c in self.args.classes)
        option = "" if self.args.protocol == "cls_cifar10" else f" --protocol {self.args.protocol}"
        if list(self.args.classes) != list(protocol.validation):
            option += " --classes " + " ".join(str(c) for c in self.args.classes)
        remaining = (f"; remaining-data epochs for {', '.join(sorted(protocol.dr_epoch))}"
                     if protocol.dr_epoch else "")
        lines = [
            f"# Tuning on the validation classes ({classes}; never reported)", "",
            f"Protocol: `{protocol.config}`, seed 0, {protocol.evaluation}. Command: "
            f"`python benchmarks/tuning.py{option}`. Points run on: "
            f"{recorded_machines(self.table.values())}."
            " Original model: "
            f"digest {self.original} (`{protocol.train_hint}`; a rerun of that command in "
            "the points' precision continues this search: fp32 points on any x86 CPU with "
            "AVX2, with `TASKFORGET_PRECISION=fp32` and the AVX2 kernels where the CPU has "
            "bf16 or AVX-512, see the README's precision section).", "",
            f"Score = mean H-Mean over the classes (ties: mean {protocol.retain}); a diverged "
            "point scores 0; the selected setting is the best point at either budget (the "
            "epoch count is searched too). lr grid: " + ", ".join(
                f"{lr:.0e}" for lr in protocol.lr_grid) + " (then half a decade either side "
            "of the best). Budgets (search / full epochs): " + ", ".join(
                f"{k} epochs {v[0]} / {v[1]}" for k, v in protocol.budget.items())
            + f"{remaining}.", "",
            f"| method | selected | mean H-Mean | mean {protocol.retain} | points (diverged) |",
            "|---|---|---|---|---|"]
        for method, setting in selected.items():
            rows = [r for r in self.table.values() if r["method"] == method]
            chosen = [r for r in rows if setting_cells(row_setting(r)) == setting_cells(setting)]
            h, a = self.score(chosen)
            diverged = sum(r["status"] == "diverged" for r in rows)
            lines.append(f"| {method} | {describe(method, setting, protocol.knobs)} | {h:.2f} | "
                         f"{a:.2f} | {len(rows)} ({diverged}) |")
        lines += self.frontier_table(list(selected))
        lines += ["", "Each method's points (score = mean H-Mean; `diverged` scores 0; the "
                  "selected one in bold). Every point with all its metrics: `tuning.csv`."]
        for method, setting in selected.items():
            lines += ["", f"**{method}**", ""] + self.grid(method, setting)
        return "\n".join(lines) + "\n"

    def frontier_table(self, methods: list) -> list:
        """Markdown: each method's best mean retained score among its points that forget at
        least to each bound (mean forgotten score at most the bound), whatever their H-Mean:
        what the method can keep at a given forgetting on the validation classes."""
        forgotten, retain = self.protocol.forgotten, self.protocol.retain
        known = [self.original_scores[c] for c in self.args.classes
                 if c in self.original_scores]
        reference = (f" The original model: {forgotten} "
                     f"{fmean([o[forgotten] for o in known]):.2f}, {retain} "
                     f"{fmean([o[retain] for o in known]):.2f}." if len(known) ==
                     len(self.args.classes) else "")
        lines = ["", f"What each method can keep: its best mean {retain} among its points (any "
                 f"lr, batch-norm mode and budget) whose mean {forgotten} is at most each bound, "
                 "whatever their score; `-`: no point forgets that far." + reference, "",
                 "| method | " + " | ".join(f"{forgotten} ≤ {b:g}" for b in FRONTIER_BOUNDS)
                 + " |", "|---|" + "---|" * len(FRONTIER_BOUNDS)]
        for method in methods:
            best = frontier([r for r in self.table.values() if r["method"] == method],
                            forgotten, retain)
            lines.append(f"| {method} | " + " | ".join(
                "-" if v is None else f"{v:.2f}" for v in best) + " |")
        return lines

    def grid(self, method: str, selected: tuple) -> list:
        """Markdown rows of one method's points: a setting per row (lr or knob, then batch-norm
        mode and epochs), its score."""
        settings = by_setting(r for r in self.table.values() if r["method"] == method)
        lines = ["| setting | epochs | score |", "|---|---|---|"]
        for setting, rows in sorted(settings.items(), key=lambda kv: (
                kv[0][3] or 0, kv[0][2] or 0, kv[0][0] or 0, str(kv[0][1]))):
            lr, norm, knob, epochs = setting
            name = (f"{self.protocol.knobs[method][0]} {knob:.1e}" if knob is not None
                    else f"lr {lr:.1e}, batch norm {norm}")
            score = ("diverged" if all(r["status"] == "diverged" for r in rows)
                     else f"{self.score(rows)[0]:.2f}")
            bold = "**" if setting_cells(setting) == setting_cells(selected) else ""
            lines.append(f"| {bold}{name}{bold} | {epochs if epochs else '-'} | "
                         f"{bold}{score}{bold} |")
        return lines


# the forgotten-score bounds of tuning.md's frontier table
FRONTIER_BOUNDS = (1, 5, 10, 20)


def frontier(rows, forgotten: str = "Acc_ft", retain: str = "Acc_rt",
             bounds=FRONTIER_BOUNDS) -> list:
    """For each bound, the best mean ``retain`` score over the settings of ``rows`` (one
    method's points; a setting's rows are its validation classes) whose mean ``forgotten`` score
    is at most the bound; None where no setting gets there. A setting with a diverged or
    unscored class is left out."""
    means = [(fmean([r[forgotten] for r in rs]), fmean([r[retain] for r in rs]))
             for rs in by_setting(rows).values()
             if all(r.get("status") == "ok" and r.get(forgotten) is not None
                    and r.get(retain) is not None for r in rs)]
    return [max((kept for forgot, kept in means if forgot <= bound), default=None)
            for bound in bounds]


def midpoints(grid, best) -> list:
    """The geometric midpoints between ``best`` and its neighbours on ``grid`` (the refining
    points: half a decade either side on a grid of decades)."""
    i = min(range(len(grid)), key=lambda j: abs(math.log(grid[j] / best)))
    return [math.sqrt(grid[i] * grid[j]) for j in (i - 1, i + 1) if 0 <= j < len(grid)]


def describe(method, setting, knobs=None) -> str:
    lr, norm, knob, epochs = setting
    if knob is not None:
        return f"{(knobs or KNOBS)[method][0]} {knob:.1e}"
    return f"lr {lr:.1e}, batch norm {norm}, {epochs} epochs"


def tuned_config(selected: dict, knobs=None, report="docs/results/classification/tuning.md",
                 untuned=None) -> str:
    """``method_settings`` for the protocol: each method at its selected setting; ``untuned``:
    the protocol's own settings of the methods not selected (yet). ``tuned_methods`` lists the
    selected ones (:func:`taskforget.request.is_tuned`)."""
    knobs = KNOBS if knobs is None else knobs
    lines = ["# Written by benchmarks/tuning.py: each method's selected setting on the validation",
             f"# classes ({report}). Do not edit by hand.",
             "method_settings = dict("]
    for method, (lr, norm, knob, epochs) in selected.items():
        if knob is not None:
            lines.append(f"    {method}=dict(model=dict({knobs[method][0]}={knob!r})),")
        else:
            lines.append(
                f"    {method}=dict(model=dict(norm_eval={NORM_MODES[norm]}),\n"
                f"        forget=dict(train_cfg=dict(max_epochs={epochs}),\n"
                f"                    optim_wrapper=dict(optimizer=dict(lr={lr!r})))),")
    rest = {m: v for m, v in (untuned or {}).items() if m not in selected}
    if rest:
        lines.append("    # not searched yet: the protocol's own settings")
        lines += [f"    {m}={_source(v)}," for m, v in rest.items()]
    listed = f"tuned_methods = {list(selected)!r}"
    if len(lines) == 3:
        return "\n".join(lines[:2] + ["method_settings = dict()", listed]) + "\n"
    lines += [")", listed]
    return "\n".join(lines) + "\n"


def _source(value) -> str:
    """A nested dict as ``dict(key=...)`` config source."""
    if isinstance(value, dict):
        return "dict(" + ", ".join(f"{k}={_source(v)}" for k, v in value.items()) + ")"
    return repr(value)


def _shown(path: Path) -> str:
    """``path`` relative to the repository when it is inside it."""
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}" if (value != 0 and abs(math.log10(abs(value))) > 3) else \
            f"{value:.4g}"
    return str(value)


def main(argv=None):
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    args = parse_args(argv)
    search = Search(args)
    if args.quick:  # the tiny original first
        run_or_load(search.bench.config("delete"), "original")
        search.original = search.original_digest()
    elif not args.plan and search.original is None and not (
            args.report and search.report_from_table()):
        sys.exit(f"the original model is missing: {search.protocol.train_hint}")
    methods = args.methods or search.protocol.methods()
    order = list(dict.fromkeys([*search.protocol.methods(), *methods]))
    if args.plan:
        for method in methods:
            select(search, method, offline=False)
        planned = sum(r["status"] == "planned" for r in search.rows)
        print(f"[plan] {planned} runs to make, {len(search.rows) - planned} read back from "
              f"the ledger (original {search.original})")
        return
    ran, runs = {}, [] if args.report else [m for m in order if m in methods]
    if runs:  # the tables keep every recorded point from the first write on
        ledger_view(search, order, ran)
    for method in runs:
        ran[method] = select(search, method, offline=False)
        search.write(ledger_view(search, order, ran))  # after every method: partial results kept
    search.write(ledger_view(search, order, ran, verbose=True))


def select(search: Search, method: str, offline: bool, verbose: bool = True) -> Optional[tuple]:
    """One method's selected setting: its search, run (``offline`` False) or read back from the
    ledger alone; None when the ledger does not hold it complete yet."""
    search.offline = offline
    if verbose:
        print(f"[tuning] {method}" + (" (from the ledger)" if offline else ""), flush=True)
    try:
        return search.search(method)
    except NotCached:
        if verbose:
            print(f"[tuning] {method}: not searched yet", flush=True)
        return None


def ledger_view(search: Search, order: list, ran: dict, verbose: bool = False) -> dict:
    """{method: selected setting} in protocol order: the methods this process searched, and every
    other one whose search the ledger holds complete now (tuning processes side by side append
    to it), so no write drops a selection made elsewhere; their points go to the tables too."""
    view = {}
    for method in order:
        setting = ran[method] if method in ran else select(search, method, True, verbose)
        if setting is not None:
            view[method] = setting
    return view


if __name__ == "__main__":
    main()
