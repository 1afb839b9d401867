"""Backdoor defense on real CIFAR-10 (the paper's Table S13 shape): for each trigger size,
the poisoned model and every defense's ASR, clean Acc and wall time.

    python benchmarks/backdoor_cifar10.py [--sizes 3 5 7] [--methods ...]

Resumable: the poisoned models (work_dirs/backdoor_cifar10_k{k}/original.pth), the recovered
triggers and each defense's report are cached and reused; delete them to recompute. Writes
docs/results/backdoor/backdoor_cifar10.{md,json}, the recovered-trigger PNGs and Grad-CAM
figures of the poisoned vs the repaired (BAERASER + DELETE) model.
"""
import argparse
import json
import os
import platform
import shutil
import time
from pathlib import Path

import torch
from mmengine.config import Config

from taskforget.apis import work_root
from taskforget.cli import run_stage
from taskforget.datasets.data_root import PROJECT_ROOT
from taskforget.tasks.backdoor import BadNetsAttack, Trigger
from taskforget.tasks.backdoor.config import prepare_backdoor_config
from taskforget.tasks.backdoor.defense import run_defense, save_trigger_png
from taskforget.tasks.backdoor.figures import gradcam_figure

CONFIGS = PROJECT_ROOT / "configs"
# row -> (leaf config, overrides); DELETE rows first: they are the point of the benchmark.
METHODS = {
    "BAERASER + DELETE": ("backdoor_cifar10_k3.py", {}),
    "NC + DELETE": ("backdoor_cifar10_k3_nc.py", {}),
    "BAERASER + NG": ("backdoor_cifar10_k3_ng.py", {}),
    "NC + NG": ("backdoor_cifar10_k3_ng.py", {"defense.recover": "neural_cleanse",
                                              "defense_name": "nc_ng", "run_suffix": "_nc"}),
    # DELETE with twice the unlearning epochs (8 instead of 4)
    "BAERASER + DELETE (8 ep)": ("backdoor_cifar10_k3.py", {
        "forget.train_cfg.max_epochs": 8, "defense_name": "bae_delete_8ep",
        "run_suffix": "_8ep"}),
    "NC + DELETE (8 ep)": ("backdoor_cifar10_k3_nc.py", {
        "forget.train_cfg.max_epochs": 8, "defense_name": "nc_delete_8ep",
        "run_suffix": "_nc8ep"}),
    # half the lr for the same 8 epochs (lower lr x more steps kept more clean accuracy in the
    # classification runs)
    "NC + DELETE (lr 5e-3, 8 ep)": ("backdoor_cifar10_k3_nc.py", {
        "forget.train_cfg.max_epochs": 8, "forget.optim_wrapper.optimizer.lr": 5e-3,
        "defense_name": "nc_delete_lr5e-3_8ep", "run_suffix": "_nc_lr5e-3_8ep"}),
    # batch-norm statistics kept at the poisoned model's (core option norm_eval)
    "NC + DELETE (norm_eval)": ("backdoor_cifar10_k3_nc.py", {
        "model.norm_eval": True, "defense_name": "nc_delete_normeval",
        "run_suffix": "_nc_normeval"}),
    "Fine-tune": ("backdoor_cifar10_k3_finetune.py", {}),
    "Fine-Pruning": ("backdoor_cifar10_k3_fineprune.py", {}),
    "NAD": ("backdoor_cifar10_k3_nad.py", {}),
}


def poisoned_model(k: int) -> dict:
    cfg = prepare_backdoor_config(Config.fromfile(CONFIGS / f"backdoor_cifar10_k{k}.py"))
    root = work_root(cfg)
    results = root / "results" / "poisoned.json"
    if not (root / "original.pth").is_file() or not results.is_file():
        BadNetsAttack(**cfg.attack).save(root / "attack.json")
        run_stage(cfg, "original", name="poisoned")
    record = json.loads(results.read_text())
    return dict(cfg=cfg, checkpoint=str(root / "original.pth"), metrics=record["metrics"],
                time=record["wall_time_s"])


def defend(k: int, row: str, checkpoint: str) -> dict:
    leaf, overrides = METHODS[row]
    cfg = Config.fromfile(CONFIGS / leaf)
    cfg.merge_from_dict({"attack.trigger_size": k, "experiment": f"backdoor_cifar10_k{k}",
                         **overrides})
    cfg = prepare_backdoor_config(cfg)
    report = work_root(cfg) / "defense" / cfg.defense_name / "report.json"
    if report.is_file():
        return json.loads(report.read_text())
    return run_defense(cfg, checkpoint)


def table(results: dict, sizes) -> str:
    head = "| method | " + " | ".join(f"{k}x{k} ASR | {k}x{k} Acc | {k}x{k} time (s)"
                                      for k in sizes) + " |"
    lines = [head, "|---|" + "---|---|---|" * len(sizes)]
    for row in ["Original (poisoned)", *METHODS]:
        cells = []
        for k in sizes:
            r = results.get(str(k), {}).get(row)
            cells += (["-"] * 3 if r is None else
                      [f"{r['ASR']:.2f}", f"{r['Acc']:.2f}",
                       "-" if r.get("time") is None else f"{r['time']:.0f}"])
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--sizes", type=int, nargs="+", default=[3, 5, 7])
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    p.add_argument("--out", default=str(PROJECT_ROOT / "docs" / "results" / "backdoor"))
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    results_path = out / "backdoor_cifar10.json"
    results = json.loads(results_path.read_text()) if results_path.is_file() else {}
    for k in args.sizes:
        poisoned = poisoned_model(k)
        rows = results.setdefault(str(k), {})
        rows["Original (poisoned)"] = dict(poisoned["metrics"], time=poisoned["time"])
        attack = BadNetsAttack(**poisoned["cfg"].attack)
        save_trigger_png(Trigger.from_attack(attack), out / f"trigger_k{k}_true.png")
        for row in args.methods:
            start = time.perf_counter()
            report = defend(k, row, poisoned["checkpoint"])
            m = report["metrics"]
            rows[row] = dict(ASR=m["ASR"], Acc=m["Acc"], time=report.get("total_time_s"),
                             flagged=report.get("flagged"),
                             recovered_asr=report.get("recovered_asr"),
                             anomaly_index=report.get("anomaly_index"),
                             patch_size=report.get("patch_size"), weights=report["weights"],
                             run_s=time.perf_counter() - start)
            if report.get("trigger_png"):
                shutil.copyfile(report["trigger_png"], out / (
                    f"trigger_k{k}_{report['recover']}.png"))
            results_path.write_text(json.dumps(results, indent=1))
        if "BAERASER + DELETE" in rows:
            gradcam_figure(poisoned["cfg"], [poisoned["checkpoint"],
                                             rows["BAERASER + DELETE"]["weights"]],
                           ["poisoned", "BAERASER+DELETE"], out / f"gradcam_k{k}.png")
    machine = (f"{platform.machine()} CPU ({os.cpu_count()} cores shared with other jobs), "
               f"{torch.get_num_threads()} thread, torch {torch.__version__}")
    text = ("# Backdoor defense on CIFAR-10 (BadNets, 5% poisoned, target airplane)\n\n"
            "Command: `python benchmarks/backdoor_cifar10.py` (every size and defense; each "
            "row is cached, so runs of parts with --sizes/--methods add up to this table)  \n"
            f"Machine: {machine}\n\n"
            + table(results, sorted(int(k) for k in results)))
    (out / "backdoor_cifar10.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
