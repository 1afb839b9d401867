"""Accuracy against cost (issue #12 item 7): DELETE and the tuning's two best baselines at their
selected lr and batch-norm mode for 1, 2, 5, 10 and 20 unlearning epochs (and the protocol's
full budget), forgetting a reported class (seed 0): Acc_rt and H-Mean against unlearning time /
retraining time, so a user sees what a faster schedule costs. Protocols (``CURVES``):
classification (airplane; 20 epochs) and face (Yale B identity 0; 40 epochs, the retraining
time being the fine-tuning stage's, which retraining repeats without the person).

    python benchmarks/cost_curve.py             # after benchmarks/tuning.py; resumable
    python benchmarks/cost_curve.py --methods delete random_label scrub
    python benchmarks/cost_curve.py --protocol face_yaleb   # after its tuning and face_yaleb.py
    python benchmarks/cost_curve.py --quick     # tiny model and data: checks the code

The settings are the protocol config's as composed (it inherits configs/_base_/tuned/, written
by the tuning); the two best baselines are the training-based forget-set methods with the
highest selected mean H-Mean in ``tuning.csv`` (weight edits have no epochs; an epoch of a
remaining-data method is a pass over 45,000 images, so 20 of them cost about a retraining:
name them with ``--methods`` to include them). Every run is cached like the classification
benchmark's (the run at the tuned epoch count is Table 1's own run); the retraining time is the
one tools/train.py recorded for the retrain model. Writes ``<out>/cost_curve.md`` and
``cost_curve.png``.
"""
import argparse
import math
import os
import sys
from pathlib import Path
from typing import NamedTuple

from mmengine.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tuning  # noqa: E402
from cls_cifar10 import BENCH_DEFAULTS, FORGET_ONLY, Bench  # noqa: E402

from taskforget.apis import checkpoint_path, device_name  # noqa: E402
from taskforget.checkpoint import write_text_atomic  # noqa: E402
from taskforget.evaluation import tables  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EPOCHS = [1, 2, 5, 10, 20]
QUICK_EPOCHS = [1, 2, 5]


class Curve(NamedTuple):
    """A protocol's curve: the class forgotten (a reported one, never tuned on), the unlearning
    epochs, and whether the run at the selected epoch count is the table's own run (true where
    the same Bench makes the table, so the curve reuses it rather than rerunning it)."""

    forget: object
    epochs: list
    shares_table_runs: bool


CURVES = {"cls_cifar10": Curve("airplane", EPOCHS, shares_table_runs=True),
          # the face table's runs are made by benchmarks/face_yaleb.py, with other evaluation
          "face_yaleb": Curve(0, [*EPOCHS, 40], shares_table_runs=False)}
BASELINES = 2
METRICS = ("Acc_ft", "Acc_rt", "H-Mean")
# the quick check's tuning: DELETE and two cheap baselines on one class
QUICK_TUNING = ["--quick", "--classes", "cat", "--methods", "delete", "random_label",
                "negative_gradient"]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--protocol", choices=list(CURVES), default="cls_cifar10",
                   help="the task protocol (default cls_cifar10)")
    p.add_argument("--methods", nargs="+", help="methods (default: DELETE and the tuning's two "
                                                "best training-based forget-set baselines)")
    p.add_argument("--epochs", nargs="+", type=int, help=f"unlearning epochs (default {EPOCHS})")
    p.add_argument("--quick", action="store_true", help="tiny model and data (checks the code)")
    p.add_argument("--work-dir", help="work root (default: the classification benchmark's)")
    p.add_argument("--out", help="table and figure (default docs/results/classification)")
    p.add_argument("--tuning", help="the tuning's tuning.csv (default <out>/tuning.csv)")
    p.add_argument("--tuned-config", help="settings file to use instead of the one the "
                                          "protocol config inherits (quick: tuning --quick's)")
    args = p.parse_args(argv)
    protocol = tuning.PROTOCOLS[args.protocol]
    if args.quick and args.protocol != "cls_cifar10":
        p.error("--quick checks the classification protocol only")
    if args.quick:
        args.work_dir = args.work_dir or "work_dirs/tuning_quick"
        args.out = args.out or "work_dirs/tuning_quick/report"
        args.tuned_config = args.tuned_config or "work_dirs/tuning_quick/tuned.py"
    args.forget = CURVES[args.protocol].forget
    args.epochs = args.epochs or (QUICK_EPOCHS if args.quick else CURVES[args.protocol].epochs)
    work_dir = args.work_dir or protocol.work_dir  # None: the protocol config's own
    args.work_dir = str(ROOT / work_dir) if work_dir else None
    args.out = ROOT / (args.out or f"docs/results/{protocol.task}")
    args.tuning = ROOT / args.tuning if args.tuning else args.out / "tuning.csv"
    args.tuned_config = ROOT / args.tuned_config if args.tuned_config else None
    vars(args).update(BENCH_DEFAULTS)
    return args


