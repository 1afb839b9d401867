"""``taskforget <command> [args]`` and ``python -m taskforget <command> [args]``."""
import importlib
import sys

COMMANDS = {
    "train": ("train", "train the original model, or with --retrain the retrain model"),
    "forget": ("forget", "unlearn the forget classes with the config's (or --method) method"),
    "test": ("test", "evaluate a checkpoint beside the original model"),
    "audit": ("audit", "forgetting audit beside the retrain model: MIAs, relearn, probes"),
    "demo": ("demo", "original, retrain and DELETE end to end, one table"),
    "defend": ("defend", "find and remove a backdoor (trigger recovery, then unlearning)"),
    "poison": ("poison", "train a BadNets-poisoned model"),
    "face-eval": ("face_eval", "face checkpoints: metrics, per-identity accuracy, Grad-CAM"),
    "seg-overlay": ("seg_overlay", "segmentation overlay figure of checkpoints"),
    "configs": (None, "list the configs and method fragments that ship with taskforget"),
}


def _usage() -> str:
    lines = ["usage: taskforget <command> [args]   (taskforget <command> -h for its options)", "",
             "commands:"]
    lines += [f"  {name:<12} {text}" for name, (_, text) in COMMANDS.items()]
    return "\n".join(lines)


def _list_configs() -> None:
    from taskforget.request import CONFIG_ROOT, method_names
    print(f"configs ({CONFIG_ROOT}); pass a name or a path:")
    for path in sorted(CONFIG_ROOT.glob("*.py")):
        print(f"  {path.stem}")
    print("methods (--method NAME): " + ", ".join(method_names()))


def main(argv=None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print(_usage(), file=sys.stderr if argv and argv[0] not in ("-h", "--help") else
              sys.stdout)
        sys.exit(0 if argv and argv[0] in ("-h", "--help") else 2)
    module, _ = COMMANDS[argv[0]]
    if module is None:
        _list_configs()
        return
    sys.argv = [f"taskforget {argv[0]}", *argv[1:]]
    importlib.import_module(f"taskforget.commands.{module}").main()


if __name__ == "__main__":
    main()
