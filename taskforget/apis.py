"""Turn a task config into the runner config of one stage, and record results.

One leaf config describes a whole experiment: the network, the data, the forget classes, the
pretraining schedule (``pretrain``) and the unlearning schedule (``forget``). The tools pick a
stage: ``original`` and ``retrain`` train a :class:`SupervisedModel`; ``forget`` runs the
config's unlearning method; ``test`` evaluates a checkpoint beside the original model.
"""
import copy
import hashlib
import json
import os
import uuid
from numbers import Real
from pathlib import Path
from typing import Callable, Dict, Optional

import torch
from mmengine.config import Config

from taskforget.checkpoint import file_digest, write_json_atomic, write_text_atomic
from taskforget.datasets import resolve_forget_classes
from taskforget.datasets.data_root import PROJECT_ROOT, project_relative
from taskforget.engine.optim import resolve_precision
from taskforget.errors import ConfigError, check_number
from taskforget.evaluation import MIA_CONVENTION
from taskforget.request import compose_method, method_name

STAGES = ("original", "retrain", "forget", "test")
_DATALOADERS = ("train_dataloader", "val_dataloader", "test_dataloader")


def _classes_tag(classes, class_names) -> str:
    ids = resolve_forget_classes(classes, class_names)
    names = [class_names[i] for i in ids]
    return "-".join(names) if len(names) <= 3 else "-".join(map(str, ids))


def forget_tag(cfg: Config) -> str:
    """Short name of the forget classes, e.g. ``'airplane'`` or ``'0-1-2'``; a chain of
    requests names each step: ``'cat_then_dog'``."""
    steps = [step["classes"] for step in cfg.get("lineage") or []]
    steps.append(cfg.get("request_classes") or cfg.forget_classes)
    return "_then_".join(_classes_tag(s, cfg.class_names) for s in steps)


def _as_list(classes) -> list:
    return [classes] if isinstance(classes, (str, int)) else list(classes)


def _apply_lineage(cfg: Config) -> None:
    """A later request of a chain: ``forget_classes`` becomes every class forgotten so far
    (masks, metrics, MIA) and ``request_classes`` keeps this request's own (its D_f)."""
    if not cfg.get("lineage"):
        return
    if "request_classes" not in cfg:
        cfg.request_classes = _as_list(cfg.forget_classes)
    earlier = [c for step in cfg.lineage for c in _as_list(step["classes"])]
    ids = resolve_forget_classes(earlier + list(cfg.request_classes), cfg.class_names)
    cfg.forget_classes = [cfg.class_names[i] for i in ids]


def work_root(cfg: Config) -> Path:
    """Folder shared by every stage and method of one experiment."""
    root = cfg.get("work_root") or os.path.join("work_dirs", cfg.experiment)
    return Path(root) if os.path.isabs(root) else PROJECT_ROOT / root


def run_name(cfg: Config, stage: str) -> str:
    if stage == "original":
        return "original"
    seed = cfg.get("randomness", {}).get("seed")
    suffix = f"_seed{seed}" if seed is not None else ""
    if stage == "retrain":
        method = "retrain"
    elif cfg.get("method") and cfg.get("method_type") in (None, cfg.model.get("type")):
        method = cfg.method
    else:  # the class was changed after composing (e.g. --cfg-options model.type=...)
        method = method_name(cfg.model.type)
    return f"{method}_{forget_tag(cfg)}{cfg.get('run_suffix', '')}{suffix}"


def checkpoint_path(cfg: Config, stage: str) -> Path:
    """Where the weights of a stage are written (and read back by later stages)."""
    return work_root(cfg) / f"{run_name(cfg, stage)}.pth"


def walk_dicts(node, fn: Callable[[dict], None]) -> None:
    """Call ``fn`` on every dict inside a config tree (the tree itself included)."""
    if isinstance(node, dict):
        fn(node)
        for value in node.values():
            walk_dicts(value, fn)
    elif isinstance(node, (list, tuple)):
        for value in node:
            walk_dicts(value, fn)


