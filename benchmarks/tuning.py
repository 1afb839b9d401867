"""One tuning protocol for every method, DELETE included, on validation classes that are never
reported (issue #12). Resumable: every grid point is a cached run (``run_or_load``).

    python benchmarks/tuning.py --plan          # the runs it would make, with their count
    python benchmarks/tuning.py                 # run (or read back) the whole search
    python benchmarks/tuning.py --methods delete random_label --classes cat
    python benchmarks/tuning.py --quick         # tiny model and data: checks the code

The protocol, the same for every method:

* **Training-based methods**: lr on a log grid over [1e-6, 1e-2] (one point per decade) x the
  batch-norm mode {train, eval} (``model.norm_eval``), every point at the short budget; then two
  refining points at the best mode, half a decade either side of the best lr (the geometric
  midpoints to its grid neighbours); then successive
  halving: the best three points so far run again at the full budget, and the best of those is
  selected. Budgets (epochs): ``BUDGET`` -- the paper's 20 for methods whose epoch is a pass
  over the forget set (5 for the search points), and fewer for the methods whose epoch is a pass
  over the remaining data (45,000 images: ``DR_EPOCH``).
* **Weight-editing methods** (no training): their own knob (``KNOBS``) on a log grid over the
  paper's range, then the geometric midpoints between the best and its grid neighbours.
* **Selection**: mean H-Mean over the validation classes (ties: mean Acc_rt). H-Mean uses the
  original model's Acc_ft, so no retrain model is needed. Evaluation uses a fixed subset
  (``EVAL_PER_CLASS`` train + test images per class). A diverged point (NaN) is recorded as
  such, scores H-Mean 0 and is never repeated on resume.

Writes ``<out>/tuning.csv`` (every point with its scores), ``<out>/tuning.md`` (the selected
setting per method beside its grid) and ``configs/_base_/tuned/<protocol>.py``
(``method_settings`` with each fully searched method's selected setting), which the protocol
config inherits, so ``--method NAME`` runs a method at its selected setting.
"""
import argparse
import math
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))

from cls_cifar10 import BASE, METHODS, QUICK_MODEL, Bench  # noqa: E402

from taskforget.apis import checkpoint_path, device_name  # noqa: E402
from taskforget.checkpoint import write_text_atomic  # noqa: E402
from taskforget.cli import run_or_load  # noqa: E402

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
COLUMNS = ["method", "class", "phase", "lr", "norm", "knob", "epochs", "Acc_f", "Acc_r",
           "Acc_ft", "Acc_rt", "H-Mean", "MIA", "time_s", "status"]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--methods", nargs="+", help="method fragments (default: every Table 1 row)")
    p.add_argument("--classes", nargs="+", default=VALIDATION, help="validation classes")
    p.add_argument("--plan", action="store_true", help="list the runs, run nothing")
    p.add_argument("--quick", action="store_true", help="tiny model and data (checks the code)")
    p.add_argument("--work-dir", help="work root (default: the classification benchmark's)")
    p.add_argument("--out", help="tables (default docs/results/classification)")
    p.add_argument("--tuned-config", help="where the selected settings go "
                                          "(default configs/_base_/tuned/<protocol>.py)")
    args = p.parse_args(argv)
    if args.quick:
        args.work_dir = args.work_dir or "work_dirs/tuning_quick"
        args.out = args.out or "work_dirs/tuning_quick/report"
        args.tuned_config = args.tuned_config or "work_dirs/tuning_quick/tuned.py"
    args.work_dir = str(ROOT / (args.work_dir or "work_dirs/cls_cifar10_resnet20_cpu"))
    args.out = ROOT / (args.out or "docs/results/classification")
    args.tuned_config = ROOT / (args.tuned_config or
                                f"configs/_base_/tuned/{Path(BASE).stem}.py")
    # the classification benchmark's settings that Bench.config reads
    args.max_forget_epochs = None
    return args


