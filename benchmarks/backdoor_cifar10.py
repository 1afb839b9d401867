"""Backdoor defense on real CIFAR-10 (the paper's Table S13 shape): every defense at the
setting selected on the 5x5 model, reported on the 3x3 and 7x7 models (issue #12 item 5):
ASR, clean Acc, H-Mean and wall time.

    python tools/poison.py configs/backdoor_cifar10_k5.py        # the tuning's poisoned model
    python benchmarks/tuning.py --protocol backdoor              # each defense's search on it
    python benchmarks/backdoor_cifar10.py [--sizes 3 7] [--methods bae_delete nad ...] [--seeds 2]

Resumable: the poisoned models (work_dirs/backdoor_cifar10_k{k}/original.pth), the recovered
triggers and each defense's report are cached and reused; delete them to recompute. The rows of
a size in ``backdoor_cifar10.json`` belong to one poisoned model (its digest): another one (a
rerun on another machine) starts that size's rows afresh. Writes
docs/results/backdoor/backdoor_cifar10.{md,json}, the recovered-trigger PNGs and Grad-CAM
figures of the poisoned vs the repaired (BAERASER + DELETE) model. ``BackdoorBench`` is the
tuning's view of a defense run.
"""
import argparse
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path
from typing import Optional, Tuple

import torch
from mmengine.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cls_cifar10 import schedule  # noqa: E402

from taskforget.apis import (  # noqa: E402
    build_stage_config,
    checkpoint_path,
    device_name,
    hyperparameters,
    work_root,
)
from taskforget.checkpoint import (  # noqa: E402
    file_digest,
    write_json_atomic,
    write_text_atomic,
)
from taskforget.cli import run_or_load  # noqa: E402
from taskforget.datasets.data_root import PROJECT_ROOT, project_relative  # noqa: E402
from taskforget.evaluation import h_mean  # noqa: E402
from taskforget.evaluation.tables import format_mean_std  # noqa: E402
from taskforget.ledger import Ledger  # noqa: E402
from taskforget.request import CONFIG_ROOT, compose_method  # noqa: E402
from taskforget.tasks.backdoor import BadNetsAttack, Trigger  # noqa: E402
from taskforget.tasks.backdoor.config import prepare_backdoor_config  # noqa: E402
from taskforget.tasks.backdoor.defense import (  # noqa: E402
    defense_hash,
    run_defense,
    save_trigger_png,
)
from taskforget.tasks.backdoor.figures import gradcam_figure  # noqa: E402

CONFIGS = CONFIG_ROOT
# the tuning's validation model (benchmarks/tuning.py --protocol backdoor) and the reported ones
VALIDATION_SIZE = 5
ORIGINAL_ROW = "Original (poisoned)"
REPORTED_SIZES = [3, 7]
# defense (its defense_name) -> (row, leaf config); DELETE rows first: they are the point of the
# benchmark. Each runs at its selected setting (configs/_base_/tuned/backdoor_cifar10.py).
DEFENSES = {
    "bae_delete": ("BAERASER + DELETE", "backdoor_cifar10_k3.py"),
    "nc_delete": ("NC + DELETE", "backdoor_cifar10_k3_nc.py"),
    "bae_ng": ("BAERASER + NG", "backdoor_cifar10_k3_ng.py"),
    "nc_ng": ("NC + NG", "backdoor_cifar10_k3_nc_ng.py"),
    "finetune": ("Fine-tune", "backdoor_cifar10_k3_finetune.py"),
    "fineprune": ("Fine-Pruning", "backdoor_cifar10_k3_fineprune.py"),
    "nad": ("NAD", "backdoor_cifar10_k3_nad.py"),
}