def prepare_experiment(cfg: Config) -> Config:
    """Make the experiment-level keys drive every component, in place, and validate them.

    ``forget_classes`` goes to every dataset and adapter; ``class_names`` and ``data_root``
    go to every dataset (every dict with a ``type`` and a ``root``), which then checks its own
    classes against ``class_names``. Idempotent.

    Raises:
        ConfigError: bad classes, class count or numeric hyperparameter.
    """
    if "class_names" not in cfg or "forget_classes" not in cfg:
        raise ConfigError("the config needs `class_names` and `forget_classes` (an experiment "
                          "config under configs/, e.g. configs/cls_cifar10_resnet20_cpu.py)")
    if isinstance(cfg.class_names, str) or len(set(cfg.class_names)) != len(cfg.class_names):
        raise ConfigError(f"class_names must be a list of distinct names, got "
                          f"{cfg.class_names!r}")
    resolve_forget_classes(cfg.forget_classes, cfg.class_names)  # fail early, clearly
    declared = cfg.get("num_classes")
    network = cfg.get("model", {}).get("network", {})
    for key, value in (("num_classes", declared), ("model.network.num_classes",
                                                  network.get("num_classes"))):
        if value is not None and value != len(cfg.class_names):
            raise ConfigError(f"{key} is {value} but class_names lists {len(cfg.class_names)} "
                              f"classes: make them agree")
    data_root = cfg.get("data_root")

    def fill(node: dict) -> None:
        if "forget_classes" in node:
            node["forget_classes"] = copy.deepcopy(cfg.forget_classes)
        if "type" in node and "root" in node:
            node["class_names"] = tuple(cfg.class_names)
            if data_root is not None:
                node["root"] = data_root

    _apply_lineage(cfg)
    walk_dicts(cfg._cfg_dict, fill)
    if cfg.get("request_classes") and "forget_dataloader" in cfg:
        cfg.forget_dataloader.dataset.forget_classes = list(cfg.request_classes)
    return cfg


def protocol_request(cfg: Config) -> Config:
    """``cfg`` as its own file requests it: the file's ``forget_classes``, no ``lineage``.

    The original model's run is built from this. The original never sees which classes a
    request forgets and every request shares its checkpoint path, so a request for another
    class must name the same run; otherwise :func:`~taskforget.cli.run_or_load` finds "a run
    with other settings" there and trains it again over the shared file. Returns ``cfg`` itself
    when its request already is the file's, and when it has no file on disk, when the file's
    classes are not in its ``class_names``, or for a backdoor config (its original is
    poisoned towards ``attack.target``, the class it forgets).
    """
    path = cfg.filename
    if "attack" in cfg or not path or not Path(path).is_file():
        return cfg
    own = Config.fromfile(path).get("forget_classes")
    try:
        own_ids = resolve_forget_classes(own, cfg.class_names)
    except ConfigError:
        return cfg
    if not cfg.get("lineage") and own_ids == resolve_forget_classes(
            cfg.forget_classes, cfg.class_names):
        return cfg
    cfg = copy.deepcopy(cfg)
    cfg.forget_classes = own
    for key in ("lineage", "request_classes"):
        cfg.pop(key, None)
    return cfg


# Ranges of the numeric keys every stage shares; a method checks its own knobs.
_RANGES = {
    "lr": dict(low=0, low_open=True), "momentum": dict(low=0, high=1),
    "weight_decay": dict(low=0), "max_epochs": dict(low=0, integer=True),
    "max_iters": dict(low=0, integer=True), "batch_size": dict(low=1, integer=True),
    "temperature": dict(low=0, low_open=True), "num_workers": dict(low=0, integer=True),
    "eta_max": dict(low=0, low_open=True), "val_interval": dict(low=1, integer=True),
}