# ---- the tuning's selection ----------------------------------------------------------------
def selected_scores(rows: list) -> dict:
    """``{method: (mean H-Mean, mean Acc_rt)}`` of each method's selected setting: its best
    point at either budget (as the tuning selects), scored as the tuning scores (diverged = 0,
    mean over the validation classes)."""
    out = {}
    for method in dict.fromkeys(r["method"] for r in rows):
        out[method] = max(tuning.score(group) for group in
                          tuning.by_setting(r for r in rows if r["method"] == method).values())
    return out


def best_baselines(scores: dict, n: int = BASELINES, tuned=None) -> list:
    """The ``n`` training-based forget-set methods other than DELETE with the best scores;
    with ``tuned`` (the tuned config's ``tuned_methods``), only among the methods whose search
    is complete (a partly searched method's best point so far is not its selection)."""
    forget_set = {m for _, m in FORGET_ONLY} - {"delete"} - set(tuning.KNOBS)
    pool = [m for m in scores if m in forget_set and (tuned is None or m in tuned)]
    return sorted(pool, key=lambda m: scores[m], reverse=True)[:n]


def tuned_methods(config: Path) -> list:
    """The methods a config holds selections of: a tuned config
    (``configs/_base_/tuned/<protocol>.py``) or a protocol config that inherits one."""
    return list(Config.fromfile(str(config)).get("tuned_methods", []))


# ---- table and figure ----------------------------------------------------------------------
def curve_rows(records: list, retrain_s) -> list:
    """One row per run: method, epochs, time, time / retraining time and the metrics."""
    rows = []
    for r in records:
        t = r.get("wall_time_s")
        ratio = t / retrain_s if t is not None and retrain_s else math.nan
        rows.append(dict(method=r["method"], epochs=r["epochs"], lr=r.get("lr"),
                         time_s=math.nan if t is None else t, ratio=ratio,
                         **{c: r.get("metrics", {}).get(c, math.nan) for c in METRICS}))
    return rows


def markdown(rows: list, retrain: dict, note: str, forget="airplane") -> str:
    retrain_s = retrain.get("wall_time_s")
    lines = [f"# Accuracy against cost: forget {forget}, seed 0", "",
             "| method | lr | epochs | time (s) | time / retraining | Acc_ft ↓ | Acc_rt ↑ | "
             "H-Mean ↑ |", "|---|---|---|---|---|---|---|---|"]

    def cell(v, fmt):
        return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else fmt.format(v)

    for r in rows:
        lines.append(f"| {r['method']} | {cell(r['lr'], '{:.1e}')} | {r['epochs']} | "
                     f"{cell(r['time_s'], '{:.1f}')} | {cell(r['ratio'], '{:.4f}')} | "
                     + " | ".join(cell(r[c], "{:.2f}") for c in METRICS) + " |")
    m = retrain.get("metrics", {})
    lines.append(f"| Retrain model | - | - | {cell(retrain_s, '{:.0f}')} | 1 | "
                 + " | ".join(cell(m.get(c, math.nan), "{:.2f}") for c in METRICS) + " |")
    lines += ["", "![accuracy against cost](cost_curve.png)", "", note, ""]
    return "\n".join(lines)


def plot(rows: list, retrain: dict, path: Path) -> Path:
    methods = list(dict.fromkeys(r["method"] for r in rows))
    panels = {c: {m: ([r["ratio"] for r in rows if r["method"] == m],
                      [r[c] for r in rows if r["method"] == m]) for m in methods}
              for c in ("Acc_rt", "H-Mean")}
    reference = {c: {"Retrain model": retrain["metrics"][c]} for c in ("Acc_rt", "H-Mean")
                 if c in retrain.get("metrics", {})}
    return tables.curves(panels, path, xlabel="unlearning time / retraining time", logx=True,
                         references=reference)


