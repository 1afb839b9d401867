"""Train the original model of an experiment, or with --retrain the gold-standard model
trained without the forget classes.

    python tools/train.py configs/cls_cifar10_resnet20_cpu.py [--retrain]
"""
from taskforget.cli import load_config, main_guard, parser, run_stage


@main_guard
def main():
    p = parser(__doc__)
    p.add_argument("--retrain", action="store_true",
                   help="train without the forget classes (the retrain baseline)")
    p.add_argument("--resume", action="store_true", help="resume from the latest checkpoint")
    args = p.parse_args()
    run_stage(load_config(args), "retrain" if args.retrain else "original", args.launcher,
              work_dir=args.work_dir, resume=args.resume,
              force=args.force)


if __name__ == "__main__":
    main()