def validate_config(cfg: Config) -> None:
    """Refuse any NaN or infinite number anywhere in ``cfg``, known keys out of range, and
    negative method hyperparameters (every number under ``model`` outside the network).

    Raises:
        ConfigError: naming the dotted key, the value and the valid range.
    """
    def visit(node, path: str, in_model: bool) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                visit(value, f"{path}.{key}" if path else str(key),
                      in_model or (not path and key == "model"))
        elif isinstance(node, (list, tuple)):
            for i, value in enumerate(node):
                visit(value, f"{path}[{i}]", in_model)
        elif isinstance(node, Real) and not isinstance(node, bool):
            key = path.rsplit(".", 1)[-1]
            check_number(path, node, **_RANGES.get(key, {}))
            if in_model and ".network." not in f"{path}." and key not in _RANGES:
                check_number(path, node, low=0)

    visit(cfg.to_dict() if isinstance(cfg, Config) else cfg, "", False)


def config_hash(cfg: Config) -> str:
    """SHA-256 of a config's settings (where it is written excluded; so are the methods'
    ``method_settings``, ``method_defaults`` and ``tuned_methods``: a run holds its own,
    composed into its model and schedule, and the other methods' are not part of it)."""
    settings = {k: v for k, v in cfg.to_dict().items()
                if k not in ("work_dir", "work_root", "experiment_name", "launcher", "resume",
                             "load_from", "run_hash", "custom_hooks", "method_settings",
                             "method_defaults", "tuned_methods")}
    settings["custom_hooks"] = [h for h in cfg.get("custom_hooks", []) if h.get("type") not in (
        "ExportWeightsHook", "CheckpointDigestHook", "RandomStateHook", "TrustedResumeHook")]
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


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
        raise ConfigError(f"stage must be one of {STAGES}, got {stage!r}")
    cfg = compose_method(copy.deepcopy(cfg))
    # one original for every request (see protocol_request)
    cfg = prepare_experiment(protocol_request(cfg) if stage == "original" else cfg)
    if work_dir is not None:
        cfg.work_root = work_dir
    cfg.model.adapter.update(class_names=tuple(cfg.class_names),
                             forget_classes=cfg.forget_classes)
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
        lineage = cfg.get("lineage") or []
        # a later request starts from (and distils) the current model, its parent
        parent = checkpoint or (lineage[-1]["checkpoint"] if lineage else original)
        cfg.model.original_checkpoint = str(parent)
        if lineage:
            cfg.model.reference_checkpoint = str(original)
    else:
        cfg.model = dict(type="Unlearner", network=model.network, adapter=model.adapter,
                         original_checkpoint=str(original), checkpoint=checkpoint)
        for key in ("train_dataloader", "train_cfg", "optim_wrapper", "param_scheduler",
                    "val_dataloader", "val_cfg", "val_evaluator"):
            cfg.pop(key, None)
    # which method is composed is not part of a training stage
    for key in ("pretrain", "forget", "forget_dataloader",
                *(("method", "method_type") if stage in ("original", "retrain") else ())):
        cfg.pop(key, None)
    train_cfg = cfg.get("train_cfg") or {}
    if stage != "test" and train_cfg.get("val_interval", 1) >= train_cfg.get("max_epochs", 0):
        # no validation before the last epoch: runner.test() evaluates once, at the end
        for key in ("val_dataloader", "val_cfg", "val_evaluator"):
            cfg.pop(key, None)
    name = run_name(cfg, "forget" if stage == "test" else stage)
    # bf16 autocast only where it is native; elsewhere fp32, recorded in the run's settings
    resolve_precision(cfg)
    validate_config(cfg)
    # The run's identity: its settings and the bytes of the weights it starts from.
    parents = [cfg.model.get(k) for k in ("original_checkpoint", "checkpoint")]
    cfg.run_hash = hashlib.sha256((config_hash(cfg) + "".join(
        file_digest(p) for p in parents if p and Path(p).is_file())).encode()).hexdigest()
    cfg.work_dir = str(work_root(cfg) / name)
    # mmengine appends a timestamp; the random part keeps runners in one process apart.
    cfg.experiment_name = f"{name}_{uuid.uuid4().hex[:6]}"
    if stage != "test":
        cfg.custom_hooks = list(cfg.get("custom_hooks", [])) + [
            dict(type="ExportWeightsHook", path=str(checkpoint_path(cfg, stage)),
                 run_hash=cfg.run_hash),
            dict(type="CheckpointDigestHook", run_hash=cfg.run_hash),
            dict(type="RandomStateHook")]
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


