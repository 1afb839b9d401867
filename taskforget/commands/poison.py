"""Train a BadNets-poisoned model (the attack the backdoor defense is tested on).

    python tools/poison.py configs/backdoor_cifar10_k3.py

Writes ``<work_root>/original.pth`` (the poisoned model), ``<work_root>/attack.json`` (trigger
values, size, target, poison rate, seed: for evaluation only, the defense never reads it) and
the poisoned model's clean Acc and ASR under ``<work_root>/results/``.
"""
from taskforget.apis import work_root
from taskforget.cli import load_config, main_guard, parser, run_stage
from taskforget.tasks.backdoor import BadNetsAttack
from taskforget.tasks.backdoor.config import prepare_backdoor_config


@main_guard
def main():
    p = parser(__doc__)
    p.add_argument("--resume", action="store_true", help="resume from the latest checkpoint")
    args = p.parse_args()
    cfg = prepare_backdoor_config(load_config(args))
    if args.work_dir:
        cfg.work_root = args.work_dir
    path = BadNetsAttack(**cfg.attack).save(work_root(cfg) / "attack.json")
    print(f"attack settings: {path}")
    run_stage(cfg, "original", args.launcher, work_dir=args.work_dir, resume=args.resume,
              name="poisoned", force=args.force)


if __name__ == "__main__":
    main()
