"""Speed of DELETE against plain fine-tuning and against retraining, measured in one run.

1. Step time: DELETE (teacher logits cached) vs cross-entropy fine-tuning, same model, same
   forget batches, same optimizer; interleaved repeats, ratio of medians (target <= 1.05).
2. Unlearning vs retraining wall time on the same protocol: a full DELETE run (tools/forget.py's
   stage, evaluation excluded) against the retraining schedule's time, extrapolated from timed
   retraining iterations measured in this same run (target <= 1/50).

DELETE runs the protocol config's own schedule as composed (``compose_method``: the method
fragment, then ``method_settings.delete``, which the CPU protocol inherits from the tuning's
configs/_base_/tuned/), so the ratio is measured at the tuned lr, epochs and batch-norm mode.

    python benchmarks/speed.py configs/cls_cifar10_resnet20_cpu.py --out docs/results/speed.md
"""
import argparse
import copy
import platform
import statistics
import time
from pathlib import Path

import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from taskforget.apis import build_stage_config, checkpoint_path
from taskforget.checkpoint import write_text_atomic
from taskforget.cli import run_stage
from taskforget.registry import MODELS
from taskforget.request import compose_method


def _time_steps(model, optim_wrapper, batches) -> float:
    model.train()
    start = time.perf_counter()
    for batch in batches:
        model.train_step(batch, optim_wrapper)
    return time.perf_counter() - start


def step_time_ratio(cfg: Config, num_batches: int, repeats: int) -> dict:
    stage = build_stage_config(cfg, "forget")
    if not Path(stage.model.original_checkpoint).is_file():
        stage.model.original_checkpoint = None  # speed does not depend on the weights
    delete = MODELS.build(stage.model)
    delete.cache_teacher_logits = True
    finetune = MODELS.build(dict(type="SupervisedModel", network=copy.deepcopy(stage.model.network),
                                 adapter=stage.model.adapter))
    finetune.network.load_state_dict(delete.student.state_dict())
    loader = Runner.build_dataloader(stage.train_dataloader)
    batches = [b for _, b in zip(range(num_batches), loader)]
    wrappers = {name: build_optim_wrapper(m, copy.deepcopy(stage.optim_wrapper))
                for name, m in (("delete", delete), ("finetune", finetune))}
    _time_steps(delete, wrappers["delete"], batches)  # fills the teacher cache, warms up
    _time_steps(finetune, wrappers["finetune"], batches)
    times = {"delete": [], "finetune": []}
    for _ in range(repeats):
        for name, model in (("delete", delete), ("finetune", finetune)):
            times[name].append(_time_steps(model, wrappers[name], batches) / len(batches))
    d, f = statistics.median(times["delete"]), statistics.median(times["finetune"])
    return dict(delete_step_s=d, finetune_step_s=f, ratio=d / f,
                batch_size=stage.train_dataloader.batch_size, batches=len(batches),
                repeats=repeats)


def retrain_time(cfg: Config, iterations: int) -> dict:
    stage = build_stage_config(cfg, "retrain")
    model = MODELS.build(stage.model)
    loader = Runner.build_dataloader(stage.train_dataloader)
    optim_wrapper = build_optim_wrapper(model, copy.deepcopy(stage.optim_wrapper))
    batches = iter(loader)
    _time_steps(model, optim_wrapper, [next(batches) for _ in range(3)])
    start, n = time.perf_counter(), 0
    for batch in batches:  # data loading and augmentation included, as in training
        model.train_step(batch, optim_wrapper)
        n += 1
        if n == iterations:
            break
    per_iter = (time.perf_counter() - start) / n
    total_iters = len(loader) * stage.train_cfg.max_epochs
    return dict(per_iter_s=per_iter, measured_iters=n, schedule_iters=total_iters,
                retrain_s=per_iter * total_iters)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("config")
    p.add_argument("--batches", type=int, default=10)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--retrain-iters", type=int, default=60)
    p.add_argument("--out", default="docs/results/speed.md")
    args = p.parse_args()
    cfg = compose_method(Config.fromfile(args.config), "delete")  # its tuned schedule
    # evaluate once, after unlearning (the wall time excludes evaluation either way)
    cfg.merge_from_dict({"forget.train_cfg.val_interval": 10_000})
    init_default_scope(cfg.default_scope)
    opt = cfg.forget.optim_wrapper.optimizer
    schedule = (f"{cfg.forget.train_cfg.max_epochs} epochs {opt.type} lr {opt.lr:.1e}, batch "
                f"norm {'eval' if cfg.model.get('norm_eval') else 'train'}")
    print(f"DELETE schedule (the protocol's, as tuned): {schedule}")
    steps = step_time_ratio(cfg, args.batches, args.repeats)
    print(f"step time: DELETE {steps['delete_step_s'] * 1e3:.1f} ms, fine-tune "
          f"{steps['finetune_step_s'] * 1e3:.1f} ms, ratio {steps['ratio']:.3f}")
    if not checkpoint_path(cfg, "original").is_file():
        raise SystemExit(f"{checkpoint_path(cfg, 'original')} missing: run tools/train.py "
                         f"{args.config} first for the wall-time comparison")
    unlearn_s = run_stage(cfg, "forget")["wall_time_s"]
    retrain = retrain_time(cfg, args.retrain_iters)
    ratio = unlearn_s / retrain["retrain_s"]
    machine = (f"{platform.machine()}, {torch.get_num_threads()} torch threads, "
               + (torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU"))
    rows = [
        (f"DELETE step (cached teacher logits), batch {steps['batch_size']}",
         f"{steps['delete_step_s'] * 1e3:.1f} ms", ""),
        ("cross-entropy fine-tune step, same batches", f"{steps['finetune_step_s'] * 1e3:.1f} ms",
         ""),
        ("**step time ratio DELETE / fine-tune**", f"**{steps['ratio']:.3f}**", "<= 1.05"),
        (f"DELETE unlearning wall time (full run at the tuned schedule: {schedule}; evaluation "
         "excluded)", f"{unlearn_s:.1f} s", ""),
        (f"retraining wall time ({retrain['schedule_iters']} iterations, extrapolated from "
         f"{retrain['measured_iters']} timed in this run)", f"{retrain['retrain_s']:.0f} s", ""),
        ("**unlearning / retraining**", f"**1/{1 / ratio:.0f}** ({ratio:.4f})", "<= 1/50"),
    ]
    report = "\n".join([
        "# Speed: DELETE vs fine-tuning and vs retraining", "",
        f"Command: `python benchmarks/speed.py {args.config}` ({time.strftime('%Y-%m-%d')}, "
        f"{machine}).", "",
        "| measure | value | target |", "|---|---|---|",
        *[f"| {a} | {b} | {c} |" for a, b, c in rows], "",
        f"Step times are medians of {steps['repeats']} interleaved repeats over "
        f"{steps['batches']} forget batches. The machine is shared and noisy; compare the "
        "ratios, not the absolute times.", ""])
    write_text_atomic(args.out, report)
    print(report)


if __name__ == "__main__":
    main()
