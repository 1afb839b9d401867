"""Turn a task config into the runner config of one stage, and record results.

One leaf config describes a whole experiment: the network, the data, the forget classes, the
pretraining schedule (``pretrain``) and the unlearning schedule (``forget``). The tools pick a
stage: ``original`` and ``retrain`` train a :class:`SupervisedModel`; ``forget`` runs the
config's unlearning method; ``test`` evaluates a checkpoint beside the original model.
"""
import copy
import json
import os
import uuid
from pathlib import Path
from typing import Dict, Optional

import torch
from mmengine.config import Config

from taskforget.datasets import resolve_forget_classes
from taskforget.datasets.data_root import PROJECT_ROOT
from taskforget.evaluation import MIA_CONVENTION

STAGES = ("original", "retrain", "forget", "test")
_DATALOADERS = ("train_dataloader", "val_dataloader", "test_dataloader")


def forget_tag(cfg: Config) -> str:
    """Short name of the forget classes, e.g. ``'airplane'`` or ``'0-1-2'``."""
    ids = resolve_forget_classes(cfg.forget_classes, cfg.class_names)
    names = [cfg.class_names[i] for i in ids]
    return "-".join(names) if len(names) <= 3 else "-".join(map(str, ids))


def work_root(cfg: Config) -> Path:
    """Folder shared by every stage and method of one experiment."""
    root = cfg.get("work_root") or os.path.join("work_dirs", cfg.experiment)
    return Path(root) if os.path.isabs(root) else PROJECT_ROOT / root


def run_name(cfg: Config, stage: str) -> str:
    if stage == "original":
        return "original"
    seed = cfg.get("randomness", {}).get("seed")
    suffix = f"_seed{seed}" if seed is not None else ""
    method = "retrain" if stage == "retrain" else cfg.model.type.lower()
    return f"{method}_{forget_tag(cfg)}{cfg.get('run_suffix', '')}{suffix}"


def checkpoint_path(cfg: Config, stage: str) -> Path:
    """Where the weights of a stage are written (and read back by later stages)."""
    return work_root(cfg) / f"{run_name(cfg, stage)}.pth"


def _set_forget_classes(node, forget_classes) -> None:
    """Write the experiment's forget classes into every dataset and adapter config."""
    if isinstance(node, dict):
        if "forget_classes" in node:
            node["forget_classes"] = copy.deepcopy(forget_classes)
        for value in node.values():
            _set_forget_classes(value, forget_classes)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _set_forget_classes(value, forget_classes)


def build_stage_config(cfg: Config, stage: str, checkpoint: Optional[str] = None,
                       work_dir: Optional[str] = None) -> Config:
    """Runner config of ``stage`` (one of :data:`STAGES`) from an experiment config.

    Args:
        cfg: the experiment config (a leaf config under ``configs/``).
        stage: 'original' or 'retrain' (train), 'forget' (unlearn), 'test' (evaluate).
        checkpoint: for 'forget', the original weights (default: this experiment's
            ``original.pth``); for 'test', the weights to evaluate.
        work_dir: overrides the experiment's work root.
    """
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {STAGES}, got {stage!r}")
    cfg = copy.deepcopy(cfg)
    if work_dir is not None:
        cfg.work_root = work_dir
    resolve_forget_classes(cfg.forget_classes, cfg.class_names)  # fail early, clearly
    cfg.model.adapter.update(class_names=tuple(cfg.class_names),
                             forget_classes=cfg.forget_classes)
    _set_forget_classes(cfg._cfg_dict, cfg.forget_classes)
    model = cfg.model
    original = checkpoint_path(cfg, "original")
    if stage in ("original", "retrain"):
        cfg.merge_from_dict(cfg.pretrain.to_dict())
        # `pretrain` may override the network of the training stages alone, e.g.
        # pretrain.model.network.init_encoder (a face model fine-tuned from a pretraining run).
        cfg.model = dict(type="SupervisedModel", network=cfg.model.network,
                         adapter=model.adapter)
        if stage == "retrain":
            cfg.train_dataloader.dataset.subset = "remain"
    elif stage == "forget":
        cfg.merge_from_dict(cfg.forget.to_dict())
        cfg.train_dataloader = cfg.forget_dataloader
        cfg.model.original_checkpoint = str(checkpoint or original)
    else:
        cfg.model = dict(type="Unlearner", network=model.network, adapter=model.adapter,
                         original_checkpoint=str(original), checkpoint=checkpoint)
        for key in ("train_dataloader", "train_cfg", "optim_wrapper", "param_scheduler",
                    "val_dataloader", "val_cfg", "val_evaluator"):
            cfg.pop(key, None)
    for key in ("pretrain", "forget", "forget_dataloader"):
        cfg.pop(key, None)
    name = run_name(cfg, "forget" if stage == "test" else stage)
    cfg.work_dir = str(work_root(cfg) / name)
    # mmengine appends a timestamp; the random part keeps runners in one process apart.
    cfg.experiment_name = f"{name}_{uuid.uuid4().hex[:6]}"
    if stage != "test":
        cfg.custom_hooks = list(cfg.get("custom_hooks", [])) + [
            dict(type="ExportWeightsHook", path=str(checkpoint_path(cfg, stage)))]
    if not torch.cuda.is_available():
        # CPU DDP: gloo, and no device_ids (mmengine's default wrapper passes LOCAL_RANK).
        cfg.env_cfg = dict(cfg.get("env_cfg", {}), dist_cfg=dict(backend="gloo"))
        cfg.setdefault("model_wrapper_cfg", dict(type="MMDistributedDataParallel",
                                                 device_ids=None, broadcast_buffers=False))
    return cfg


def device_name() -> str:
    """The device runs are recorded on: the GPU's name, or the CPU thread count."""
    return (torch.cuda.get_device_name() if torch.cuda.is_available()
            else f"cpu x{torch.get_num_threads()} threads")


def write_results(metrics: Dict[str, float], cfg: Config, name: str,
                  wall_time_s: Optional[float] = None) -> Path:
    """Write ``<work_root>/results/<name>.json`` and a markdown row beside it."""
    out = work_root(cfg) / "results"
    out.mkdir(parents=True, exist_ok=True)
    record = dict(name=name, experiment=cfg.experiment, forget_classes=list(
        cfg.forget_classes) if not isinstance(cfg.forget_classes, (str, int))
        else [cfg.forget_classes], metrics=metrics, wall_time_s=wall_time_s,
        mia_convention=MIA_CONVENTION, device=device_name())
    path = write_json_atomic(out / f"{name}.json", record)
    path.with_suffix(".md").write_text(markdown_table([record]))
    return path


def write_json_atomic(path: Path, obj) -> Path:
    """Write ``obj`` as JSON so that a crash never leaves a half-written file at ``path``."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2))
    os.replace(tmp, path)
    return path


COLUMNS = ("Acc_f", "Acc_r", "Acc_ft", "Acc_rt", "H-Mean", "MIA")


def markdown_table(records, columns=COLUMNS) -> str:
    """Markdown table of result records (``write_results``'s JSON), one row each."""
    head = ["model", *[c + (" (DELETE conv., lower better)" if c == "MIA" else "")
                       for c in columns], "wall time (s)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in records:
        cells = [r["name"]]
        for c in columns:
            v = r["metrics"].get(c)
            cells.append("-" if v is None else f"{v:.2f}")
        cells.append("-" if r.get("wall_time_s") is None else f"{r['wall_time_s']:.1f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