class Point:
    """One grid point: a method's setting on one validation class at one budget."""

    def __init__(self, method, forget_class, phase, epochs=None, lr=None, norm=None,
                 knob=None):
        self.method, self.forget_class, self.phase = method, forget_class, phase
        self.epochs, self.lr, self.norm, self.knob = epochs, lr, norm, knob

    @property
    def setting(self) -> tuple:
        """What selection compares across classes (everything but the class and phase)."""
        return (self.lr, self.norm, self.knob, self.epochs)

    def suffix(self) -> str:
        if self.knob is not None:
            return f"_tune_{KNOBS[self.method][0]}{self.knob:.1e}"
        return f"_tune_lr{self.lr:.1e}_bn{self.norm}_e{self.epochs}"

    def overrides(self, quick: bool) -> dict:
        out = {"run_suffix": self.suffix()}
        if not quick:
            out.update({"val_dataloader.dataset.max_per_class": EVAL_PER_CLASS,
                        "test_dataloader.dataset.max_per_class": EVAL_PER_CLASS})
        if self.knob is not None:
            out[f"model.{KNOBS[self.method][0]}"] = self.knob
        else:
            out.update({"forget.optim_wrapper.optimizer.lr": self.lr,
                        "model.norm_eval": NORM_MODES[self.norm],
                        "forget.train_cfg.max_epochs": self.epochs})
        return out


class Search:
    def __init__(self, args):
        self.args = args
        self.bench = Bench(args)
        self.rows = []

    def budget(self, method):
        return BUDGET["remain" if method in DR_EPOCH else "forget"]

    def run(self, point: Point) -> dict:
        """The point's scores (a cached run when one exists)."""
        cfg = self.bench.config(point.method, 0, (point.forget_class,),
                                **point.overrides(self.args.quick))
        if self.args.quick:
            cfg.merge_from_dict({f"model.{k}": v for k, v in QUICK_MODEL.items()
                                 if k in cfg.model})
            if point.knob is None:  # the quick check keeps every point at one epoch
                cfg.merge_from_dict({"forget.train_cfg.max_epochs": 1})
        if self.args.plan:
            print(f"[plan] {point.method} {point.forget_class} {point.phase} {point.suffix()}")
            record = dict(metrics={}, planned=True)
        else:
            record = self.bench.unlearn(cfg)
        m = record.get("metrics", {})
        status = ("planned" if record.get("planned") else
                  "diverged" if record.get("missing") else "ok")
        row = dict(method=point.method, **{"class": point.forget_class}, phase=point.phase,
                   lr=point.lr, norm=point.norm, knob=point.knob, epochs=point.epochs,
                   **{c: m.get(c) for c in ("Acc_f", "Acc_r", "Acc_ft", "Acc_rt", "H-Mean",
                                            "MIA")},
                   time_s=record.get("wall_time_s"), status=status)
        self.rows.append(row)
        return row

    def score(self, rows) -> tuple:
        """(mean H-Mean, mean Acc_rt) over the validation classes; a diverged point scores 0."""
        h = [r["H-Mean"] if r["status"] == "ok" and r["H-Mean"] is not None else 0.0
             for r in rows]
        a = [r["Acc_rt"] if r["status"] == "ok" and r["Acc_rt"] is not None else 0.0
             for r in rows]
        return (sum(h) / len(h), sum(a) / len(a)) if h else (-1.0, -1.0)

    def evaluate(self, method, phase, settings) -> dict:
        """Run every setting on every validation class; {setting: score}."""
        scores = {}
        for setting in settings:
            lr, norm, knob, epochs = setting
            rows = [self.run(Point(method, c, phase, epochs, lr, norm, knob))
                    for c in self.args.classes]
            scores[setting] = self.score(rows)
        return scores

    def search(self, method) -> tuple:
        """The selected setting of one method, ``(lr, norm, knob, epochs)``."""
        if method in KNOBS:
            grid = KNOBS[method][1]
            scores = self.evaluate(method, "grid", [(None, None, k, None) for k in grid])
            refine = midpoints(grid, max(scores, key=scores.get)[2])
            scores.update(self.evaluate(method, "refine",
                                        [(None, None, k, None) for k in refine]))
            return max(scores, key=scores.get)
        short, full = self.budget(method)
        scores = self.evaluate(method, "grid", [(lr, norm, None, short) for lr in LR_GRID
                                                for norm in NORM_MODES])
        lr, norm, _, _ = max(scores, key=scores.get)
        scores.update(self.evaluate(method, "refine", [
            (refined, norm, None, short) for refined in midpoints(LR_GRID, lr)]))
        top = sorted(scores, key=scores.get, reverse=True)[:TOP]
        finals = self.evaluate(method, "full", [(lr, norm, None, full)
                                                for lr, norm, _, _ in top])
        return max(finals, key=finals.get)

    # ---- outputs --------------------------------------------------------------------------
    def write(self, selected: dict) -> None:
        out = self.args.out
        out.mkdir(parents=True, exist_ok=True)
        lines = [",".join(COLUMNS)]
        for row in self.rows:
            lines.append(",".join(_cell(row.get(c)) for c in COLUMNS))
        write_text_atomic(out / "tuning.csv", "\n".join(lines) + "\n")
        write_text_atomic(out / "tuning.md", self.markdown(selected))
        write_text_atomic(self.args.tuned_config, tuned_config(selected))
        print(f"[tuning] wrote {out / 'tuning.md'}, {out / 'tuning.csv'}, "
              f"{self.args.tuned_config}")

    def markdown(self, selected: dict) -> str:
        classes = ", ".join(self.args.classes)
        option = "" if self.args.classes == VALIDATION else " --classes " + " ".join(
            self.args.classes)
        lines = [
            f"# Tuning on the validation classes ({classes}; never reported)", "",
            f"Protocol: `{BASE}`, seed 0, evaluation on {EVAL_PER_CLASS} train + "
            f"{EVAL_PER_CLASS} test images per class. Command: `python benchmarks/tuning.py"
            f"{option}`. Machine: {device_name()}.", "",
            "Score = mean H-Mean over the classes (ties: mean Acc_rt); a diverged point "
            "scores 0. Budgets (search / full epochs): " + ", ".join(
                f"{k} epochs {v[0]} / {v[1]}" for k, v in BUDGET.items())
            + f"; remaining-data epochs for {', '.join(sorted(DR_EPOCH))}.", "",
            "| method | selected | mean H-Mean | mean Acc_rt | points (diverged) |",
            "|---|---|---|---|---|"]
        for method, setting in selected.items():
            rows = [r for r in self.rows if r["method"] == method]
            chosen = [r for r in rows if (r["lr"], r["norm"], r["knob"], r["epochs"]) == setting]
            h, a = self.score(chosen)
            diverged = sum(r["status"] == "diverged" for r in rows)
            lines.append(f"| {method} | {describe(method, setting)} | {h:.2f} | {a:.2f} | "
                         f"{len(rows)} ({diverged}) |")
        lines += ["", "Every point: `tuning.csv`."]
        return "\n".join(lines) + "\n"


