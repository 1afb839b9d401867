"""Per-example forgetting quality (the NeurIPS 2023 unlearning challenge's score) of unlearning
methods on the demo CNN, at small scale: N retrained and N unlearned models.

    python benchmarks/forgetting_quality.py                          # DELETE, N = 8 + 8
    python benchmarks/forgetting_quality.py --methods delete random_label --models 8
    python benchmarks/forgetting_quality.py --methods delete delete:model.alpha=1e-4  # a variant
    python benchmarks/forgetting_quality.py --quick                  # tiny check (~1 min)

What runs, each stage through ``taskforget.cli.run_or_load`` (read back when a run with the same
settings and verified weights is on disk, so an interrupted run resumes): one original model
(``configs/demo_cifar10_cnn.py``, its seed 0); N retrain models (seeds 0..N-1); per method N
unlearning runs from that one original (seeds 0..N-1: batch order and the method's randomness,
as the challenge ran the unlearning N times from one original; a variant
``NAME:KEY=VALUE[,KEY=VALUE]`` is the method with those config options, its runs named with a
suffix made of them). Then the logit-scaled confidence of E forget-class training images (a
seeded subset of D_f, test-time transforms) under every model; the retrain models' confidences
are cached in ``<work>/confidences/retrain_<key>.npz``, the key a hash of the retrain runs'
settings hashes and the images' settings, so a changed retrain setting recomputes them. Scores:
:func:`taskforget.evaluation.privacy.forgetting_quality` (F), its permutation null at the same N
(what a perfect unlearner scores with these samples), and the challenge's final score F * (RA_U
/ RA_R) * (TA_U / TA_R) with RA = Acc_r (remaining-class training images) and TA = Acc_rt
(remaining-class test images), means over the N models. Writes
``<out>/forgetting_quality.{md,json}``.

Resolution: with N models per side the largest finite epsilon is log(N - 1) (1.95 at N = 8)
and the score's bins stop at ceil(log(N - 1)) (2.0: four bins worth 1, 1/2, 1/4, 1/8); read F
beside the null score (see taskforget/evaluation/privacy.py for the estimator's bias).

Measured cost (2-core AVX2-only CPU, fp32, one thread, 2026-12-05; the other core busy; see
docs/results/forgetting_quality/README.md): the original about 23 min, each retrain model 10-12
min, each DELETE run about 1 min, each stage's evaluation about 1.5 min: N = 6 took 1 h 50
min, nearly all retraining (shared by every method, and cached); each further method adds N
unlearning runs (N = 8: about 20 min). ``--quick`` (width-8 CNN, one epoch, N = 3, on a copy
of 12 training / 6 test images per class in ``<work>/cifar10_tiny``) takes about 15 s.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import torch
from mmengine.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent))

from taskforget.apis import build_stage_config, checkpoint_path, work_root  # noqa: E402
from taskforget.checkpoint import (  # noqa: E402
    load_weights,
    savez_atomic,
    write_json_atomic,
    write_text_atomic,
)
from taskforget.cli import parse_cfg_options, run_or_load  # noqa: E402
from taskforget.datasets.data_root import project_relative, resolve_data_root  # noqa: E402
from taskforget.errors import ConfigError  # noqa: E402
from taskforget.evaluation.privacy import (  # noqa: E402
    EPSILON_CAP,
    final_score,
    forgetting_quality,
    logit_scaled_confidence,
    null_score,
)
from taskforget.registry import DATASETS, MODELS  # noqa: E402
from taskforget.request import compose_method  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CONFIG = "configs/demo_cifar10_cnn.py"
QUICK_IMAGES = dict(train=12, test=6)  # per class, copied into <work>/cifar10_tiny
QUICK = {  # a width-8 CNN, one epoch on the tiny copy: seconds per stage
    "network.width": 8, "model.network.width": 8,
    **{f"{loader}.dataset.{key}": value
       for loader, per_class in (("train_dataloader", 12), ("forget_dataloader", 12),
                                 ("val_dataloader", 6), ("test_dataloader", 6))
       for key, value in (("max_per_class", per_class), ("preload", False))},
    "pretrain.train_cfg.max_epochs": 1, "pretrain.train_cfg.val_interval": 100,
    "pretrain.param_scheduler": [dict(type="OneCycleLR", eta_max=0.05, begin=0, end=1,
                                      by_epoch=True, convert_to_iter_based=True)],
    "forget.train_cfg.max_epochs": 1, "default_hooks.logger.interval": 1000,
    "log_level": "WARNING",
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--config", default=CONFIG)
    p.add_argument("--methods", nargs="+", default=["delete"],
                   help="method fragments (configs/_base_/methods/NAME.py), each optionally "
                        "with config options: NAME:KEY=VALUE[,KEY=VALUE]")
    p.add_argument("--models", type=int, help="N models per side (default 8; --quick 3)")
    p.add_argument("--examples", type=int,
                   help="forget training images scored (default 500; --quick 6)")
    p.add_argument("--quick", action="store_true", help="tiny end-to-end run (checks the code)")
    p.add_argument("--work-dir", help="work root (default work_dirs/forgetting_quality[_quick])")
    p.add_argument("--out", help="report folder (default <work root>/report)")
    args = p.parse_args(argv)
    args.models = args.models or (3 if args.quick else 8)
    args.examples = args.examples or (6 if args.quick else 500)
    default = "work_dirs/forgetting_quality" + ("_quick" if args.quick else "")
    args.work_dir = Path(args.work_dir or ROOT / default).resolve()
    args.out = Path(args.out or args.work_dir / "report")
    return args


def tiny_cifar(dest: Path, source: str = "cifar10") -> Path:
    """A copy of the first few images per class and split of CIFAR-10 (the image-folder
    layout): listing it costs nothing, unlike the 60,000 files of the full copy."""
    if not (dest / "done").is_file():
        root = resolve_data_root(source)
        for split, count in QUICK_IMAGES.items():
            for name in sorted(os.listdir(root / split)):
                target = dest / split / name
                target.mkdir(parents=True, exist_ok=True)
                for image in sorted(os.listdir(root / split / name))[:count]:
                    shutil.copy2(root / split / name / image, target / image)
        (dest / "done").write_text("")
    return dest


def method_variant(spec: str) -> tuple:
    """``"delete:model.alpha=1e-4"`` -> ``("delete", {"model.alpha": 1e-4}, "_model.alpha1e-4")``:
    the method fragment, its config options and the run-name suffix that keeps the variant's
    runs apart from the method's own (``"delete"`` -> ``("delete", {}, "")``)."""
    method, sep, options = spec.partition(":")
    pairs = [o for o in options.split(",") if o]
    if sep and not pairs:
        raise ConfigError(f"--methods {spec!r}: no option after ':'; write NAME:KEY=VALUE")
    suffix = "".join("_" + re.sub(r"[^A-Za-z0-9.+-]", "", o) for o in pairs)
    return method, parse_cfg_options(pairs), suffix