def experiment_overrides(k: int, poison_epochs: Optional[int]) -> dict:
    """Config overrides of trigger size ``k``; ``poison_epochs`` (None: the config's 8) trains
    the poisoned model longer, in its own work dir (``backdoor_cifar10_k{k}_e{epochs}``)."""
    overrides = {"attack.trigger_size": k, "experiment": f"backdoor_cifar10_k{k}"}
    if poison_epochs:
        overrides.update({
            "experiment": f"backdoor_cifar10_k{k}_e{poison_epochs}",
            "pretrain.train_cfg.max_epochs": poison_epochs,
            "pretrain.train_cfg.val_interval": poison_epochs,
            "pretrain.param_scheduler": [dict(type="OneCycleLR", eta_max=0.1, begin=0,
                                              end=poison_epochs, by_epoch=True,
                                              convert_to_iter_based=True)]})
    return overrides


def poisoned_model(k: int, poison_epochs: Optional[int] = None) -> dict:
    cfg = Config.fromfile(CONFIGS / "backdoor_cifar10_k3.py")
    cfg.merge_from_dict(experiment_overrides(k, poison_epochs))
    cfg = prepare_backdoor_config(cfg)
    root = work_root(cfg)
    BadNetsAttack(**cfg.attack).save(root / "attack.json")
    record = run_or_load(cfg, "original", name="poisoned")
    return dict(cfg=cfg, checkpoint=str(root / "original.pth"), metrics=record["metrics"],
                time=record["wall_time_s"])


def defense_config(k: int, defense: str, poison_epochs: Optional[int] = None,
                   **overrides) -> Config:
    """The defense's leaf config on the k x k poisoned model, with its selected setting
    composed first and then ``overrides``; a ``run_suffix`` there (a tuning point) extends the
    leaf's own suffix and defense name, so every point has its own runs."""
    cfg = compose_method(Config.fromfile(CONFIGS / DEFENSES[defense][1]))
    suffix = overrides.pop("run_suffix", "")
    cfg.merge_from_dict({**experiment_overrides(k, poison_epochs), **overrides})
    if suffix:
        cfg.run_suffix = cfg.get("run_suffix", "") + suffix
        cfg.defense_name = cfg.defense_name + suffix
    return prepare_backdoor_config(cfg)


def defend(cfg: Config, checkpoint: str, name: Optional[str] = None) -> dict:
    """The defense's report (read back when it was written for these settings and weights),
    under ``<work_root>/defense/<name>`` (default: the config's ``defense_name``)."""
    name = name or cfg.defense_name
    path = work_root(cfg) / "defense" / name / "report.json"
    report = json.loads(path.read_text()) if path.is_file() else {}
    if report.get("settings_hash") != defense_hash(cfg, checkpoint):
        return run_defense(cfg, checkpoint, name=name, force=True)
    return report


def seed_run_name(defense: str, seed: int) -> Optional[str]:
    """Where a seed's report lives: seed 0 under the defense's own name, seed s under
    ``<defense>_seed<s>`` (where ``tools/defend.py ... --name <defense>_seed<s> --cfg-options
    randomness.seed=<s>`` writes too; the tool's config also names the classes in each dataset,
    so its settings hash differs and the benchmark replaces such a report with its own run)."""
    return None if seed == 0 else f"{defense}_seed{seed}"


def selection_score(metrics: dict) -> float:
    """The tuning's H-Mean of a defense: clean Acc against the drop in ASR (the classification
    H-Mean with ASR in place of Acc_ft)."""
    return h_mean(metrics["Acc"], metrics["ASR_original"] - metrics["ASR"])


