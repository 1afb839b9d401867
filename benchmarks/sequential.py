"""Forget requests over time, on the CPU protocol: `cat`, then `dog` from the cat-unlearned
model, against {cat, dog} at once and against the retrain model without both; then five
requests in a row (cat, dog, ship, truck, bird): does Acc_rt drift? For the two-request and
the joint model, where the remaining test images that the original classifies right and the
model does not went (true class -> predicted class).

Each later request distils the current model (its parent) with every class forgotten so far
masked, on its own class's images; metrics and MIA use every class forgotten so far; H-Mean
compares with the first original. Every stage is cached by its settings (resumable).

    python benchmarks/sequential.py [--config configs/cls_cifar10_resnet20_cpu.py]
        [--work-dir work_dirs/cls_cifar10_resnet20_cpu] [--method delete] [--requests 5]
        [--no-retrain]

``--requests 2 --no-retrain``: the two requests against one and where the lost images went,
without the retrain model and the rest of the chain (on the CPU protocol at DELETE's tuned
setting about 35 minutes of one core instead of about 2.5 hours).

Writes ``<out>/sequential.md`` and ``<out>/sequential_drift.png``.
"""
import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
from mmengine.config import Config

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from taskforget.apis import checkpoint_path, device_name  # noqa: E402
from taskforget.checkpoint import load_weights, save_figure_atomic, write_text_atomic  # noqa
from taskforget.cli import run_or_load  # noqa: E402
from taskforget.commands.audit import audit_datasets  # noqa: E402
from taskforget.datasets.user_data import as_batches  # noqa: E402
from taskforget.evaluation.audit import loader_outputs  # noqa: E402
from taskforget.registry import MODELS  # noqa: E402
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


def lost_images(labels: np.ndarray, reference: np.ndarray, model: np.ndarray, remaining,
                num_classes: int) -> np.ndarray:
    """(K, K) counts of the remaining-class images that the reference model classifies right
    and ``model`` does not: row = true class, column = the class ``model`` predicts.

    Args:
        labels, reference, model: (N,) true labels and the two models' predicted classes.
        remaining: ids of the remaining classes.
        num_classes: K.
    """
    labels, reference, model = map(np.asarray, (labels, reference, model))
    lost = np.isin(labels, list(remaining)) & (reference == labels) & (model != labels)
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (labels[lost], model[lost]), 1)
    return counts


def predict_test_set(cfg: Config, checkpoints: dict) -> tuple:
    """((N,) test labels, {name: (N,) predicted classes}) of each checkpoint on the config's
    test images (test-time transforms)."""
    test = as_batches(audit_datasets(cfg)[1], "test", is_train=False, batch_size=256)
    predictions, labels = {}, None
    for name, path in checkpoints.items():
        out = loader_outputs(load_weights(MODELS.build(cfg.model.network.to_dict()), path), test)
        predictions[name] = out["logits"].argmax(1).numpy()
        labels = out["labels"].numpy()
    return labels, predictions


