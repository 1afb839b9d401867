"""Which classes are forgotten, validated once, and which samples that selects."""
from typing import Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from taskforget.errors import ConfigError

ClassRef = Union[int, str]
SUBSETS = ("all", "forget", "remain")


class ForgetSplitError(ConfigError):
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


def check_class_names(declared: Optional[Sequence[str]], found: Sequence[str],
                      source: str) -> None:
    """Refuse a config whose ``class_names`` differ from the dataset's own classes.

    Args:
        declared: the config's class names (None: nothing to check).
        found: the dataset's classes, index = the label it gives (e.g. sorted folder names).
        source: where ``found`` comes from, named in the message.

    Raises:
        ForgetSplitError: another count, other names, or another order.
    """
    if declared is None:
        return
    declared, found = tuple(declared), tuple(found)
    if declared == found:
        return
    if len(declared) != len(found) or set(declared) != set(found):
        extra = sorted(set(declared) - set(found))[:5]
        missing = sorted(set(found) - set(declared))[:5]
        detail = (f"the config has {len(declared)} classes, {source} has {len(found)}"
                  + (f"; not in the data: {extra}" if extra else "")
                  + (f"; not in the config: {missing}" if missing else ""))
    else:
        i = next(i for i, (a, b) in enumerate(zip(declared, found)) if a != b)
        detail = (f"the order differs: class id {i} is {declared[i]!r} in the config but "
                  f"{found[i]!r} in {source}, so forget masks and scores would hit the wrong "
                  "class")
    shown = ", ".join(repr(n) for n in found[:20]) + (" ..." if len(found) > 20 else "")
    raise ForgetSplitError(f"config class_names do not match the dataset: {detail}. Set "
                           f"class_names to the dataset's classes in its order: ({shown})")


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
