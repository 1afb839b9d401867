"""The defense pipeline behind ``tools/defend.py``: detect, recover, unlearn, report.

Config keys (see ``configs/backdoor_cifar10_k3.py``):

    defense = dict(
        recover='baeraser',       # 'baeraser' | 'neural_cleanse' | None (no recovery: the
                                  # fine-tune / Fine-Pruning / NAD baselines)
        neural_cleanse=dict(...), # kwargs of recovery.neural_cleanse (also the detector)
        baeraser=dict(patch_size='auto', ...),  # kwargs of recovery.baeraser_recover
        nc_shift=False,           # stamp the Neural Cleanse trigger at random cyclic shifts
    )

Neural Cleanse always runs first when a trigger is to be recovered: it flags the target label
(MAD anomaly index > threshold with a below-median mask norm). BAERASER needs the target label:
it uses the flagged one, and ``patch_size='auto'`` sets its patch side from the flagged mask's
L1 norm (``max(3, ceil(sqrt(L1)))``): the defender knows neither the trigger nor its size.
No flagged label -> "no backdoor detected": the model is saved unchanged.
"""
import copy
import hashlib
import json
import math
import time
from pathlib import Path
from typing import Dict, Optional

import cv2
import numpy as np
import torch
from mmengine.config import Config

from taskforget.apis import checkpoint_path, config_hash, work_root
from taskforget.checkpoint import file_digest, load_weights, savez_atomic, write_json_atomic
from taskforget.registry import DATASETS, MODELS
from taskforget.request import compose_method

from .config import prepare_backdoor_config
from .poison import Trigger
from .recovery import Normalized, baeraser_recover, nc_asr, nc_trigger, neural_cleanse


def load_clean_holdout(cfg: Config):
    """The defender's clean held-out images: (N, 3, H, W) in [0, 1] and (N,) labels."""
    ds = DATASETS.build(cfg.defense_dataset)
    items = [ds[i] for i in range(len(ds))]
    images = torch.stack([it["inputs"] for it in items])
    labels = torch.tensor([it["data_samples"]["true_label"] for it in items])
    return images, labels


def pixel_model(cfg: Config, checkpoint: str) -> Normalized:
    """The network of ``cfg`` with ``checkpoint``'s weights, taking [0, 1] images."""
    network = load_weights(MODELS.build(cfg.model.network), checkpoint)
    return Normalized(network, cfg.normalize.mean, cfg.normalize.std).eval()


def save_trigger_png(trigger: Trigger, path: Path, count: int = 16, scale: int = 8) -> Path:
    """PNG of the trigger: up to ``count`` patches side by side, or mask | pattern | m*p."""
    if len(trigger.masks) > 1:
        tiles = [trigger.patterns[i] * trigger.masks[i][..., None]
                 for i in range(min(count, len(trigger.masks)))]
    else:
        m, p = trigger.masks[0][..., None], trigger.patterns[0]
        tiles = [np.repeat(m, 3, 2), p, m * p]
    pad = np.ones((tiles[0].shape[0], 1, 3), np.float32)
    row = np.concatenate(sum([[t, pad] for t in tiles], [])[:-1], 1)
    row = cv2.resize(row, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor((row * 255).round().astype(np.uint8), cv2.COLOR_RGB2BGR))
    return path


def _key(checkpoint: str, settings) -> Dict:
    stat = Path(checkpoint).stat()
    return dict(checkpoint=str(Path(checkpoint).resolve()), size=stat.st_size,
                mtime=stat.st_mtime, settings=json.dumps(settings, sort_keys=True, default=str))


def _cached(path: Path, key: Dict, reuse: bool) -> Optional[Dict]:
    if reuse and path.is_file():
        record = json.loads(path.read_text())
        if record.get("key") == key:
            return record
    return None


def detect_backdoor(cfg: Config, checkpoint: str, out_dir: Path, reuse: bool = True) -> Dict:
    """Neural Cleanse on every label; writes ``nc.npz`` (masks, patterns) and ``detect.json``
    (L1 norms, anomaly indexes, flagged label, time) in ``out_dir``, reused when the
    checkpoint file and settings are unchanged."""
    settings = cfg.defense.get("neural_cleanse", {})
    key = _key(checkpoint, settings)
    record = _cached(out_dir / "detect.json", key, reuse)
    if record is None:
        out_dir.mkdir(parents=True, exist_ok=True)
        model = pixel_model(cfg, checkpoint)
        images, _ = load_clean_holdout(cfg)
        start = time.perf_counter()
        nc = neural_cleanse(model, images, len(cfg.class_names), **settings)
        savez_atomic(out_dir / "nc.npz", masks=nc["masks"], patterns=nc["patterns"])
        flagged = nc["flagged"]
        record = dict(detector="neural_cleanse", l1=nc["l1"].round(3).tolist(),
                      anomaly_index=nc["anomaly_index"].round(3).tolist(), flagged=flagged,
                      flagged_name=None if flagged is None else cfg.class_names[flagged],
                      anomaly_threshold=settings.get("anomaly_threshold", 2.0),
                      holdout_images=len(images), detect_time_s=time.perf_counter() - start,
                      key=key)
        write_json_atomic(out_dir / "detect.json", record, indent=1)
    with np.load(out_dir / "nc.npz") as f:
        record["nc"] = dict(masks=f["masks"], patterns=f["patterns"], l1=np.array(record["l1"]))
    return record


