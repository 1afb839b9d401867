"""Unlearn the config's forget classes from the original model with the config's method.

    python tools/forget.py configs/cls_cifar10_resnet20_cpu.py [--method random_label]
    # a later request: forget dog from the model that already forgot cat
    python tools/forget.py configs/cls_cifar10_resnet20_cpu.py --forget-classes dog \\
        --parent work_dirs/cls_cifar10_resnet20_cpu/delete_cat_seed0.pth
"""
from taskforget.cli import load_config, main_guard, parser, run_stage


@main_guard
def main():
    p = parser(__doc__)
    p.add_argument("--checkpoint", help="original model weights (default: the experiment's "
                                        "original.pth written by tools/train.py)")
    p.add_argument("--parent", help="continue a chain of requests from the weights an earlier "
                                    "forget run wrote: they are the teacher and the start, "
                                    "the masks and metrics cover every class forgotten so far, "
                                    "H-Mean compares with the first original")
    args = p.parse_args()
    run_stage(load_config(args), "forget", args.launcher, checkpoint=args.checkpoint,
              work_dir=args.work_dir, force=args.force)


if __name__ == "__main__":
    main()
