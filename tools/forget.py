"""Unlearn the config's forget classes from the original model with the config's method.

    python tools/forget.py configs/cls_cifar10_resnet20_cpu.py [--checkpoint ORIGINAL.pth]
"""
from taskforget.cli import load_config, main_guard, parser, run_stage


@main_guard
def main():
    p = parser(__doc__)
    p.add_argument("--checkpoint", help="original model weights (default: the experiment's "
                                        "original.pth written by tools/train.py)")
    args = p.parse_args()
    run_stage(load_config(args), "forget", args.launcher, checkpoint=args.checkpoint,
              work_dir=args.work_dir, force=args.force)


if __name__ == "__main__":
    main()