def config(args, seed: int, method: str = "delete") -> Config:
    method, options, suffix = method_variant(method)
    cfg = compose_method(Config.fromfile(str(ROOT / args.config if not Path(
        args.config).is_absolute() else args.config)), method)
    overrides = {"work_root": str(args.work_dir), "randomness.seed": seed,
                 "forget.train_cfg.val_interval": 10_000, **options}
    if suffix:
        overrides["run_suffix"] = suffix
    if args.quick:
        overrides.update(QUICK, data_root=str(tiny_cifar(args.work_dir / "cifar10_tiny")))
    cfg.merge_from_dict(overrides)
    return cfg


def forget_images(cfg: Config, examples: int):
    ds_cfg = dict(cfg.test_dataloader.dataset.to_dict(), split="train", subset="forget",
                  max_per_class=examples, forget_classes=list(cfg.forget_classes))
    return DATASETS.build(ds_cfg)


@torch.no_grad()
def confidences(cfg: Config, weights: Path, dataset) -> np.ndarray:
    """(E,) logit-scaled confidences of the dataset's images under the weights."""
    net = load_weights(MODELS.build(cfg.model.network.to_dict()), weights).eval()
    items = [dataset[i] for i in range(len(dataset))]
    x = torch.stack([it["inputs"] for it in items])
    y = np.array([int(it["data_samples"]["label"]) for it in items])
    logits = torch.cat([net(chunk) for chunk in x.split(256)]).numpy()
    return logit_scaled_confidence(logits, y)


