"""Audit a checkpoint's forgetting beside the retrain model: accuracies and the confidence-SVC
MIA, a loss attack (ROC AUC, TPR at 1% FPR), a relearn attack, linear and kNN feature probes,
where the forgotten class's images go, a t-SNE, and one verdict line. Writes audit.md,
audit.html (self-contained), audit.json and PNGs into --out.

    python tools/audit.py configs/demo_cifar10_cnn.py \\
        work_dirs/demo_cifar10_cnn/delete_airplane_seed0.pth \\
        --retrain work_dirs/demo_cifar10_cnn/retrain_airplane_seed0.pth

--retrain / --original default to the experiment's own files when they exist
(<work root>/retrain_<classes>_seed<k>.pth, <work root>/original.pth). Segmentation configs get
IoU, the forgotten class's pixel confusion row and prediction overlays.
"""
import json
import time
from pathlib import Path
from typing import Callable, Optional, Tuple

from taskforget.apis import checkpoint_path, work_root
from taskforget.checkpoint import load_weights, write_json_atomic
from taskforget.cli import load_config, main_guard, parser
from taskforget.datasets.data_root import project_relative
from taskforget.errors import DataError
from taskforget.evaluation.audit import RELEARN_LR, Tolerances, audit
from taskforget.evaluation.audit_report import write_report
from taskforget.registry import DATASETS, MODELS


def audit_datasets(cfg, max_per_class=None):
    """(training, test) datasets of the config's evaluation data, test-time transforms: the
    evaluation dataset split into its 'train' part and the rest ('test', or 'val')."""
    base = cfg.test_dataloader.dataset.to_dict()
    splits = [base["split"]] if isinstance(base["split"], str) else list(base["split"])
    held_out = [s for s in splits if s != "train"] or ["test"]
    common = dict(base, subset="all", forget_classes=list(cfg.forget_classes))
    if max_per_class is not None:
        common["max_per_class"] = max_per_class
    return (DATASETS.build(dict(common, split="train")),
            DATASETS.build(dict(common, split=held_out[0] if len(held_out) == 1 else held_out)))


def _network(cfg, path):
    return load_weights(MODELS.build(cfg.model.network.to_dict()), path)


def audit_checkpoint(cfg, checkpoint, cache, identity, data: Callable[[], Tuple],
                     retrain: Optional[str] = None, original: Optional[str] = None,
                     **settings) -> dict:
    """:func:`audit` of a config's checkpoint, cached: read back from ``cache`` when it was
    written for the same ``identity`` and ``settings``, else computed and written there.

    Args:
        cfg: the experiment config (network, forget classes, class names).
        checkpoint, retrain, original: weights of the audited, retrain and original models.
        cache: the record's JSON path (a benchmark puts it beside the run's results).
        identity: JSON-ready identity of the weights and the data, e.g. the runs'
            ``config_hash`` and the audit's images per class: other weights or data are
            audited again.
        data: returns the ``(train, test)`` datasets (:func:`audit_datasets`); called only
            when the audit runs.
        **settings: :func:`audit`'s keyword arguments (JSON-ready), part of the key.

    Returns:
        The record, with ``audit_key``, ``audit_time_s`` (wall time of the audit) and
        ``checkpoints``.
    """
    cache = Path(cache)
    key = json.loads(json.dumps(dict(identity=identity, settings=settings)))
    if cache.is_file():
        record = json.loads(cache.read_text())
        if record.get("audit_key") == key:
            print(f"[cache] reusing audit {cache.stem} ({cache})")
            return record
    print(f"auditing {cache.stem}: forward passes, MIA, relearn attack, probes", flush=True)
    start = time.time()
    record = audit(_network(cfg, checkpoint), cfg.forget_classes, *data(),
                   retrain=_network(cfg, retrain) if retrain else None,
                   original=_network(cfg, original) if original else None,
                   class_names=cfg.class_names, progress=False, **settings)
    record.update(audit_key=key, audit_time_s=time.time() - start,
                  checkpoints={k: project_relative(v) for k, v in dict(
                      model=str(checkpoint), retrain=retrain, original=original).items()})
    record = json.loads(json.dumps(record, default=lambda v: v.item() if hasattr(v, "item")
                                   else str(v)))
    write_json_atomic(cache, record)
    print(f"audited {cache.stem} in {record['audit_time_s']:.0f} s", flush=True)
    return record


def _default(cfg, given, stage):
    if given:
        return given
    path = checkpoint_path(cfg, stage)
    return str(path) if path.is_file() else None


@main_guard
def main():
    p = parser(__doc__)
    p.add_argument("checkpoint", help="weights to audit")
    p.add_argument("--retrain", help="retrain model's weights (default: the experiment's)")
    p.add_argument("--original", help="original model's weights (default: the experiment's)")
    p.add_argument("--out", help="report folder (default: <work root>/audit/<checkpoint stem>)")
    p.add_argument("--max-per-class", type=int,
                   help="evaluation images per class and split (default: the config's)")
    p.add_argument("--relearn-k", type=int, nargs="+", default=[10, 100])
    p.add_argument("--relearn-steps", type=int, nargs="+", default=[0, 5, 10, 25])
    p.add_argument("--relearn-lr", type=float, default=RELEARN_LR,
                   help=f"the relearn attack's SGD lr (default {RELEARN_LR:g}); too large and "
                        "every attacked copy, the retrain model's too, calls every image the "
                        "forgotten class: benchmarks/relearn_lr.py picks it on a validation "
                        "class (CIFAR-10 CPU protocol: 1e-4)")
    p.add_argument("--device", help="cpu or cuda (default: cuda when available)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    cfg = load_config(args)
    if not Path(args.checkpoint).is_file():
        raise DataError(f"checkpoint {args.checkpoint} does not exist")
    retrain, original = _default(cfg, args.retrain, "retrain"), _default(cfg, args.original,
                                                                       "original")
    print(f"auditing {args.checkpoint}\n  retrain:  {retrain or '- (no verdict)'}\n"
          f"  original: {original or '-'}")
    train, test = audit_datasets(cfg, args.max_per_class)
    record = audit(_network(cfg, args.checkpoint), cfg.forget_classes, train, test,
                   retrain=_network(cfg, retrain) if retrain else None,
                   original=_network(cfg, original) if original else None,
                   class_names=cfg.class_names, tolerances=Tolerances(),
                   relearn_k=args.relearn_k, relearn_steps=sorted(set(args.relearn_steps)),
                   relearn_lr=args.relearn_lr, device=args.device, seed=args.seed)
    record["checkpoints"] = dict(model=str(args.checkpoint), retrain=retrain, original=original)
    out = Path(args.out) if args.out else work_root(cfg) / "audit" / Path(args.checkpoint).stem
    name = Path(args.checkpoint).stem
    from taskforget.commands.seg_overlay import make_overlay
    overlays = (make_overlay(cfg, {"original": original, "retrain": retrain,
                                   name: args.checkpoint}, out / "overlays.png")
                if record["task"] == "segmentation" else None)
    paths = write_report(record, out, model_name=name, overlays=overlays)
    print(f"verdict: {Path(args.checkpoint).stem} {record['verdict']['text']}")
    print(f"report: {paths['md']} (and {paths['html'].name}, {paths['json'].name}, PNGs)")


if __name__ == "__main__":
    main()
