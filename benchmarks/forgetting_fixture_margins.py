"""Re-measure the margins `tests/test_forgetting.py` asserts, for one seed and thread count.

Runs the test file's own stages on its `tiny_config` (the original, DELETE on airplane, on
airplane + ship, on cat then dog) with the run seed given, and prints one JSON line with the
numbers its assertions compare. Run it for every seed and thread count the thresholds should
cover, e.g. (2026-12-08: seeds 0-3 at one thread, 0 and 2 at two)::

    for s in 0 1 2 3; do
        OMP_NUM_THREADS=1 python benchmarks/forgetting_fixture_margins.py --seed $s; done
    for s in 0 2; do
        OMP_NUM_THREADS=2 python benchmarks/forgetting_fixture_margins.py --seed $s; done

About 80 s per seed on one core.
"""
import argparse
import json
import sys
import tempfile
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from test_forgetting import PAIR, PAIR_FORGET_EPOCHS, tiny_config  # noqa: E402

from taskforget.apis import checkpoint_path  # noqa: E402
from taskforget.cli import run_stage  # noqa: E402
from taskforget.request import ForgetRequest  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=0, help="the runs' seed (randomness.seed)")
    args = p.parse_args(argv)
    torch.manual_seed(0)  # as the suite's autouse fixture
    with tempfile.TemporaryDirectory() as work:
        cfg = tiny_config(work, **{"randomness.seed": args.seed})
        original = run_stage(cfg, "original")["metrics"]
        one = run_stage(cfg, "forget")["metrics"]
        pair = cfg.copy()
        pair.forget_classes = PAIR
        pair.merge_from_dict({"forget.train_cfg.max_epochs": PAIR_FORGET_EPOCHS})
        two = run_stage(pair, "forget")["metrics"]
        cat = ForgetRequest(cfg, ["cat"]).config()
        first = run_stage(cat, "forget")["metrics"]
        dog = ForgetRequest(cfg, ["dog"], parent=str(checkpoint_path(cat, "forget"))).config()
        second = run_stage(dog, "forget")["metrics"]
    print(json.dumps(dict(
        seed=args.seed, threads=torch.get_num_threads(),
        original_Acc_ft=original["Acc_ft"], original_Acc_rt=original["Acc_rt"],
        Acc_ft=one["Acc_ft"], Acc_rt_drop=one["original/Acc_rt"] - one["Acc_rt"],
        pair_Acc_ft=two["Acc_ft"], pair_Acc_rt_drop=two["original/Acc_rt"] - two["Acc_rt"],
        cat_Acc_ft=first["Acc_ft"], cat_dog_Acc_ft=second["Acc_ft"],
        cat_dog_original_Acc_ft=second["original/Acc_ft"])))


if __name__ == "__main__":
    main()