def recover_trigger(cfg: Config, checkpoint: str, root: Path, reuse: bool = True) -> Dict:
    """Detect the backdoor (:func:`detect_backdoor`, in ``root/neural_cleanse``) and recover
    its trigger with ``cfg.defense.recover``; writes trigger.npz/.png/.json in
    ``root/<recover>``. Returns the report dict (``flagged`` None: no backdoor detected).
    Recoveries already on disk for the same checkpoint file and settings are reused.
    """
    defense = cfg.defense
    report = detect_backdoor(cfg, checkpoint, root / "neural_cleanse", reuse)
    nc = report.pop("nc")
    report.update(recover=defense.recover, recovery_time_s=report["detect_time_s"])
    flagged = report["flagged"]
    if flagged is None:
        return report
    shift = defense.recover == "neural_cleanse" and defense.get("nc_shift", False)
    out_dir = root / (defense.recover + ("_shift" if shift else ""))
    key = _key(checkpoint, {k: defense.get(k) for k in ("neural_cleanse", "baeraser")})
    cached = _cached(out_dir / "trigger.json", key, reuse)
    if cached is not None:
        return dict(report, **cached, recovery_time_s=report["detect_time_s"]
                    + cached["recover_time_s"])
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    model = pixel_model(cfg, checkpoint)
    images, labels = load_clean_holdout(cfg)
    start = time.perf_counter()
    record: Dict = dict(key=key)
    if defense.recover == "neural_cleanse":
        trigger = nc_trigger(nc, flagged, shift)
        record["recovered_asr"] = 100 * nc_asr(model, images, labels, nc, flagged)
    else:
        kwargs = dict(defense.get("baeraser", {}))
        if kwargs.get("patch_size", "auto") == "auto":
            kwargs["patch_size"] = max(3, math.ceil(math.sqrt(nc["l1"][flagged])))
        bae = baeraser_recover(model, images, flagged, labels=labels, **kwargs)
        trigger = bae["trigger"]
        record.update(recovered_asr=100 * bae["asr"], patch_size=kwargs["patch_size"],
                      mi=bae["mi"])
    record["trigger"] = str(trigger.save(out_dir / "trigger.npz"))
    record["trigger_png"] = str(save_trigger_png(trigger, out_dir / "trigger.png"))
    record["recover_time_s"] = time.perf_counter() - start
    write_json_atomic(out_dir / "trigger.json", record, indent=1)
    return dict(report, **record, recovery_time_s=report["detect_time_s"]
                + record["recover_time_s"])


def defense_hash(cfg: Config, checkpoint: str) -> str:
    """What a defense report depends on: the config's settings and the suspect's bytes."""
    return hashlib.sha256((config_hash(cfg) + file_digest(checkpoint)).encode()).hexdigest()


def run_defense(cfg: Config, checkpoint: str, work_dir: Optional[str] = None,
                name: Optional[str] = None, force: bool = False) -> Dict:
    """Recover (when configured) and unlearn; returns and writes a result record with ASR and
    clean Acc before (``*_original``) and after, and the wall times."""
    from taskforget.cli import run_stage

    # the defense's tuned setting first (compose_method), so what is set below stays set
    cfg = prepare_backdoor_config(compose_method(copy.deepcopy(cfg)))
    if work_dir is not None:
        cfg.work_root = work_dir
    name = name or cfg.get("defense_name") or cfg.model.type.lower()
    out_dir = work_root(cfg) / "defense" / name
    out_dir.mkdir(parents=True, exist_ok=True)
    report: Dict = dict(name=name, checkpoint=str(checkpoint),
                        settings_hash=defense_hash(cfg, checkpoint))
    if cfg.defense.get("recover"):
        report.update(recover_trigger(cfg, checkpoint, work_root(cfg) / "recovery"))
        if report["flagged"] is None:
            # nothing to unlearn: zero epochs, so the saved model is the input model
            cfg.forget.train_cfg.max_epochs = 0
            cfg.forget_dataloader.dataset.update(mode="clean", trigger=None)
            record = run_stage(cfg, "forget", checkpoint=str(checkpoint), name=name,
                               force=force)
            report.update(backdoor_detected=False, metrics=record["metrics"],
                          weights=str(checkpoint_path(cfg, "forget")))
            print(f"no backdoor detected: max anomaly index {max(report['anomaly_index']):.2f}"
                  f" <= {report['anomaly_threshold']} (or the anomalous norm is above the "
                  f"median); the model is left unchanged ({report['weights']})")
            return _write(report, out_dir)
        report["backdoor_detected"] = True
        cfg.forget_dataloader.dataset.trigger = report["trigger"]
        print(f"backdoor detected: target {report['flagged_name']} (anomaly index "
              f"{report['anomaly_index'][report['flagged']]:.2f}); recovered trigger "
              f"ASR on held-out {report['recovered_asr']:.1f}% -> {report['trigger_png']}")
    record = run_stage(cfg, "forget", checkpoint=str(checkpoint), name=name, force=force)
    report.update(metrics=record["metrics"], unlearn_time_s=record["wall_time_s"],
                  weights=str(checkpoint_path(cfg, "forget")), device=record.get("device"),
                  hyperparameters=record.get("hyperparameters"))
    report["total_time_s"] = (report.get("recovery_time_s") or 0) + (record["wall_time_s"] or 0)
    return _write(report, out_dir)


def _write(report: Dict, out_dir: Path) -> Dict:
    write_json_atomic(out_dir / "report.json", report)
    m = report.get("metrics", {})
    print(f"{report['name']}: ASR {m.get('ASR_original', float('nan')):.2f} -> "
          f"{m.get('ASR', float('nan')):.2f}  clean Acc {m.get('Acc_original', float('nan')):.2f}"
          f" -> {m.get('Acc', float('nan')):.2f}  (clean non-target images called the target: "
          f"{m.get('ASR_clean', float('nan')):.2f})  ({out_dir / 'report.json'})")
    return report
