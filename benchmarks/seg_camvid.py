"""Segmentation benchmark on real CamVid: forget 'car' from DeepLabV3+.

Rows: original, retrain (car pixels ignored while training), DELETE with the class masked at
every pixel and only at car pixels, Negative Gradient and Random Label on car pixels. Columns:
IoU_ft, IoU_rt, mIoU, pixel accuracy, H-Mean analogue, wall time of training/unlearning. Also a
per-class IoU table and what the car pixels are predicted as after forgetting, an overlay
figure and a CSV. Resumable: trained models and finished runs (weights + results JSON under
work_dirs/<experiment>/) are reused; interrupted trainings resume from their last checkpoint.
Then every method's checkpoint is audited beside the retrain and original models (IoU and the
car row of the pixel confusion matrix; taskforget/evaluation/audit.py): audit.md (one verdict
per method) and a report per method under audit/<run>/, each audit cached by the weights.

    OMP_NUM_THREADS=1 python benchmarks/seg_camvid.py [--methods delete ng ...] \\
        [--cfg-options forget.train_cfg.max_epochs=2]
    OMP_NUM_THREADS=1 python benchmarks/seg_camvid.py --audit-only  # the checkpoints on disk
"""
import argparse
import math
import os
import sys
from pathlib import Path

from mmengine.config import Config, DictAction

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from taskforget.apis import checkpoint_path, work_root  # noqa: E402
from taskforget.checkpoint import file_digest, write_csv_atomic, write_text_atomic  # noqa: E402
from taskforget.cli import run_or_load  # noqa: E402
from taskforget.commands.audit import audit_checkpoint, audit_datasets  # noqa: E402
from taskforget.commands.seg_overlay import make_overlay  # noqa: E402
from taskforget.evaluation.audit import Tolerances  # noqa: E402
from taskforget.evaluation.audit_report import write_report  # noqa: E402
from taskforget.request import compose_method, tuned_label  # noqa: E402

METHODS = {  # key: (row name, protocol config, method fragment)
    "delete": ("DELETE (mask: all pixels)", "configs/seg_camvid_car.py", "delete"),
    "delete_labelled": ("DELETE (mask: car pixels)", "configs/seg_camvid_car_labelled.py",
                        "delete"),
    "negative_gradient": ("Negative Gradient", "configs/seg_camvid_car.py", "negative_gradient"),
    "random_label": ("Random Label", "configs/seg_camvid_car.py", "random_label"),
}
MAIN = ("IoU_ft", "IoU_rt", "mIoU", "aAcc", "H-Mean")
AUDIT_BATCH = 8  # evaluation images per forward pass in the audit (180x240, CPU memory)


def load(path: str, method: str, options) -> Config:
    cfg = compose_method(Config.fromfile(str(ROOT / path)), method)
    if options:
        cfg.merge_from_dict(options)
    return cfg


def cached_run(cfg: Config, stage: str, name: str, **kwargs) -> dict:
    """The stage's result, reused when a run with these settings is on disk, else run
    (the training stages resume their own verified checkpoints)."""
    return run_or_load(cfg, stage, name=name, resume=stage in ("original", "retrain"), **kwargs)


def fmt(v) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.2f}"


def table(head, rows) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    p.add_argument("--out", default=str(ROOT / "docs/results/segmentation"))
    p.add_argument("--cfg-options", nargs="+", action=DictAction)
    p.add_argument("--skip-figure", action="store_true")
    p.add_argument("--audit-only", action="store_true",
                   help="only audit the checkpoints already on disk (trains nothing)")
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if not args.audit_only:
        benchmark(args, out)
    audit_section(args, out)


def audit_section(args, out: Path) -> Path:
    """Audit each method's checkpoint on disk beside the retrain and original models: the
    segmentation audit (IoU, the car row of the pixel confusion matrix, on the training and
    val images at full size), cached in ``results/<run>_audit.json`` by the three weights'
    SHA-256. Writes ``audit.md`` (a verdict per method) and ``audit/<run>/`` reports."""
    base = load(*METHODS["delete"][1:], args.cfg_options)
    refs = {stage: checkpoint_path(base, stage) for stage in ("retrain", "original")}
    missing = [str(p) for p in refs.values() if not p.is_file()]
    data, rows = {}, []

    def sets():
        if not data:
            data["sets"] = audit_datasets(base)
        return data["sets"]

    for key in args.methods if not missing else []:
        cfg = load(*METHODS[key][1:], args.cfg_options)
        weights = checkpoint_path(cfg, "forget")
        if not weights.is_file():
            missing.append(str(weights))
            continue
        identity = {n: file_digest(p) for n, p in dict(refs, model=weights).items()}
        record = audit_checkpoint(cfg, weights, work_root(cfg) / "results" /
                                  f"{weights.stem}_audit.json", identity, sets,
                                  retrain=str(refs["retrain"]), original=str(refs["original"]),
                                  batch_size=AUDIT_BATCH)
        report = out / "audit" / weights.stem
        overlays = make_overlay(cfg, {"original": refs["original"], "retrain": refs["retrain"],
                                      METHODS[key][0]: weights}, report / "overlays.png")
        write_report(record, report, model_name=METHODS[key][0], overlays=overlays,
                     embed_figures=False)
        m, r = record["models"]["model"]["metrics"], record["models"]["retrain"]["metrics"]
        row_distance = next(c["model"] for c in record["verdict"]["criteria"]
                            if "confusion row" in c["criterion"])
        rows.append([METHODS[key][0], "yes" if record["verdict"]["indistinguishable"] else "no",
                     fmt(m.get("IoU_ft")), fmt(r.get("IoU_ft")), fmt(m.get("mIoU")),
                     fmt(row_distance), f"[audit/{weights.stem}](audit/{weights.stem}/audit.md)",
                     f"{record.get('audit_time_s', 0):.0f}"])
    text = ("## CamVid, forget `car`: audit beside the retrain model\n\n"
            + table(["model", "indistinguishable from retrain", "IoU_ft", "retrain IoU_ft",
                     "mIoU", "car confusion row vs retrain (TV, points)", "report",
                     "audit time (s)"], rows)
            + "\nThe segmentation audit (taskforget/evaluation/audit.py): IoU on the val images "
            "and where the car pixels go (the car row of the pixel confusion matrix), compared "
            "with the retrain model's; membership inference, relearn and probes are "
            "classification-only. Indistinguishable = every criterion within its tolerance "
            f"({Tolerances().describe('segmentation')}). Reports: audit/<run>/audit.md.\n")
    if missing:
        text += "\nNot audited (no checkpoint): " + "; ".join(missing) + "\n"
    write_text_atomic(out / "audit.md", text)
    print(text)
    return out / "audit.md"


