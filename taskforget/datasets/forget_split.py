"""Which classes are forgotten, validated once, and which samples that selects."""
from typing import Iterable, List, Sequence, Tuple, Union

import numpy as np

ClassRef = Union[int, str]
SUBSETS = ("all", "forget", "remain")


class ForgetSplitError(ValueError):
    """The requested forget classes are not a valid choice for this dataset."""


def resolve_forget_classes(forget: Union[ClassRef, Iterable[ClassRef]],
                           class_names: Sequence[str]) -> Tuple[int, ...]:
    """Turn class names and/or ids into sorted unique class ids, refusing bad requests.

    Args:
        forget: a class name, a class id, or a sequence of them.
        class_names: the dataset's classes, index = class id.

    Returns:
        Sorted tuple of class ids.

    Raises:
        ForgetSplitError: empty request, unknown name, id out of range, or every class.
    """
    if isinstance(forget, (str, int, np.integer)):
        forget = [forget]
    forget = list(forget)
    num_classes = len(class_names)
    if not forget:
        raise ForgetSplitError(
            "no class to forget: set `forget_classes` to one or more class names or ids "
            f"(e.g. forget_classes=['{class_names[0]}'])")
    ids = set()
    for ref in forget:
        if isinstance(ref, str):
            if ref not in class_names:
                shown = ", ".join(class_names[:20]) + (" ..." if num_classes > 20 else "")
                raise ForgetSplitError(
                    f"unknown class name {ref!r}; this dataset's classes are: {shown}")
            ids.add(class_names.index(ref))
        elif isinstance(ref, (int, np.integer)) and not isinstance(ref, bool):
            if not 0 <= ref < num_classes:
                raise ForgetSplitError(
                    f"class id {ref} is out of range: valid ids are 0..{num_classes - 1}")
            ids.add(int(ref))
        else:
            raise ForgetSplitError(f"forget class {ref!r} must be a class name (str) or id (int)")
    if len(ids) == num_classes:
        raise ForgetSplitError(
            f"cannot forget every class ({num_classes} of {num_classes}): nothing would remain "
            "to keep. Forget a strict subset of the classes.")
    return tuple(sorted(ids))


def select_samples(labels: np.ndarray, forget_ids: Sequence[int], subset: str) -> np.ndarray:
    """Indices of the samples in ``subset``: 'all', 'forget' (label forgotten) or 'remain'.

    Args:
        labels: (N,) int class labels.
        forget_ids: resolved forgotten class ids.
        subset: one of 'all', 'forget', 'remain'.

    Returns:
        (M,) int64 indices into ``labels``.
    """
    if subset not in SUBSETS:
        raise ForgetSplitError(f"subset must be one of {SUBSETS}, got {subset!r}")
    labels = np.asarray(labels)
    if subset == "all":
        return np.arange(len(labels))
    is_forget = np.isin(labels, list(forget_ids))
    chosen = np.flatnonzero(is_forget if subset == "forget" else ~is_forget)
    if subset == "forget" and len(chosen) == 0:
        raise ForgetSplitError(
            f"the forget set is empty: no sample of class ids {list(forget_ids)} in this "
            "dataset split. Check `forget_classes` and the data root.")
    return chosen


def forget_class_list(forget_ids: Sequence[int], class_names: Sequence[str]) -> List[str]:
    """Human-readable names of the forgotten classes."""
    return [class_names[i] for i in forget_ids]