def results_path(cfg: Config, name: str) -> Path:
    """``<work_root>/results/<name>.json``: where a run's result record is written."""
    return work_root(cfg) / "results" / f"{name}.json"


def hyperparameters(cfg: Config) -> dict:
    """The settings of a stage config that make its result: method and its knobs, optimizer,
    schedule, batch size, seed (paths, network and adapter left out)."""
    model = cfg.model.to_dict() if hasattr(cfg.model, "to_dict") else dict(cfg.model)
    settings = dict(method=model.pop("type"), **{
        k: v for k, v in model.items()
        if k not in ("network", "adapter", "original_checkpoint", "checkpoint",
                     "data_preprocessor")})
    optim = cfg.get("optim_wrapper")
    if optim:
        settings.update(optim_wrapper=optim.get("type", "OptimWrapper"),
                        optimizer=dict(optim.get("optimizer", {})))
    if cfg.get("train_cfg"):
        settings["train_cfg"] = dict(cfg.train_cfg)
        settings["batch_size"] = cfg.train_dataloader.get("batch_size")
    if cfg.get("param_scheduler"):
        settings["param_scheduler"] = [dict(p) for p in cfg.param_scheduler]
    settings["seed"] = cfg.get("randomness", {}).get("seed")
    return json.loads(json.dumps(settings, default=str))


def lineage_of(parent: str) -> list:
    """The lineage a request continues when it starts from ``parent``, the weights of an
    earlier forget run: that run's own lineage plus the run itself.

    Raises:
        ConfigError: ``parent`` has no results record or is not the file that run wrote.
    """
    from taskforget.checkpoint import verify_digest
    parent = Path(parent)
    record_path = parent.parent / "results" / f"{parent.stem}.json"
    if not record_path.is_file():
        raise ConfigError(f"--parent {parent}: no results record {record_path}; pass the "
                          "weights a forget run wrote (<work_root>/<run>.pth)")
    record = json.loads(record_path.read_text())
    verify_digest(parent, record.get("config_hash", ""))
    return list(record.get("lineage") or []) + [dict(
        classes=record.get("request_classes") or record["forget_classes"], run=record["name"],
        checkpoint=str(parent.resolve()))]


def write_results(metrics: Dict[str, float], cfg: Config, name: str,
                  wall_time_s: Optional[float] = None) -> Path:
    """Write ``<work_root>/results/<name>.json`` and a markdown row beside it.

    The record holds the metrics, the stage config's ``run_hash`` (``config_hash``) and
    :func:`hyperparameters`, so that a result is never mistaken for another run's.
    """
    path = results_path(cfg, name)
    record = dict(name=name, experiment=cfg.experiment, forget_classes=list(
        cfg.forget_classes) if not isinstance(cfg.forget_classes, (str, int))
        else [cfg.forget_classes], metrics=metrics, wall_time_s=wall_time_s,
        mia_convention=MIA_CONVENTION, device=device_name(),
        config=project_relative(getattr(cfg, "filename", None)), config_hash=cfg.get("run_hash"),
        hyperparameters=hyperparameters(cfg),
        request_classes=_as_list(cfg.get("request_classes") or cfg.forget_classes),
        lineage=[dict(step) for step in cfg.get("lineage") or []])
    write_json_atomic(path, record)
    write_text_atomic(path.with_suffix(".md"), markdown_table([record]))
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
