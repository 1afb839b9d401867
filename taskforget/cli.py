"""What the thin tools in tools/ share: arguments, config loading, running a stage."""
import argparse
import os
from typing import Optional

import torch
import torch.distributed as dist
from mmengine.config import Config, DictAction

from taskforget.apis import build_stage_config, markdown_table, write_results


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("config", help="experiment config, e.g. configs/cls_cifar10_resnet20_cpu.py")
    p.add_argument("--work-dir", help="experiment work root (default work_dirs/<experiment>)")
    p.add_argument("--cfg-options", nargs="+", action=DictAction,
                   help="override config keys, e.g. forget_classes=[0,1] forget.train_cfg."
                        "max_epochs=5")
    p.add_argument("--launcher", choices=["none", "pytorch", "slurm", "mpi"], default="none",
                   help="job launcher (pytorch = torchrun, mmengine DDP; gloo on CPU)")
    return p


def load_config(args) -> Config:
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    return cfg


def run_stage(cfg: Config, stage: str, launcher: str = "none", checkpoint: Optional[str] = None,
              work_dir: Optional[str] = None, resume: bool = False, name: Optional[str] = None):
    """Build the runner of ``stage``, train (unless 'test'), evaluate on the test loader and
    write ``<work_root>/results/<name>.json``. Returns ``dict(name, metrics, wall_time_s)``."""
    from mmengine.runner import Runner

    stage_cfg = build_stage_config(cfg, stage, checkpoint=checkpoint, work_dir=work_dir)
    stage_cfg.launcher = launcher
    if resume:
        # mmengine's own resume files hold non-tensor state; user weights never take this path.
        os.environ["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"] = "1"
        stage_cfg.resume = True
    if launcher == "pytorch" and not torch.cuda.is_available() and not dist.is_initialized():
        # mmengine's init_dist always calls torch.cuda.set_device; on CPU join the torchrun
        # group with gloo ourselves, which mmengine then uses as is.
        dist.init_process_group(backend="gloo")
    runner = Runner.from_cfg(stage_cfg)
    wall_time = None
    if stage != "test":
        runner.train()
        wall_time = runner.message_hub.get_info("train_time_s")
    record = dict(name=name or os.path.basename(stage_cfg.work_dir), metrics=runner.test(),
                  wall_time_s=wall_time)
    if runner.rank == 0:
        path = write_results(record["metrics"], stage_cfg, record["name"], wall_time)
        print(markdown_table([record]))
        print(f"results: {path}")
    if dist.is_initialized():
        # every rank waits for rank 0's files, then leaves the group cleanly (an open gloo
        # group can abort a process at interpreter exit)
        dist.barrier()
        dist.destroy_process_group()
    return record