class BackdoorBench:
    """``config``/``unlearn`` of benchmarks/tuning.py on the backdoor protocol: a defense
    (``method``: its defense name) on the ``forget[0]`` x ``forget[0]`` poisoned model."""

    def __init__(self, args):
        self.args = args
        self.ledger = Ledger(Path(args.out) / "runs.jsonl")  # finished points, committed

    def config(self, method="bae_delete", seed=0, forget=(VALIDATION_SIZE,), **overrides):
        return defense_config(int(forget[0]), method, **{"randomness.seed": seed, **overrides})

    def lookup(self, cfg: Config) -> Tuple[str, Optional[str], Optional[dict]]:
        """(defense name, its settings hash, its record in the ledger or None); no hash while
        the poisoned model is missing."""
        poisoned = checkpoint_path(cfg, "original")
        if not poisoned.is_file():
            return cfg.defense_name, None, None
        key = defense_hash(cfg, str(poisoned))
        return cfg.defense_name, key, self.ledger.get(cfg.defense_name, key)

    def unlearn(self, cfg: Config) -> dict:
        name, key, record = self.lookup(cfg)
        if record is not None:
            return record
        try:
            report = defend(cfg, str(checkpoint_path(cfg, "original")))
            metrics = dict(report["metrics"], **{"H-Mean": selection_score(report["metrics"])})
            # the device and the precision (hyperparameters.optim_wrapper) name the machine
            record = dict(metrics=metrics, wall_time_s=report.get("total_time_s"),
                          device=report.get("device"),
                          hyperparameters=report.get("hyperparameters"))
        except FloatingPointError as exc:  # a NaN loss: a result (the point scores 0)
            record = dict(metrics={}, missing=f"{name} diverged ({exc})", device=device_name(),
                          hyperparameters=hyperparameters(build_stage_config(cfg, "forget")))
        self.ledger.put(name, key, record)
        return record


# The paper's Table S13 (ResNet-18, CIFAR-10, BadNets): size -> row -> (ASR, clean Acc); the
# paper's "Recovery" is BAERASER's, so its rows are this benchmark's BAERASER rows.
PAPER_S13 = {
    3: {ORIGINAL_ROW: (98.80, 83.81), "Fine-Pruning": (32.07, 77.96), "NAD": (4.24, 69.00),
        "Fine-tune": (9.52, 78.95), "BAERASER + NG": (7.96, 79.31),
        "BAERASER + DELETE": (1.00, 83.50)},
    5: {ORIGINAL_ROW: (97.99, 83.64), "Fine-Pruning": (37.41, 78.34), "NAD": (7.68, 69.25),
        "Fine-tune": (9.32, 78.51), "BAERASER + NG": (5.64, 79.59),
        "BAERASER + DELETE": (1.24, 83.07)},
    7: {ORIGINAL_ROW: (98.01, 82.89), "Fine-Pruning": (35.24, 76.29), "NAD": (8.95, 70.49),
        "Fine-tune": (10.77, 78.32), "BAERASER + NG": (4.66, 79.19),
        "BAERASER + DELETE": (1.66, 82.23)},
}


def versus_paper(results: dict, sizes) -> str:
    """Each defense's ASR, its clean-Acc change from the poisoned model and its H-Mean
    (:func:`selection_score`), beside the same from the paper's Table S13
    (:data:`PAPER_S13`), per trigger size."""
    lines = ["| defense | size | ASR | paper | Acc - poisoned's | paper | H-Mean | paper |",
             "|---|---|---|---|---|---|---|---|"]
    for k in sizes:
        rows, paper = results.get(str(k), {}), PAPER_S13.get(k, {})
        if ORIGINAL_ROW not in rows:
            continue
        poisoned, (paper_asr, paper_acc) = rows[ORIGINAL_ROW], paper[ORIGINAL_ROW]
        for name, _ in DEFENSES.values():
            if name in paper and name in rows:
                r, (asr, acc) = rows[name], paper[name]
                theirs = dict(Acc=acc, ASR=asr, ASR_original=paper_asr)
                lines.append(f"| {name} | {k}x{k} | {r['ASR']:.2f} | {asr:.2f} | "
                             f"{r['Acc'] - poisoned['Acc']:+.2f} | {acc - paper_acc:+.2f} | "
                             f"{selection_score(dict(r, ASR_original=poisoned['ASR'])):.2f} | "
                             f"{selection_score(theirs):.2f} |")
    return "\n".join(lines) + "\n"


