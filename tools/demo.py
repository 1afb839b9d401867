"""End-to-end demo: train (or reuse) the original and retrain models, forget with DELETE, and
print original / retrain / DELETE side by side.

    python tools/demo.py configs/demo_cifar10_cnn.py
"""
import json

from taskforget.apis import checkpoint_path, markdown_table, work_root
from taskforget.cli import load_config, parser, run_stage


def train_or_reuse(cfg, stage, launcher):
    """Reuse a model whose weights and results exist (delete work_dirs/ to retrain)."""
    results = work_root(cfg) / "results" / f"{checkpoint_path(cfg, stage).stem}.json"
    if checkpoint_path(cfg, stage).is_file() and results.is_file():
        print(f"[demo] reusing {checkpoint_path(cfg, stage)}")
        return json.loads(results.read_text())
    print(f"[demo] training the {stage} model")
    return run_stage(cfg, stage, launcher)


def main():
    args = parser(__doc__).parse_args()
    cfg = load_config(args)
    if args.work_dir:
        cfg.work_root = args.work_dir
    original = train_or_reuse(cfg, "original", args.launcher)
    retrain = train_or_reuse(cfg, "retrain", args.launcher)
    print("[demo] forgetting with DELETE")
    delete = run_stage(cfg, "forget", args.launcher)
    print("[demo] evaluating the retrain model beside the original")
    retrain_eval = run_stage(cfg, "test", args.launcher,
                             checkpoint=str(checkpoint_path(cfg, "retrain")), name="retrain_eval")
    original_metrics = {k.split("/", 1)[1]: v for k, v in delete["metrics"].items()
                        if k.startswith("original/")}
    table = markdown_table([
        dict(name="original", metrics=original_metrics, wall_time_s=original["wall_time_s"]),
        dict(name="retrain", metrics=retrain_eval["metrics"], wall_time_s=retrain["wall_time_s"]),
        dict(name="DELETE", metrics=delete["metrics"], wall_time_s=delete["wall_time_s"]),
    ])
    (work_root(cfg) / "results" / "demo.md").write_text(table)
    print("\n" + table)
    print("wall time: training (original, retrain) or unlearning (DELETE), evaluation excluded. "
          "MIA: DELETE's convention, % of D_f the attack calls 'member' (lower is better).")


if __name__ == "__main__":
    main()
