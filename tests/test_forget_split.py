import numpy as np
import pytest

from taskforget.datasets import ForgetSplitError, resolve_forget_classes, select_samples

CLASSES = ("airplane", "automobile", "bird")


def test_names_and_ids_resolve_to_sorted_unique_ids():
    assert resolve_forget_classes("bird", CLASSES) == (2,)
    assert resolve_forget_classes(["bird", 0, "airplane"], CLASSES) == (0, 2)


@pytest.mark.parametrize("forget, message", [
    ("plane", "unknown class name 'plane'.*airplane, automobile, bird"),
    (3, "class id 3 is out of range: valid ids are 0..2"),
    (-1, "out of range"),
    ([], "no class to forget"),
    ([0, 1, 2], "cannot forget every class"),
    ([1.5], "must be a class name"),
])
def test_bad_requests_are_refused_clearly(forget, message):
    with pytest.raises(ForgetSplitError, match=message):
        resolve_forget_classes(forget, CLASSES)


def test_subsets_partition_the_samples():
    labels = np.array([0, 1, 2, 0, 2])
    assert select_samples(labels, (0,), "forget").tolist() == [0, 3]
    assert select_samples(labels, (0,), "remain").tolist() == [1, 2, 4]
    assert select_samples(labels, (0,), "all").tolist() == [0, 1, 2, 3, 4]


def test_an_empty_forget_set_is_refused():
    with pytest.raises(ForgetSplitError, match="forget set is empty"):
        select_samples(np.array([1, 2]), (0,), "forget")
