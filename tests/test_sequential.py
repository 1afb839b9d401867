"""Where the remaining images that sequential forgetting loses go (benchmarks/sequential.py),
on hand-made predictions. No model is trained."""
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import sequential  # noqa: E402

NAMES = ["cat", "dog", "deer", "horse"]


def test_lost_images_counts_right_before_and_wrong_after_by_true_and_predicted_class():
    labels = np.array([2, 2, 2, 2, 3, 3, 3, 0, 1])
    original = np.array([2, 2, 2, 3, 3, 3, 2, 0, 1])  # image 3 and 6: wrong already
    model = np.array([2, 3, 1, 1, 2, 3, 3, 2, 2])  # image 3 wrong before: not lost
    counts = sequential.lost_images(labels, original, model, remaining=[2, 3], num_classes=4)
    expected = np.zeros((4, 4), dtype=int)
    expected[2, 3] = 1  # deer -> horse
    expected[2, 1] = 1  # deer -> dog (a forgotten class)
    expected[3, 2] = 1  # horse -> deer
    # image 6 became right (gained, not lost); the forgotten classes' images are not counted
    np.testing.assert_array_equal(counts, expected)
    # nothing lost: a K x K table of zeros
    assert not sequential.lost_images(labels, labels, labels, [2, 3], num_classes=4).any()
    assert sequential.lost_images(labels, labels, labels, [2, 3], num_classes=4).shape == (4, 4)


def test_where_lost_reports_accuracies_lost_counts_and_destinations():
    labels = np.array([2] * 4 + [3] * 4)
    predictions = {"original": np.array([2, 2, 2, 2, 3, 3, 3, 0]),
                   "two requests": np.array([2, 1, 1, 3, 3, 3, 2, 0])}
    lines = sequential.where_lost(labels, predictions, NAMES, ["cat", "dog"])
    assert len(lines) == 2 + 2  # header, rule, one line per remaining class
    assert lines[2] == "| two requests | deer | 100.0 | 25.0 | 3 | 2 | dog 2, horse 1 |"
    assert lines[3] == "| two requests | horse | 75.0 | 50.0 | 1 | 0 | deer 1 |"