def cached_confidences(args, kind: str, models, base: Config) -> np.ndarray:
    """(N, E) confidences under the weights of ``models`` ((config, stage) pairs), cached in a
    file keyed by the stages' settings hashes and the scored images' settings."""
    images = dict(base.test_dataloader.dataset.to_dict(), max_per_class=args.examples)
    runs = [build_stage_config(cfg, stage).run_hash for cfg, stage in models]
    key = hashlib.sha256(json.dumps(dict(runs=runs, images=images), sort_keys=True,
                                    default=str).encode()).hexdigest()[:16]
    path = args.work_dir / "confidences" / f"{kind}_{key}.npz"
    if path.is_file():
        print(f"[cache] reusing {kind} confidences ({path})")
        return np.load(path)["confs"]
    dataset = forget_images(base, args.examples)
    confs = np.stack([confidences(cfg, checkpoint_path(cfg, stage), dataset)
                      for cfg, stage in models])
    savez_atomic(path, confs=confs)
    return confs


def run(args) -> dict:
    seeds = list(range(args.models))
    base = config(args, 0)
    run_or_load(base, "original")
    retrain = [run_or_load(config(args, s), "retrain") for s in seeds]
    r_confs = cached_confidences(args, "retrain", [(config(args, s), "retrain") for s in seeds],
                                 base)
    mean = {k: float(np.mean([r["metrics"][k] for r in retrain])) for k in ("Acc_r", "Acc_rt")}
    rows = []
    for method in args.methods:
        cfgs = [config(args, s, method) for s in seeds]
        runs = [run_or_load(cfg, "forget") for cfg in cfgs]
        u_confs = cached_confidences(args, cfgs[0].method + cfgs[0].get("run_suffix", ""),
                                     [(cfg, "forget") for cfg in cfgs], base)
        fq = forgetting_quality(u_confs, r_confs)
        ra = float(np.mean([r["metrics"]["Acc_r"] for r in runs]))
        ta = float(np.mean([r["metrics"]["Acc_rt"] for r in runs]))
        rows.append(dict(method=method, score=fq["score"],
                         null=null_score(u_confs, r_confs), epsilons=fq["epsilons"].tolist(),
                         median_epsilon=float(np.median(fq["epsilons"])),
                         median_confidence=float(np.median(u_confs)),
                         capped=float(np.mean(fq["epsilons"] >= EPSILON_CAP)),
                         ra_ratio=ra / mean["Acc_r"], ta_ratio=ta / mean["Acc_rt"],
                         final=final_score(fq["score"], ra, mean["Acc_r"], ta, mean["Acc_rt"])))
    result = dict(models=args.models, examples=int(r_confs.shape[1]), quick=args.quick,
                  retrain_median_confidence=float(np.median(r_confs)),
                  max_finite_epsilon=fq["max_finite_epsilon"], bins=fq["bins"],
                  retrain_mean=mean, rows=rows, work_root=project_relative(work_root(base)))
    write_report(args, result)
    return result


def write_report(args, result: dict) -> None:
    lines = ["| method | forgetting quality F ↑ | null F (same N) | median eps | % at cap | "
             "median confidence (retrain) | RA_U/RA_R | TA_U/TA_R | final score ↑ |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['method']} | {r['score']:.3f} | {r['null']:.3f} | "
                     f"{r['median_epsilon']:.2f} | {100 * r['capped']:.1f} | "
                     f"{r['median_confidence']:.2f} ({result['retrain_median_confidence']:.2f}) | "
                     f"{r['ra_ratio']:.3f} | {r['ta_ratio']:.3f} | {r['final']:.3f} |")
    note = (f"N = {result['models']} retrained and {result['models']} unlearned models, "
            f"{result['examples']} forget training images. Resolution: the largest finite "
            f"epsilon is {result['max_finite_epsilon']:.2f}; bins (lower edge, points): "
            f"{result['bins']}. Null F: the same estimator with the 2N models shuffled between "
            "the sides (a perfect unlearner's expected score at this N). Median confidence: the "
            "logit-scaled confidence log p_y - log(1 - p_y) of the forget images, over every "
            "image and model of the side (retrain's in brackets).")
    args.out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(args.out / "forgetting_quality.md", "\n".join(lines) + f"\n\n{note}\n")
    write_json_atomic(args.out / "forgetting_quality.json", result)
    print("\n".join(lines) + f"\n\n{note}\nreport: {args.out / 'forgetting_quality.md'}")


if __name__ == "__main__":
    run(parse_args())