def benchmark(args, out: Path) -> None:
    """The tables, the CSV and the overlay figure (every run cached)."""
    base = load(*METHODS["delete"][1:], args.cfg_options)
    original = cached_run(base, "original", "original")
    retrain = cached_run(base, "retrain", checkpoint_path(base, "retrain").stem)
    retrain_eval = cached_run(base, "test", "retrain_eval",
                              checkpoint=str(checkpoint_path(base, "retrain")))
    runs = {}
    for key in args.methods:
        cfg = load(*METHODS[key][1:], args.cfg_options)
        try:
            runs[key] = (cfg, cached_run(cfg, "forget", checkpoint_path(cfg, "forget").stem))
        except FloatingPointError as exc:  # e.g. Negative Gradient diverging: report, go on
            print(f"[seg_camvid] {key} diverged: {exc}")
            runs[key] = (cfg, dict(metrics={}, wall_time_s=None, diverged=True))

    first = next(iter(runs.values()))[1]["metrics"] if runs else retrain_eval["metrics"]
    original_metrics = {k.split("/", 1)[1]: v for k, v in first.items()
                        if k.startswith("original/")}
    rows = [("original", original_metrics, original["wall_time_s"]),
            ("retrain", retrain_eval["metrics"], retrain["wall_time_s"])]
    rows += [(tuned_label(METHODS[k][0], cfg) + (" (diverged)" if r.get("diverged") else ""),
              r["metrics"], r["wall_time_s"]) for k, (cfg, r) in runs.items()]

    head = ["model", *MAIN, "wall time (s)"]
    main_rows = [[n, *[fmt(m.get(c)) for c in MAIN], fmt(t)] for n, m, t in rows]
    names = base.class_names
    per_class = [[c, *[fmt(m.get(f"IoU/{c}")) for _, m, _ in rows]] for c in names]
    forget_as = [[c, *[fmt(m.get(f"forget_as/{c}")) for _, m, _ in rows]] for c in names]
    models = [n for n, _, _ in rows]
    write_csv_atomic(out / "camvid_car.csv", [
        ["model", *MAIN, "wall_time_s", *[f"IoU/{c}" for c in names],
         *[f"forget_as/{c}" for c in names]],
        *[[n, *[m.get(c) for c in MAIN], t, *[m.get(f"IoU/{c}") for c in names],
           *[m.get(f"forget_as/{c}") for c in names]] for n, m, t in rows]])
    report = [
        "## CamVid, forget `car` (val split, 101 images at 180x240)\n",
        table(head, main_rows),
        "\n### Per-class IoU (%)\n", table(["class", *models], per_class),
        "\n### What the val images' car pixels are predicted as (% of car pixels)\n",
        table(["predicted as", *models], forget_as),
    ]
    if not args.skip_figure:
        checkpoints = {"original": checkpoint_path(base, "original"),
                       "retrain": checkpoint_path(base, "retrain")}
        checkpoints.update({METHODS[k][0].replace(" (mask: ", "\n("):
                            checkpoint_path(cfg, "forget") for k, (cfg, r) in runs.items()
                            if k.startswith("delete") and not r.get("diverged")})
        make_overlay(base, {k: str(v) for k, v in checkpoints.items()},
                     str(out / "camvid_car_overlay.png"))
        report.append("\n![overlays](camvid_car_overlay.png)\n")
    write_text_atomic(out / "camvid_car.md", "".join(report))
    print("".join(report))
    print(f"written: {out}/camvid_car.md, camvid_car.csv" +
          ("" if args.skip_figure else ", camvid_car_overlay.png") +
          f"  (threads: {os.environ.get('OMP_NUM_THREADS', 'default')})")


if __name__ == "__main__":
    main()
