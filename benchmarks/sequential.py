"""Forget requests over time, on the CPU protocol: `cat`, then `dog` from the cat-unlearned
model, against {cat, dog} at once and against the retrain model without both; then five
requests in a row (cat, dog, ship, truck, bird): does Acc_rt drift?

Each later request distils the current model (its parent) with every class forgotten so far
masked, on its own class's images; metrics and MIA use every class forgotten so far; H-Mean
compares with the first original. Every stage is cached by its settings (resumable).

    python benchmarks/sequential.py [--config configs/cls_cifar10_resnet20_cpu.py]
        [--work-dir work_dirs/cls_cifar10_resnet20_cpu] [--method delete]

Writes ``<out>/sequential.md`` and ``<out>/sequential_drift.png``.
"""
import argparse
import os
import platform
import sys
import time
from pathlib import Path

from mmengine.config import Config

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from taskforget.apis import checkpoint_path, device_name  # noqa: E402
from taskforget.checkpoint import save_figure_atomic, write_text_atomic  # noqa: E402
from taskforget.cli import run_or_load  # noqa: E402
from taskforget.request import ForgetRequest  # noqa: E402

CHAIN = ["cat", "dog", "ship", "truck", "bird"]
COLUMNS = ("Acc_f", "Acc_r", "Acc_ft", "Acc_rt", "H-Mean", "MIA")
# --quick: a tiny model on a slice of the data, to check the code path (tests), not results.
QUICK = {
    "network": dict(type="small_cnn", num_classes=10, width=8),
    "model.network": dict(type="small_cnn", num_classes=10, width=8),
    **{f"{loader}.dataset.{key}": value
       for loader in ("train_dataloader", "forget_dataloader", "val_dataloader",
                      "test_dataloader")
       for key, value in (("max_per_class", 12), ("preload", False))},
    "pretrain.train_cfg.max_epochs": 1, "pretrain.train_cfg.val_interval": 100,
    "pretrain.param_scheduler": [dict(type="OneCycleLR", eta_max=0.05, begin=0, end=1,
                                      by_epoch=True, convert_to_iter_based=True)],
    "forget.train_cfg.max_epochs": 1, "default_hooks.logger.interval": 1000,
    "log_level": "WARNING",
}


def time_of(record) -> str:
    return "-" if record.get("wall_time_s") is None else f"{record['wall_time_s']:.1f}"


def row(name, record, extra=()):
    m = record["metrics"]
    cells = ["-" if m.get(c) is None else f"{m[c]:.2f}" for c in COLUMNS]
    return "| " + " | ".join([name, *cells, *extra]) + " |"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default=str(ROOT / "configs" / "cls_cifar10_resnet20_cpu.py"))
    p.add_argument("--work-dir", help="work root (default: the protocol's)")
    p.add_argument("--method", default="delete")
    p.add_argument("--out", default=str(ROOT / "docs" / "results" / "sequential"))
    p.add_argument("--quick", action="store_true", help="tiny model and data: checks the code")
    args = p.parse_args(argv)
    start = time.time()
    base = Config.fromfile(args.config)
    if args.work_dir:
        base.work_root = os.path.abspath(args.work_dir)
    if args.quick:
        base.merge_from_dict(QUICK)
    base.merge_from_dict({"forget.train_cfg.val_interval": 10_000})  # evaluate once, at the end

    def request(classes, parent=None):
        return ForgetRequest(base, classes, args.method, parent).config()

    original = run_or_load(request(["cat"]), "original")
    steps, parent = [], None
    for cls in CHAIN:
        cfg = request([cls], parent)
        steps.append((cls, run_or_load(cfg, "forget")))
        parent = str(checkpoint_path(cfg, "forget"))
    both = run_or_load(request(["cat", "dog"]), "forget")
    retrain_cfg = request(["cat", "dog"])
    retrain = run_or_load(retrain_cfg, "retrain")
    retrain_eval = run_or_load(retrain_cfg, "test", name="retrain_cat-dog_eval",
                               checkpoint=str(checkpoint_path(retrain_cfg, "retrain")))

    head = "| model | " + " | ".join(COLUMNS) + " | time (s) |\n|" + "---|" * (len(COLUMNS) + 2)
    pair = [head,
            row("retrain without {cat, dog}", retrain_eval, [time_of(retrain)]),
            row("cat, then dog (two requests)", steps[1][1], [time_of(steps[1][1])]),
            row("{cat, dog} at once", both, [time_of(both)]),
            row("after the first request (cat only; scored on cat)", steps[0][1],
                [time_of(steps[0][1])])]
    drift = ["| request | forgotten so far | Acc_ft ↓ | Acc_rt ↑ | original Acc_rt (same "
             "classes) | Acc_rt - original | H-Mean | MIA |", "|---|---|---|---|---|---|---|---|"]
    points = []
    for k, (cls, record) in enumerate(steps, 1):
        m = record["metrics"]
        gap = m["Acc_rt"] - m["original/Acc_rt"]
        points.append((k, m["Acc_rt"], m["original/Acc_rt"]))
        drift.append(f"| {k}: {cls} | {', '.join(CHAIN[:k])} | {m['Acc_ft']:.2f} | "
                     f"{m['Acc_rt']:.2f} | {m['original/Acc_rt']:.2f} | {gap:+.2f} | "
                     f"{m['H-Mean']:.2f} | {m['MIA']:.2f} |")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    figure = out / "sequential_drift.png"
    _plot(points, figure)
    text = "\n".join([
        f"# Forget requests over time ({Path(args.config).name}, method {args.method})", "",
        f"Original model: Acc_ft {original['metrics'].get('Acc_ft', float('nan')):.2f} on cat, "
        f"Acc_rt {original['metrics'].get('Acc_rt', float('nan')):.2f}. Every row is scored "
        "on every class forgotten so far (MIA: DELETE's convention, lower is better); H-Mean "
        "against the first original. Later requests see only their own class's images.", "",
        "## Two requests against one", "", *pair, "",
        "## Five requests in a row: does Acc_rt drift?", "", *drift, "",
        f"![Acc_rt after each request]({figure.name})", "",
        f"Command: `python benchmarks/sequential.py {' '.join(argv or sys.argv[1:])}`; "
        f"{platform.machine()}, {device_name()}, {os.cpu_count()} CPU cores; wall time of this "
        f"invocation {time.time() - start:.0f} s (cached stages are read back)."
        + (" QUICK mode: tiny model and data, checks the code, not the method." if args.quick
           else ""), ""])
    write_text_atomic(out / "sequential.md", text)
    print(text)
    return dict(steps=steps, both=both, retrain=retrain_eval)


def _plot(points, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ks = [p[0] for p in points]
    ax.plot(ks, [p[1] for p in points], "o-", label="after the request")
    ax.plot(ks, [p[2] for p in points], "s--", label="original, same remaining classes")
    ax.set_xticks(ks, [f"{k}: {CHAIN[k - 1]}" for k in ks])
    ax.set_xlabel("request")
    ax.set_ylabel("Acc_rt (%)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure_atomic(fig, path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
