"""benchmarks/class_drift.py on a tiny network with edits whose effect is known by hand."""
import copy
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import class_drift  # noqa: E402

from taskforget.tasks.classification.models import small_cnn  # noqa: E402


@pytest.fixture
def setup():
    torch.manual_seed(0)
    original = small_cnn(num_classes=3, width=4).eval()
    data = [dict(inputs=torch.randn(3, 8, 8), data_samples=dict(label=i % 3)) for i in range(12)]
    return original, data


def test_an_unchanged_model_moved_nowhere(setup):
    original, data = setup
    rows = class_drift.class_drift(original, copy.deepcopy(original), data)
    assert [r["cls"] for r in rows] == [0, 1, 2]
    for r in rows:
        assert r["acc_model"] == r["acc_original"]
        for key in ("drift", "logit", "from_features", "from_head", "head_row"):
            assert r[key] == pytest.approx(0.0, abs=1e-6)


def test_a_head_edit_is_told_from_a_feature_edit(setup):
    original, data = setup
    head_edit = copy.deepcopy(original)
    with torch.no_grad():
        head_edit.head.bias[1] -= 2.0  # class 1's logit 2 lower on every image
        head_edit.head.weight[1] *= 1.5
    rows = class_drift.class_drift(original, head_edit, data)
    assert rows[1]["from_features"] == pytest.approx(0.0, abs=1e-6)
    assert rows[1]["drift"] == pytest.approx(0.0, abs=1e-6)
    assert rows[1]["from_head"] == pytest.approx(rows[1]["logit"], abs=1e-5)
    assert rows[1]["head_row"] == pytest.approx(0.5, abs=1e-6)
    assert rows[0]["logit"] == pytest.approx(0.0, abs=1e-6)  # other rows untouched

    feature_edit = copy.deepcopy(original)
    with torch.no_grad():
        feature_edit.encoder[0].weight.mul_(-1.0)  # the first conv inverted: new features
    rows = class_drift.class_drift(original, feature_edit, data)
    for r in rows:
        assert r["drift"] > 1e-3 and r["head_row"] == 0.0
        assert r["from_head"] == pytest.approx(0.0, abs=1e-6)
        assert r["from_features"] == pytest.approx(r["logit"], abs=1e-5)


def test_the_table_names_classes_and_signs_changes(setup):
    original, data = setup
    edited = copy.deepcopy(original)
    with torch.no_grad():
        edited.head.bias[2] += 1.0
    text = class_drift.markdown(class_drift.class_drift(original, edited, data),
                                ["cat", "dog", "horse"])
    horse = next(line for line in text.splitlines() if line.startswith("| horse"))
    assert "| +1.000 | +0.000 | +1.000 |" in horse