def size_rows(results: dict, k: int, poisoned: dict, digest: str) -> dict:
    """The rows of size ``k`` in ``results``, started afresh unless they were made on the
    poisoned model of this ``digest`` (another machine or precision trains another one)."""
    rows = results.setdefault(str(k), {})
    if rows.get(ORIGINAL_ROW, {}).get("digest") != digest:
        rows.clear()
    rows[ORIGINAL_ROW] = dict(poisoned["metrics"], time=poisoned["time"], digest=digest)
    return rows


def table(results: dict, sizes) -> str:
    head = "| method | " + " | ".join(
        f"{k}x{k} ASR | {k}x{k} ASR_clean | {k}x{k} Acc | {k}x{k} H-Mean | {k}x{k} time (s)"
        for k in sizes) + " |"
    lines = [head, "|---|" + "---|---|---|---|---|" * len(sizes)]

    def fmt(value, digits=2):
        return "-" if value is None else f"{value:.{digits}f}"

    for row in [ORIGINAL_ROW, *(name for name, _ in DEFENSES.values())]:
        if not any(row in results.get(str(k), {}) for k in sizes):
            continue
        cells = []
        for k in sizes:
            r = results.get(str(k), {}).get(row)
            cells += (["-"] * 5 if r is None else
                      [fmt(r["ASR"]), fmt(r.get("ASR_clean")), fmt(r["Acc"]),
                       fmt(r.get("H-Mean")), fmt(r.get("time"), 0)])
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def spread(results: dict, sizes) -> str:
    """Each defense's ASR, clean Acc and H-Mean over its seeds (``rows[row]["seeds"]``): mean
    +- sample standard deviation, with the seed count, per trigger size; defenses in order of
    their mean H-Mean over the sizes. Empty when no row has more than one seed."""
    found = {name: [results.get(str(k), {}).get(name, {}).get("seeds", {}) for k in sizes]
             for name, _ in DEFENSES.values()}
    found = {name: per_size for name, per_size in found.items()
             if all(len(s) > 1 for s in per_size)}
    if not found:
        return ""

    def mean_h(name):
        return sum(sum(r["H-Mean"] for r in s.values()) / len(s) for s in found[name])

    lines = ["| defense | " + " | ".join(f"{k}x{k} ASR | {k}x{k} Acc | {k}x{k} H-Mean"
                                         for k in sizes) + " | seeds |",
             "|---|" + "---|---|---|" * len(sizes) + "---|"]
    for name in sorted(found, key=mean_h, reverse=True):
        cells = [format_mean_std([r[key] for r in s.values()])
                 for s in found[name] for key in ("ASR", "Acc", "H-Mean")]
        counts = sorted({len(s) for s in found[name]})
        lines.append(f"| {name} | " + " | ".join(cells) + " | "
                     + "/".join(map(str, counts)) + " |")
    return "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--sizes", type=int, nargs="+", default=REPORTED_SIZES,
                   help=f"trigger sizes (default {REPORTED_SIZES}; {VALIDATION_SIZE} is the "
                        "tuning's and is not reported)")
    p.add_argument("--methods", nargs="+", default=list(DEFENSES), choices=list(DEFENSES))
    p.add_argument("--out", default=str(CONFIG_ROOT.parent / "docs" / "results" / "backdoor"))
    p.add_argument("--seeds", type=int, default=2,
                   help="seeds 0..N-1 of every defense (seed s > 0 under <defense>_seed<s>); "
                        "the table reports seed 0 and, with N > 1, the spread over the seeds")
    p.add_argument("--poison-epochs", type=int, default=None,
                   help="train the poisoned models this many epochs instead of the config's "
                        "8 (own work dirs; files named backdoor_cifar10_e<N>.*)")
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    stem = "backdoor_cifar10" + (f"_e{args.poison_epochs}" if args.poison_epochs else "")
    tag = f"_e{args.poison_epochs}" if args.poison_epochs else ""
    results_path = out / f"{stem}.json"
    results = json.loads(results_path.read_text()) if results_path.is_file() else {}
    for k in args.sizes:
        poisoned = poisoned_model(k, args.poison_epochs)
        rows = size_rows(results, k, poisoned, file_digest(poisoned["checkpoint"])[:16])
        attack = BadNetsAttack(**poisoned["cfg"].attack)
        save_trigger_png(Trigger.from_attack(attack), out / f"trigger_k{k}{tag}_true.png")
        for defense in args.methods:
            row = DEFENSES[defense][0]
            seeds = rows.get(row, {}).get("seeds", {})  # kept across runs with fewer --seeds
            for seed in reversed(range(args.seeds)):  # seed 0 last: its report fills the row
                start = time.perf_counter()
                cfg = defense_config(k, defense, args.poison_epochs, **{"randomness.seed": seed})
                report = defend(cfg, poisoned["checkpoint"], seed_run_name(defense, seed))
                m = report["metrics"]
                seeds[str(seed)] = dict(ASR=m["ASR"], Acc=m["Acc"],
                                        **{"H-Mean": selection_score(m)})
            rows[row] = dict(ASR=m["ASR"], ASR_clean=m["ASR_clean"], Acc=m["Acc"],
                             **{"H-Mean": selection_score(m)}, schedule=schedule(cfg),
                             time=report.get("total_time_s"),
                             flagged=report.get("flagged"),
                             recovered_asr=report.get("recovered_asr"),
                             anomaly_index=report.get("anomaly_index"),
                             patch_size=report.get("patch_size"),
                             weights=project_relative(report["weights"]),
                             run_s=time.perf_counter() - start, seeds=seeds)
            if report.get("trigger_png"):
                shutil.copyfile(report["trigger_png"], out / (
                    f"trigger_k{k}{tag}_{report['recover']}.png"))
            rows[ORIGINAL_ROW]["ASR_clean"] = m["ASR_clean_original"]
            write_json_atomic(results_path, results)
        if "BAERASER + DELETE" in rows:
            gradcam_figure(poisoned["cfg"], [poisoned["checkpoint"],
                                             PROJECT_ROOT / rows["BAERASER + DELETE"]["weights"]],
                           ["poisoned", "BAERASER+DELETE"], out / f"gradcam_k{k}{tag}.png")
    machine = (f"{platform.machine()} CPU ({os.cpu_count()} cores), "
               f"{torch.get_num_threads()} thread, torch {torch.__version__}")
    schedules = "\n".join(
        f"- {row}: {results[str(args.sizes[0])].get(row, {}).get('schedule', '-')}"
        for row, _ in DEFENSES.values() if row in results.get(str(args.sizes[0]), {}))
    text = ("# Backdoor defense on CIFAR-10 (BadNets, 5% poisoned, target airplane)\n\n"
            "Command: `python benchmarks/backdoor_cifar10.py"
            + (f" --poison-epochs {args.poison_epochs}" if args.poison_epochs else "")
            + "` (each row is cached, so runs of parts with --sizes/--methods add up to this "
            f"table)  \nMachine: {machine}\n\n"
            f"Every defense at its setting selected on the {VALIDATION_SIZE}x{VALIDATION_SIZE} "
            "model (`python benchmarks/tuning.py --protocol backdoor`, "
            "[tuning.md](tuning.md)); H-Mean = harmonic mean of clean Acc and the drop in ASR. "
            "Schedules:\n\n" + schedules + "\n\n"
            + table(results, sorted(int(k) for k in results))
            + "\nBeside the paper's Table S13 (ResNet-18 trained to about 83.8 %; its "
            "\"Recovery\" is BAERASER's):\n\n"
            + versus_paper(results, sorted(int(k) for k in results)))
    seed_table = spread(results, sorted(int(k) for k in results))
    if seed_table:
        text += ("\nOver seeds (the defense's training reseeded; the same poisoned model and "
                 "recovered trigger): mean ± standard deviation, in order "
                 "of mean H-Mean over the sizes:\n\n" + seed_table)
    write_text_atomic(out / f"{stem}.md", text)
    print(text)


if __name__ == "__main__":
    main()
