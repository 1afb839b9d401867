"""The relearn attack's lr rule (benchmarks/relearn_lr.py) on made-up attack results."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import relearn_lr  # noqa: E402


def test_the_largest_lr_that_leaves_the_original_a_classifier():
    # the CIFAR-10 CPU protocol's original on cat (relearn_lr.md): 1e-2 and 1e-3 collapse it
    shares = {1e-2: [3.8, 100.0, 100.0, 100.0], 1e-3: [3.8, 30.2, 59.8, 90.0],
              1e-4: [3.8, 5.6, 10.8, 26.8]}
    assert relearn_lr.choose(shares) == 1e-4
    # read after the last budget only: a share that passes 50 % on the way still collapses
    assert relearn_lr.choose({1e-3: [3.8, 60.0, 49.9], 1e-4: [3.8, 4.0, 5.0]}) == 1e-3
    assert relearn_lr.choose({1e-3: [3.8, 30.0, 50.0], 1e-4: [3.8, 4.0, 5.0]}) == 1e-4


def test_every_attacked_model_must_stay_a_classifier():
    # an original that already knows the class barely moves at 1e-2; the model that never
    # saw it collapses there, so the rule steps down to where both hold
    original = {1e-2: [7.7, 15.4, 30.8], 1e-3: [7.7, 7.7, 15.4], 1e-4: [7.7, 7.7, 7.7]}
    retrain = {1e-2: [0.0, 92.3, 100.0], 1e-3: [0.0, 38.5, 46.2], 1e-4: [0.0, 0.0, 0.0]}
    assert relearn_lr.choose(original) == 1e-2
    assert relearn_lr.choose(original, retrain) == 1e-3
    assert relearn_lr.choose(retrain, original) == 1e-3
    # only the lrs every model was attacked at count
    assert relearn_lr.choose(original, {1e-3: [0.0, 10.0], 1e-4: [0.0, 0.0]}) == 1e-3


def test_every_lr_collapsing_the_original_is_an_error():
    with pytest.raises(ValueError, match="try smaller ones"):
        relearn_lr.choose({1e-2: [3.8, 100.0], 1e-3: [3.8, 55.0]})
