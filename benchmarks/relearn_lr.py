"""The relearn attack's learning rate for the classification audits (issue #14), chosen on the
validation class with the original model alone: the largest lr of a grid at which the attack
leaves the original a classifier, i.e. after the last step budget it calls under half of the
remaining-class test images the relearnt class. Above that lr the attacker's copy calls every
image the forgotten class, whatever the model knew, and relearn Acc_ft reads 100 for every
model, the retrain model's included (lr 1e-2 on the CIFAR-10 CPU protocol and on Yale B).

    python benchmarks/relearn_lr.py                 # cat, lr 1e-2 / 1e-3 / 1e-4 (about 3 min)
    python benchmarks/relearn_lr.py --forget-class automobile --lrs 1e-3 3e-4 1e-4

Writes ``<out>/relearn_lr.md``. The chosen lr is what ``cls_cifar10.AUDIT['relearn_lr']`` holds.
"""
import argparse
import sys
from pathlib import Path

from mmengine.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cls_cifar10 import AUDIT, AUDIT_PER_CLASS, BASE  # noqa: E402

from taskforget.apis import checkpoint_path, device_name  # noqa: E402
from taskforget.checkpoint import file_digest, load_weights, write_text_atomic  # noqa: E402
from taskforget.commands.audit import audit_datasets  # noqa: E402
from taskforget.evaluation.audit import audit  # noqa: E402
from taskforget.registry import MODELS  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
# an attacked original that calls this share (%) of the remaining images the relearnt class
# or more is no classifier any more
COLLAPSED = 50.0


def choose(remain_as_forget: dict) -> float:
    """The largest lr whose attacked original calls under :data:`COLLAPSED` % of the remaining
    images the relearnt class after the last budget. ``remain_as_forget``: {lr: [% per
    budget]}. Raises ValueError when every lr collapses it."""
    kept = [lr for lr, shares in remain_as_forget.items() if shares[-1] < COLLAPSED]
    if not kept:
        raise ValueError(f"every lr of {sorted(remain_as_forget)} makes the original call "
                         f"{COLLAPSED:g} % or more of the remaining images the forgotten class: "
                         "try smaller ones (--lrs)")
    return max(kept)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--forget-class", default="cat", help="a validation class (default cat)")
    p.add_argument("--lrs", nargs="+", type=float, default=[1e-2, 1e-3, 1e-4])
    p.add_argument("--out", default="docs/results/classification")
    args = p.parse_args(argv)
    cfg = Config.fromfile(str(ROOT / BASE))
    cfg.forget_classes = [args.forget_class]
    weights = checkpoint_path(cfg, "original")
    original = load_weights(MODELS.build(cfg.model.network.to_dict()), weights)
    train, test = audit_datasets(cfg, AUDIT_PER_CLASS)
    k, steps = max(AUDIT["relearn_k"]), AUDIT["relearn_steps"]
    acc, remain = {}, {}
    for lr in args.lrs:
        print(f"[relearn_lr] lr {lr:g}", flush=True)
        row = audit(original, [args.forget_class], train, test, class_names=cfg.class_names,
                    relearn_k=[k], relearn_steps=steps, relearn_lr=lr, probe_per_class=20,
                    tsne_per_class=None, seed=AUDIT["seed"], progress=False)["models"]["model"]
        acc[lr], remain[lr] = row["relearn"][str(k)], row["relearn_remain_as_forget"][str(k)]
    chosen = choose(remain)
    lines = [f"| lr | relearn Acc_ft after {', '.join(map(str, steps))} steps | remaining "
             "called the forgotten class (%) | still a classifier |", "|---|---|---|---|"]
    for lr in args.lrs:
        lines.append(f"| {lr:g}{' (chosen)' if lr == chosen else ''} | "
                     f"{' / '.join(f'{v:.1f}' for v in acc[lr])} | "
                     f"{' / '.join(f'{v:.1f}' for v in remain[lr])} | "
                     f"{'yes' if remain[lr][-1] < COLLAPSED else 'no'} |")
    text = "\n".join(lines) + (
        f"\n\nThe original model (`{file_digest(weights)[:16]}`) attacked on "
        f"{args.forget_class} (a validation class): a copy fine-tuned on {k} of its training "
        f"images (SGD, momentum 0.9, batch 32, network in eval mode), read on "
        f"{AUDIT_PER_CLASS} of its test images and as many remaining-class test images. "
        f"Chosen: the largest lr after which the copy calls under {COLLAPSED:g} % of the "
        f"remaining images {args.forget_class}: **{chosen:g}**. "
        f"`python benchmarks/relearn_lr.py --forget-class {args.forget_class} --lrs "
        f"{' '.join(f'{lr:g}' for lr in args.lrs)}` on {device_name()}.\n")
    path = ROOT / args.out / "relearn_lr.md"
    write_text_atomic(path, text)
    print(text)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
