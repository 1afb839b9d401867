"""Overlay figure of segmentation predictions (paper Fig. 6 / S8): image, ground truth and
each checkpoint's prediction, for evaluation images with the forgotten class and training
images without it (CamVid's val images all contain a car).

    python tools/seg_overlay.py configs/seg_camvid_car.py \\
        --checkpoints original=work_dirs/seg_camvid_car/original.pth \\
                      retrain=work_dirs/seg_camvid_car/retrain_car_seed0.pth \\
                      DELETE=work_dirs/seg_camvid_car/delete_car_seed0.pth --out overlay.png
"""
import argparse
from pathlib import Path
from typing import Dict, Optional

import numpy as np
from mmengine.config import Config

from taskforget.checkpoint import load_weights
from taskforget.registry import DATASETS, MODELS
from taskforget.tasks.segmentation.visualize import overlay_figure, predict_map


def pick(dataset, want_forget: bool, count: int, seed: int = 0):
    """``count`` seeded indices of images with (or without) a forgotten class."""
    pool = np.flatnonzero(dataset.has_forget == want_forget)
    return sorted(np.random.default_rng(seed).permutation(pool)[:count].tolist())


def make_overlay(cfg: Config, checkpoints: Dict[str, Optional[str]], out, with_forget: int = 3,
                 without_forget: int = 2, seed: int = 0) -> Path:
    """Render ``checkpoints`` (name -> weights path; None entries skipped) on ``with_forget``
    evaluation images with the forgotten class and ``without_forget`` training images without
    it (seeded) into the PNG ``out``; return its path."""
    eval_cfg = dict(cfg.test_dataloader.dataset, forget_classes=cfg.forget_classes)
    images, labels, inputs, titles = [], [], [], []
    for ds_cfg, want, count in ((eval_cfg, True, with_forget),
                                (dict(eval_cfg, split="train"), False, without_forget)):
        dataset = DATASETS.build(ds_cfg)
        for i in pick(dataset, want, count, seed):
            image, label = dataset.load(i)  # before the pipeline
            images.append(image)
            labels.append(label)
            inputs.append(dataset[i]["inputs"])
            split = "train" if ds_cfg.get("split") == "train" else "eval"
            titles.append(f"{split} #{i}, {'with' if want else 'no'} "
                          f"{'/'.join(str(c) for c in cfg.forget_classes)}")
    predictions = {}
    for name, path in ((n, p) for n, p in checkpoints.items() if p):
        network = MODELS.build(cfg.model.network)
        load_weights(network, path)
        predictions[name] = [predict_map(network, x) for x in inputs]
    overlay_figure(images, labels, predictions, cfg.class_names, out, row_titles=titles)
    return Path(out)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("config")
    p.add_argument("--checkpoints", nargs="+", required=True, help="NAME=PATH pairs")
    p.add_argument("--out", default="seg_overlay.png")
    p.add_argument("--with-forget", type=int, default=3)
    p.add_argument("--without-forget", type=int, default=2)
    args = p.parse_args()
    pairs = dict(item.split("=", 1) for item in args.checkpoints)
    make_overlay(Config.fromfile(args.config), pairs, args.out, args.with_forget,
                 args.without_forget)
    print(f"figure: {args.out}")


if __name__ == "__main__":
    main()
