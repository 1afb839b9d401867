"""Where an unlearned model changed, class by class, against the original it came from: how far
each class's test features moved, how the class's own logit changed on its images, and whether
that change comes from the features or from the classifier's row of that class.

    python benchmarks/class_drift.py configs/cls_cifar10_resnet20_cpu.py \\
        work_dirs/cls_cifar10_resnet20_cpu/delete_ship_seed0.pth [--original PATH] [--out FILE]

Prints a markdown table (and writes it to ``--out``) over the config's full test split: test
accuracy of the original and of the model per class; feature drift, 1 - cosine similarity of the
two models' penultimate features, averaged over the class's test images; the mean change of the
class's own logit on its images, and the same change with the model's features read by the
original's head ("from features") and with the original's features read by the model's head
("from head"), which need not add up to it (their interaction is the rest); and the head row's
relative change |w'_k - w_k| / |w_k|. The network needs the contract (taskforget.network).
"""
import argparse
import sys
from pathlib import Path
from typing import List, Sequence

import torch
import torch.nn.functional as F
from mmengine.config import Config
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from taskforget.apis import checkpoint_path  # noqa: E402
from taskforget.checkpoint import load_weights, write_text_atomic  # noqa: E402
from taskforget.datasets.data_root import project_relative  # noqa: E402
from taskforget.evaluation.audit import per_class_accuracy  # noqa: E402
from taskforget.evaluation.probe import extract_features  # noqa: E402
from taskforget.network import as_contract  # noqa: E402
from taskforget.registry import DATASETS, MODELS  # noqa: E402

COLUMNS = ("acc_original", "acc_model", "drift", "logit", "from_features", "from_head",
           "head_row")
HEADERS = ("test acc. original (%)", "test acc. model (%)", "feature drift (1 - cos)",
           "own-logit change", "from features", "from head", "head row change")


def class_drift(original: nn.Module, model: nn.Module, dataset) -> List[dict]:
    """Per class present in ``dataset`` (items ``dict(inputs=(C, H, W), data_samples=dict(
    label=...))``), the measures of the module docstring: ``dict(cls, acc_original, acc_model,
    drift, logit, from_features, from_head, head_row)``."""
    f_orig, labels, _ = extract_features(original, dataset)
    f_model, _, _ = extract_features(model, dataset)
    head_orig = as_contract(original, "class_drift").head
    head_model = as_contract(model, "class_drift").head
    f_orig, f_model = torch.from_numpy(f_orig), torch.from_numpy(f_model)
    with torch.no_grad():
        z_orig, z_model = head_orig(f_orig), head_model(f_model)
        z_new_features, z_new_head = head_orig(f_model), head_model(f_orig)
        cos = F.cosine_similarity(f_orig, f_model, dim=1)
        num_classes = head_orig.out_features
        acc_orig, acc_model = (per_class_accuracy(labels, z.argmax(1).numpy(), num_classes)
                               for z in (z_orig, z_model))
        rows = []
        for k in sorted(set(labels.tolist())):
            mask = torch.from_numpy(labels == k)
            row_orig = head_orig.weight[k]
            rows.append(dict(
                cls=k,
                acc_original=acc_orig[k], acc_model=acc_model[k],
                drift=float(1.0 - cos[mask].mean()),
                logit=float((z_model[mask, k] - z_orig[mask, k]).mean()),
                from_features=float((z_new_features[mask, k] - z_orig[mask, k]).mean()),
                from_head=float((z_new_head[mask, k] - z_orig[mask, k]).mean()),
                head_row=float((head_model.weight[k] - row_orig).norm() / row_orig.norm())))
    return rows


def markdown(rows: List[dict], class_names: Sequence[str]) -> str:
    lines = ["| class | " + " | ".join(HEADERS) + " |", "|---|" + "---|" * len(HEADERS)]
    for r in rows:
        lines.append(f"| {class_names[r['cls']]} | " + " | ".join(
            f"{r[c]:.1f}" if c.startswith("acc") else f"{r[c]:+.3f}" if c in (
                "logit", "from_features", "from_head") else f"{r[c]:.4f}" for c in COLUMNS)
            + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("config")
    parser.add_argument("checkpoint", help="the unlearned model's weights")
    parser.add_argument("--original", help="default: the experiment's original.pth")
    parser.add_argument("--out", help="also write the table to this markdown file")
    args = parser.parse_args(argv)
    cfg = Config.fromfile(args.config)
    original = args.original or str(checkpoint_path(cfg, "original"))
    nets = [load_weights(MODELS.build(cfg.model.network.to_dict()), path).eval()
            for path in (original, args.checkpoint)]
    data = cfg.test_dataloader.dataset.to_dict()
    data.update(split="test", forget_classes=[], subset="all", max_per_class=None)
    text = (f"{project_relative(str(Path(args.checkpoint).resolve()))} against "
            f"{project_relative(str(Path(original).resolve()))}, test split:\n\n"
            + markdown(class_drift(*nets, DATASETS.build(data)), cfg.class_names))
    print(text)
    if args.out:
        write_text_atomic(args.out, text)
    return text


if __name__ == "__main__":
    main()