def where_lost(labels, predictions: dict, class_names, forgotten, reference="original",
               top: int = 3) -> list:
    """Markdown lines: per model and remaining class, the original's and the model's test
    accuracy, the images lost (right under ``reference``, wrong now) and where most went."""
    ids = [i for i, n in enumerate(class_names) if n not in forgotten]
    lines = ["| model | true class | Acc original | Acc model | lost | lost to forgotten "
             "classes | most lost predicted as |", "|---|---|---|---|---|---|---|"]
    for name, pred in predictions.items():
        if name == reference:
            continue
        counts = lost_images(labels, predictions[reference], pred, ids, len(class_names))
        for c in ids:
            mine = labels == c
            order = [j for j in np.argsort(-counts[c], kind="stable")[:top] if counts[c, j]]
            to_forgotten = sum(counts[c, j] for j, n in enumerate(class_names) if n in forgotten)
            lines.append(
                f"| {name} | {class_names[c]} | "
                f"{100 * (predictions[reference][mine] == c).mean():.1f} | "
                f"{100 * (pred[mine] == c).mean():.1f} | {counts[c].sum()} | {to_forgotten} | "
                + ", ".join(f"{class_names[j]} {counts[c, j]}" for j in order) + " |")
    return lines


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default=str(ROOT / "configs" / "cls_cifar10_resnet20_cpu.py"))
    p.add_argument("--work-dir", help="work root (default: the protocol's)")
    p.add_argument("--method", default="delete")
    p.add_argument("--out", help="report folder (default: docs/results/sequential)")
    p.add_argument("--quick", action="store_true", help="tiny model and data: checks the code")
    p.add_argument("--requests", type=int, default=len(CHAIN), choices=range(2, len(CHAIN) + 1),
                   help=f"requests in the chain (the first of {', '.join(CHAIN)})")
    p.add_argument("--no-retrain", action="store_true",
                   help="leave out the retrain model without {cat, dog} (about 1 h to train)")
    args = p.parse_args(argv)
    start = time.time()
    base = Config.fromfile(args.config)
    if args.quick:  # never next to (or over) the protocol's models and results
        args.work_dir = args.work_dir or "work_dirs/sequential_quick"
        args.out = args.out or "work_dirs/sequential_quick/report"
    args.out = args.out or str(ROOT / "docs" / "results" / "sequential")
    if args.work_dir:
        base.work_root = os.path.abspath(args.work_dir)
    if args.quick:
        base.merge_from_dict(QUICK)
    base.merge_from_dict({"forget.train_cfg.val_interval": 10_000})  # evaluate once, at the end

    def request(classes, parent=None):
        return ForgetRequest(base, classes, args.method, parent).config()

    # the original as tools/train.py makes it (one run for every request:
    # apis.protocol_request)
    run_or_load(base, "original")
    steps, parent, checkpoints = [], None, {}
    for cls in CHAIN[:args.requests]:
        cfg = request([cls], parent)
        steps.append((cls, run_or_load(cfg, "forget")))
        parent = str(checkpoint_path(cfg, "forget"))
        if len(steps) == 2:
            checkpoints["cat, then dog"] = parent
    both_cfg = request(["cat", "dog"])
    both = run_or_load(both_cfg, "forget")
    checkpoints = {"original": str(checkpoint_path(base, "original")), **checkpoints,
                   "{cat, dog} at once": str(checkpoint_path(both_cfg, "forget"))}
    labels, predictions = predict_test_set(both_cfg, checkpoints)
    lost = where_lost(labels, predictions, list(both_cfg.class_names), CHAIN[:2])

    head = "| model | " + " | ".join(COLUMNS) + " | time (s) |\n|" + "---|" * (len(COLUMNS) + 2)
    pair = [head]
    if not args.no_retrain:
        retrain_cfg = request(["cat", "dog"])
        retrain = run_or_load(retrain_cfg, "retrain")
        retrain_eval = run_or_load(retrain_cfg, "test", name="retrain_cat-dog_eval",
                                   checkpoint=str(checkpoint_path(retrain_cfg, "retrain")))
        pair.append(row("retrain without {cat, dog}", retrain_eval, [time_of(retrain)]))
    pair += [row("cat, then dog (two requests)", steps[1][1], [time_of(steps[1][1])]),
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
    first = steps[0][1]["metrics"]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    figure = out / "sequential_drift.png"
    _plot(points, figure)
    text = "\n".join([
        f"# Forget requests over time ({Path(args.config).name}, method {args.method})", "",
        f"Original model: Acc_ft {first['original/Acc_ft']:.2f} on cat, "
        f"Acc_rt {first['original/Acc_rt']:.2f}. Every row is scored "
        "on every class forgotten so far (MIA: DELETE's convention, lower is better); H-Mean "
        "against the first original. Later requests see only their own class's images.", "",
        "## Two requests against one", "", *pair, "",
        "## Where the lost remaining images went", "",
        "Test images of the remaining classes that the original classifies right and the "
        "model does not (lost), by true class; 'lost to forgotten classes': predicted as cat "
        "or dog.", "", *lost, "",
        f"## {len(steps)} requests in a row: does Acc_rt drift?", "", *drift, "",
        f"![Acc_rt after each request]({figure.name})", "",
        f"Command: `python benchmarks/sequential.py {' '.join(argv or sys.argv[1:])}`; "
        f"{platform.machine()}, {device_name()}, {os.cpu_count()} CPU cores; wall time of this "
        f"invocation {time.time() - start:.0f} s (cached stages are read back)."
        + (" QUICK mode: tiny model and data, checks the code, not the method." if args.quick
           else ""), ""])
    write_text_atomic(out / "sequential.md", text)
    print(text)
    return dict(steps=steps, both=both, lost=lost)


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
