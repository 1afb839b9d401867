"""The relearn attack's learning rate for a protocol's audits (issue #14), chosen on a
validation class (or identity) with the original model alone: the largest lr of a grid at which
the attack leaves the original a classifier, i.e. after the last step budget it calls under half
of the remaining-class test images the relearnt class. Above that lr the attacker's copy calls
every image the forgotten class, whatever the model knew, and relearn Acc_ft reads 100 for every
model, the retrain model's included (lr 1e-2 on the CIFAR-10 CPU protocol and on Yale B).

    python benchmarks/relearn_lr.py                 # cat, lr 1e-2 / 1e-3 / 1e-4 (about 3 min)
    python benchmarks/relearn_lr.py --forget-class automobile --lrs 1e-3 3e-4 1e-4
    python benchmarks/relearn_lr.py --protocol face_yaleb     # identity 5 (about 1 min)

Writes ``<out>/relearn_lr.md``. The chosen lr is what the protocol's benchmark audits at:
``cls_cifar10.AUDIT['relearn_lr']``, ``face_yaleb.AUDIT['relearn_lr']``.
"""
import argparse
import sys
from pathlib import Path

from mmengine.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cls_cifar10  # noqa: E402
import face_yaleb  # noqa: E402

from taskforget.apis import checkpoint_path, device_name  # noqa: E402
from taskforget.checkpoint import file_digest, load_weights, write_text_atomic  # noqa: E402
from taskforget.commands.audit import audit_datasets  # noqa: E402
from taskforget.evaluation.audit import audit  # noqa: E402
from taskforget.registry import MODELS  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
# an attacked original that calls this share (%) of the remaining images the relearnt class
# or more is no classifier any more
COLLAPSED = 50.0
# per protocol: the config, the audit's images per class (None: all), its settings, the
# default validation class or identity (never reported) and where the report goes
PROTOCOLS = {
    "cls_cifar10": dict(config=cls_cifar10.BASE, per_class=cls_cifar10.AUDIT_PER_CLASS,
                        audit=cls_cifar10.AUDIT, forget="cat",
                        out="docs/results/classification"),
    "face_yaleb": dict(config=face_yaleb.CONFIG, per_class=None,
                       audit=face_yaleb.AUDIT, forget="5", out="docs/results/face"),
}


def choose(*remain_as_forget: dict) -> float:
    """The largest lr after which every attacked model calls under :data:`COLLAPSED` % of the
    remaining images the relearnt class at the last budget. Each ``remain_as_forget``: one
    model's {lr: [% per budget]}. Raises ValueError when every lr collapses one of them."""
    lrs = set.intersection(*(set(shares) for shares in remain_as_forget))
    kept = [lr for lr in lrs if all(m[lr][-1] < COLLAPSED for m in remain_as_forget)]
    if not kept:
        raise ValueError(f"every lr of {sorted(lrs)} makes an attacked model call "
                         f"{COLLAPSED:g} % or more of the remaining images the forgotten class: "
                         "try smaller ones (--lrs)")
    return max(kept)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--protocol", choices=sorted(PROTOCOLS), default="cls_cifar10")
    p.add_argument("--forget-class", help="a validation class or identity (default: cat; "
                   "Yale B: identity 5)")
    p.add_argument("--lrs", nargs="+", type=float, default=[1e-2, 1e-3, 1e-4])
    p.add_argument("--out", help="report folder (default: the protocol's results folder)")
    args = p.parse_args(argv)
    protocol = PROTOCOLS[args.protocol]
    cfg = Config.fromfile(str(ROOT / protocol["config"]))
    forget = args.forget_class or protocol["forget"]
    # the config's own type: class names (CIFAR-10) or identity ids (Yale B)
    cfg.forget_classes = [type(cfg.forget_classes[0])(forget)]
    forget_id = cfg.forget_classes[0]
    name = cfg.class_names[forget_id] if isinstance(forget_id, int) else forget_id
    # the original, and the validation class's retrain model where one was trained: the
    # model that never saw the class is the one an attack collapses first
    weights = {stage: checkpoint_path(cfg, stage) for stage in ("original", "retrain")}
    weights = {stage: path for stage, path in weights.items() if path.is_file()}
    train, test = audit_datasets(cfg, protocol["per_class"])
    settings = protocol["audit"]
    k, steps = max(settings["relearn_k"]), settings["relearn_steps"]
    acc, remain = {stage: {} for stage in weights}, {stage: {} for stage in weights}
    for stage, path in weights.items():
        network = load_weights(MODELS.build(cfg.model.network.to_dict()), path)
        for lr in args.lrs:
            print(f"[relearn_lr] {stage}, lr {lr:g}", flush=True)
            record = audit(network, cfg.forget_classes, train, test,
                           class_names=cfg.class_names, relearn_k=[k], relearn_steps=steps,
                           relearn_lr=lr, probe_per_class=20, tsne_per_class=None,
                           seed=settings["seed"], progress=False)
            k = record["relearn_k"][-1]  # capped at the forget training images there are
            row = record["models"]["model"]
            acc[stage][lr] = row["relearn"][str(k)]
            remain[stage][lr] = row["relearn_remain_as_forget"][str(k)]
    chosen = choose(*remain.values())
    lines = [f"| model | lr | relearn Acc_ft after {', '.join(map(str, steps))} steps | "
             "remaining called the forgotten class (%) | still a classifier |",
             "|---|---|---|---|---|"]
    for stage in weights:
        for lr in args.lrs:
            lines.append(f"| {stage} (`{file_digest(weights[stage])[:16]}`) | {lr:g}"
                         f"{' (chosen)' if lr == chosen else ''} | "
                         f"{' / '.join(f'{v:.1f}' for v in acc[stage][lr])} | "
                         f"{' / '.join(f'{v:.1f}' for v in remain[stage][lr])} | "
                         f"{'yes' if remain[stage][lr][-1] < COLLAPSED else 'no'} |")
    per_class = (f"{protocol['per_class']} of its test images and as many remaining-class "
                 "test images" if protocol["per_class"] else
                 "its test images and as many test images of the other classes")
    models = " and ".join(f"the {stage} model" for stage in weights)
    text = "\n".join(lines) + (
        f"\n\n{models.capitalize()} of {name} (for validation, never reported), each attacked "
        f"alone: a copy fine-tuned on {k} of its training images (SGD, momentum 0.9, batch "
        f"{min(k, 32)}, network in eval mode), read on {per_class}. Chosen: the largest lr "
        f"after which every attacked copy calls under {COLLAPSED:g} % of the remaining images "
        f"{name}: **{chosen:g}**. "
        f"`python benchmarks/relearn_lr.py --protocol {args.protocol} --forget-class {forget} "
        f"--lrs {' '.join(f'{lr:g}' for lr in args.lrs)}` on {device_name()}.\n")
    path = ROOT / (args.out or protocol["out"]) / "relearn_lr.md"
    write_text_atomic(path, text)
    print(text)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