# ---- runs ----------------------------------------------------------------------------------
def tuned_overrides(path, method) -> dict:
    """The lr and batch-norm mode of ``method`` in a settings file (the epochs are varied)."""
    if path is None:
        return {}
    own = Config.fromfile(str(path)).method_settings.get(method, {})
    out = {}
    if "norm_eval" in own.get("model", {}):
        out["model.norm_eval"] = own["model"]["norm_eval"]
    lr = own.get("forget", {}).get("optim_wrapper", {}).get("optimizer", {}).get("lr")
    if lr is not None:
        out["forget.optim_wrapper.optimizer.lr"] = lr
    return out


def run(bench: Bench, method: str, epochs: int, settings: dict) -> dict:
    """The cached run of ``method`` at its selected setting for ``epochs`` epochs; at the
    selected epoch count it is the table's own run where the curve shares it
    (``Curve.shares_table_runs``). Every other run is named ``..._cost_e<epochs>``, so that
    a table made by another benchmark is never overwritten."""
    cfg = bench.config(method, 0, (bench.args.forget,), **settings)
    selected = cfg.forget.train_cfg.max_epochs
    table_run = CURVES[bench.args.protocol].shares_table_runs and epochs == selected
    if settings or not table_run or bench.args.quick:
        cfg.merge_from_dict({"forget.train_cfg.max_epochs": epochs,
                             "run_suffix": f"_cost_e{epochs}"})
    record = bench.unlearn(cfg)
    return dict(record, method=method, epochs=epochs,
                lr=cfg.forget.optim_wrapper.optimizer.lr)


def main(argv=None):
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    args = parse_args(argv)
    protocol = tuning.PROTOCOLS[args.protocol]
    bench = protocol.bench(args)
    if args.quick:  # the tiny original and a small search first (cached runs on a rerun)
        tuning.main(QUICK_TUNING)
    elif not checkpoint_path(bench.config("delete"), "original").is_file():
        sys.exit(f"the original model is missing: {protocol.train_hint}")
    searched = tuning.read_tuning(args.tuning) if args.tuning.is_file() else []
    methods = args.methods
    if methods is None:
        if not searched:
            sys.exit(f"{args.tuning} is missing: run benchmarks/tuning.py first (or name the "
                     "methods with --methods)")
        methods = ["delete", *best_baselines(selected_scores(searched),
                                             tuned=tuned_methods(
                                                 args.tuned_config or ROOT / protocol.config))]
    print(f"[cost] methods {methods}, epochs {args.epochs}", flush=True)
    records = [run(bench, m, e, tuned_overrides(args.tuned_config, m))
               for m in methods for e in args.epochs]
    retrain = bench.reference("retrain", (args.forget,))
    rows = curve_rows(records, retrain.get("wall_time_s"))
    classes = " and ".join(map(str, dict.fromkeys(r["class"] for r in searched))) or \
        " and ".join(map(str, protocol.validation))
    option = "" if args.protocol == "cls_cifar10" else f" --protocol {args.protocol}"
    note = (f"Every method at its selected lr and batch-norm mode (`{protocol.config}` as "
            f"composed: configs/_base_/tuned/, chosen by benchmarks/tuning.py on {classes}) for "
            f"{', '.join(map(str, args.epochs))} epochs; DELETE and the two training-based "
            "forget-set baselines with the best selected mean H-Mean (tuning.csv). Time = "
            "unlearning wall time (training only); retraining = the retrain model's training "
            f"time recorded by tools/train.py. Command: `python benchmarks/cost_curve.py"
            f"{option}{' --quick' if args.quick else ''}`. {bench.machine(records)}.")
    missing = [r["missing"] for r in [*records, retrain] if r.get("missing")]
    if missing:
        note += "\n\nMissing: " + "; ".join(missing)
    args.out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(args.out / "cost_curve.md", markdown(rows, retrain, note, args.forget))
    plot(rows, retrain, args.out / "cost_curve.png")
    print(f"[cost] wrote {args.out / 'cost_curve.md'}, {args.out / 'cost_curve.png'} "
          f"({device_name()})")


if __name__ == "__main__":
    main()
