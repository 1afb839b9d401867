"""Evaluate any checkpoint (original, retrain, unlearned) beside the original model: Acc_f,
Acc_r, Acc_ft, Acc_rt, H-Mean, MIA; writes JSON and a markdown row under <work_root>/results.

    python tools/test.py configs/cls_cifar10_resnet20_cpu.py work_dirs/.../retrain_airplane.pth
"""
from pathlib import Path

from taskforget.cli import load_config, main_guard, parser, run_stage


@main_guard
def main():
    p = parser(__doc__)
    p.add_argument("checkpoint", help="weights to evaluate")
    p.add_argument("--name", help="row name in the results (default: <checkpoint stem>_test)")
    args = p.parse_args()
    run_stage(load_config(args), "test", args.launcher, checkpoint=args.checkpoint,
              work_dir=args.work_dir, name=args.name or f"{Path(args.checkpoint).stem}_test",
              force=args.force)


if __name__ == "__main__":
    main()
