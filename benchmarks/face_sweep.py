"""DELETE's face-specific knobs (temperature T, D_f augmentation) beside lr and epochs, on the
validation identities, not on the reported ones.

Every method's lr x batch-norm mode x budget search on the same identities is the tuning
protocol's (``python benchmarks/tuning.py --protocol face_yaleb``, which writes the settings the
protocol config inherits); this sweep adds the knobs only DELETE has, and takes its config and
identities from that protocol (ids 5 and 9 of the 10-identity group; the benchmark reports ids
0, 3 and 7). DELETE runs once per (pipeline, lr, epochs, T) of the grid; the table gives
Acc_ft, Acc_rt and H-Mean (against the original model, so no retrain model is needed) per
identity and their mean. Resumable (results are cached under work_dirs/<experiment>/results).

    TASKFORGET_DATA=/work/data OMP_NUM_THREADS=1 python benchmarks/face_sweep.py
"""
import argparse
import itertools
import sys
from pathlib import Path

import numpy as np
from mmengine.config import Config

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
from face_yaleb import cached, method_config  # noqa: E402
from tuning import PROTOCOLS  # noqa: E402

from taskforget.checkpoint import write_text_atomic  # noqa: E402

FACE = PROTOCOLS["face_yaleb"]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--config", default=FACE.config)
    p.add_argument("--val-ids", type=int, nargs="+", default=list(FACE.validation))
    p.add_argument("--lrs", type=float, nargs="+", default=[1e-4, 3e-4, 1e-3])
    p.add_argument("--epochs", type=int, nargs="+", default=[5, 10, 20])
    p.add_argument("--temperatures", type=float, nargs="+", default=[1.0, 4.0])
    p.add_argument("--pipelines", nargs="+", default=["train"], choices=["train", "forget"],
                   help="D_f augmentation: the config's train_pipeline (the paper's) or its "
                        "stronger forget_pipeline")
    p.add_argument("--out", default="docs/results/face/yaleb_sweep.md")
    args = p.parse_args()
    base = Config.fromfile(str(ROOT.parent / args.config))
    rows = []
    for pipe, lr, epochs, t in itertools.product(args.pipelines, args.lrs, args.epochs,
                                                 args.temperatures):
        per_id = []
        for fid in args.val_ids:
            cfg = method_config(base, "DELETE")
            tag = f"_lr{lr:g}_ep{epochs}_T{t:g}" + ("" if pipe == "train" else f"_{pipe}aug")
            cfg.merge_from_dict({"forget_classes": [fid], "run_suffix": tag,
                                 "forget_dataloader.dataset.pipeline": base[f"{pipe}_pipeline"],
                                 "forget.optim_wrapper.optimizer.lr": lr,
                                 "forget.train_cfg.max_epochs": epochs,
                                 "forget.train_cfg.val_interval": 10_000,
                                 "model.temperature": t})
            per_id.append(cached(cfg, "forget", f"sweep_id{fid}{tag}")["metrics"])
        cells = [f"{m[k]:.2f}" for m in per_id for k in ("Acc_ft", "Acc_rt", "H-Mean")]
        mean_h = float(np.mean([m["H-Mean"] for m in per_id]))
        rows.append((mean_h, f"| {pipe} | {lr:g} | {epochs} | {t:g} | " + " | ".join(cells)
                     + f" | {mean_h:.2f} |"))
    head = " | ".join(f"id{i} {k}" for i in args.val_ids for k in ("Acc_ft", "Acc_rt", "H-Mean"))
    best = max(rows)[1]
    text = (f"## DELETE schedule sweep on validation identities {args.val_ids} "
            f"({args.config})\n\n| D_f pipeline | lr | epochs | T | {head} | mean H-Mean |\n|"
            + "---|" * (5 + 3 * len(args.val_ids)) + "\n"
            + "\n".join(r for _, r in rows) + f"\n\nBest mean H-Mean: {best}\n\n"
            f"Command: `python benchmarks/face_sweep.py {' '.join(sys.argv[1:])}` (SGD "
            "momentum 0.9, batch 16, one seed; batch norm "
            f"{'frozen' if method_config(base, 'DELETE').model.norm_eval else 'in train mode'}: "
            "DELETE's selected mode, else the protocol's default).\n")
    out = ROOT.parent / args.out
    write_text_atomic(out, text)
    print(text)


if __name__ == "__main__":
    main()