def midpoints(grid, best) -> list:
    """The geometric midpoints between ``best`` and its neighbours on ``grid`` (the refining
    points: half a decade either side on a grid of decades)."""
    i = min(range(len(grid)), key=lambda j: abs(math.log(grid[j] / best)))
    return [math.sqrt(grid[i] * grid[j]) for j in (i - 1, i + 1) if 0 <= j < len(grid)]


def describe(method, setting) -> str:
    lr, norm, knob, epochs = setting
    if knob is not None:
        return f"{KNOBS[method][0]} {knob:.1e}"
    return f"lr {lr:.1e}, batch norm {norm}, {epochs} epochs"


def tuned_config(selected: dict) -> str:
    """``method_settings`` for the protocol: each method at its selected setting."""
    lines = ["# Written by benchmarks/tuning.py: each method's selected setting on the validation",
             "# classes (docs/results/classification/tuning.md). Do not edit by hand.",
             "method_settings = dict("]
    for method, (lr, norm, knob, epochs) in selected.items():
        if knob is not None:
            lines.append(f"    {method}=dict(model=dict({KNOBS[method][0]}={knob!r})),")
        else:
            lines.append(
                f"    {method}=dict(model=dict(norm_eval={NORM_MODES[norm]}),\n"
                f"        forget=dict(train_cfg=dict(max_epochs={epochs}),\n"
                f"                    optim_wrapper=dict(optimizer=dict(lr={lr!r})))),")
    lines.append(")")
    return "\n".join(lines) + "\n"


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
    elif not args.plan and not checkpoint_path(search.bench.config("delete"),
                                               "original").is_file():
        sys.exit(f"the original model is missing: python tools/train.py {BASE}")
    methods = args.methods or [m for _, m in METHODS]
    selected = {}
    for method in methods:
        print(f"[tuning] {method}", flush=True)
        selected[method] = search.search(method)
        if not args.plan:
            search.write(selected)  # after every method: partial results are kept
    if args.plan:
        print(f"[plan] {len(search.rows)} runs")


if __name__ == "__main__":
    main()
