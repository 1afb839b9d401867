"""End-to-end demo: train (or reuse) the original and retrain models, forget with DELETE, and
print original / retrain / DELETE side by side.

    python tools/demo.py configs/demo_cifar10_cnn.py

Every stage is cached by the settings that made it: a second run with the same config reuses
the models and results, a changed config (epochs, lr, ...) runs the stages it changes again.
"""
from taskforget.apis import markdown_table, work_root
from taskforget.checkpoint import write_text_atomic
from taskforget.cli import load_config, main_guard, parser, run_or_load
from taskforget.evaluation.metrics import h_mean


@main_guard
def main():
    args = parser(__doc__).parse_args()
    cfg = load_config(args)
    print("[demo] original model (all classes)")
    original = run_or_load(cfg, "original", launcher=args.launcher)
    print("[demo] retrain model (without the forget classes)")
    retrain = run_or_load(cfg, "retrain", launcher=args.launcher)
    print("[demo] forgetting with DELETE")
    delete = run_or_load(cfg, "forget", launcher=args.launcher)
    # the retrain model's H-Mean from the two records (no second evaluation of the retrain model)
    retrain_metrics = dict(retrain["metrics"], **{"H-Mean": h_mean(
        retrain["metrics"]["Acc_rt"],
        original["metrics"]["Acc_ft"] - retrain["metrics"]["Acc_ft"])})
    table = markdown_table([
        dict(name="original", metrics=original["metrics"], wall_time_s=original["wall_time_s"]),
        dict(name="retrain", metrics=retrain_metrics, wall_time_s=retrain["wall_time_s"]),
        dict(name="DELETE", metrics=delete["metrics"], wall_time_s=delete["wall_time_s"]),
    ])
    write_text_atomic(work_root(cfg) / "results" / "demo.md", table)
    print("\n" + table)
    print("wall time: training (original, retrain) or unlearning (DELETE), evaluation excluded. "
          "MIA: DELETE's convention, % of D_f the attack calls 'member' (lower is better).")


if __name__ == "__main__":
    main()
