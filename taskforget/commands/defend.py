"""Find and remove a backdoor from a model without knowing its trigger.

    python tools/defend.py configs/backdoor_cifar10_k3.py --checkpoint POISONED.pth

Uses only the defender's clean held-out images (``defense_dataset`` in the config). With
``defense.recover`` set, Neural Cleanse first looks for a backdoor (MAD anomaly index): none
found -> the model is reported and saved unchanged. Otherwise the trigger is recovered (the
config's method: 'baeraser' or 'neural_cleanse'; saved as trigger.npz / trigger.png /
trigger.json) and unlearned with the config's method (DELETE by default). The baselines
(configs/backdoor_cifar10_k3_{finetune,fineprune,nad}.py) skip recovery. Prints and writes
ASR and clean Acc before and after to ``<work_root>/defense/<name>/report.json``.
"""
from taskforget.cli import load_config, main_guard, parser
from taskforget.tasks.backdoor.defense import run_defense


@main_guard
def main():
    p = parser(__doc__)
    p.add_argument("--checkpoint", required=True, help="weights of the suspect (poisoned) model")
    p.add_argument("--name", help="name of this defense run (default: the config's "
                                   "defense_name or the method's name)")
    args = p.parse_args()
    run_defense(load_config(args), args.checkpoint, work_dir=args.work_dir, name=args.name,
                force=args.force)


if __name__ == "__main__":
    main()
