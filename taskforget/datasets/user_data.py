"""A user's own data as the package's batches.

Inside taskforget a batch is ``dict(inputs=(N, C, H, W) float, data_samples=dict(label=(N,)
or (N, H, W) long, uid=(N,) long, is_train=(N,) bool))``. :func:`as_batches` builds them from
what users hold: a map-style dataset or a ``DataLoader`` whose items are ``(image, label)`` /
``(image, mask)`` pairs, ``{'image': ..., 'label' | 'mask': ...}`` dicts, or the package's own
``{'inputs': ..., 'data_samples': {'label': ...}}`` items.

``uid`` numbers the samples by position (plus an offset that keeps splits apart): a dataset's
index, or a ``DataLoader``'s order of delivery within each pass (not stable when it shuffles).
"""
from collections.abc import Mapping
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, IterableDataset

from taskforget.errors import ConfigError, TaskforgetError

IMAGE_KEYS = ("inputs", "image", "img", "pixel_values")
LABEL_KEYS = ("label", "mask", "target", "labels", "gt_seg_map")


class DataFormatError(TaskforgetError, TypeError):
    """The data yields neither (image, label) pairs nor dicts with an image and a label."""


def _tensor(value, what: str, where: str) -> Tensor:
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (np.ndarray, int, np.integer, float)) and not isinstance(value, bool):
        return torch.as_tensor(value)
    raise DataFormatError(
        f"{where}: the {what} is a {type(value).__name__}, not a tensor; give tensors (e.g. "
        "torchvision's transforms.ToTensor() and Normalize in the dataset's transform)")


def split_item(item, where: str) -> Tuple[Tensor, Tensor]:
    """(image, label) tensors of one sample or one collated batch.

    Args:
        item: a 2-tuple/list, or a dict (see the module doc for the keys).
        where: names the item in errors.

    Returns:
        The image(s) as float and the label(s) (class ids, or a mask of class ids) as long.

    Raises:
        DataFormatError: neither a pair nor a dict with an image and a label.
    """
    if isinstance(item, Mapping):
        source = item.get("data_samples") if isinstance(item.get("data_samples"), Mapping) \
            else item
        image = next((item[k] for k in IMAGE_KEYS if k in item), None)
        label = next((source[k] for k in LABEL_KEYS if k in source), None)
        if image is None or label is None:
            raise DataFormatError(
                f"{where} is a dict with keys {sorted(map(str, item))}: it needs an image under "
                f"one of {IMAGE_KEYS} and a label under one of {LABEL_KEYS}")
    elif isinstance(item, (tuple, list)) and len(item) == 2:
        image, label = item
    else:
        shape = f"a {len(item)}-tuple" if isinstance(item, (tuple, list)) else \
            f"a {type(item).__name__}"
        raise DataFormatError(
            f"{where} is {shape}: the data must yield (image, label) or (image, mask) pairs, or "
            f"dicts with an image ({' | '.join(IMAGE_KEYS)}) and a label "
            f"({' | '.join(LABEL_KEYS)})")
    image, label = _tensor(image, "image", where), _tensor(label, "label", where)
    return (image if image.is_floating_point() else image.float()), label.long()


class _Samples(Dataset):
    """A map-style dataset whose items become the package's samples (uid = index + offset)."""

    def __init__(self, data, is_train: bool, uid_offset: int):
        self.data, self.is_train, self.uid_offset = data, is_train, uid_offset

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> dict:
        image, label = split_item(self.data[index], f"item {index}")
        return dict(inputs=image, data_samples=dict(
            label=label, uid=torch.tensor(self.uid_offset + index),
            is_train=torch.tensor(self.is_train)))


class _Batches:
    """A user's DataLoader whose batches become the package's (uid = position in the pass)."""

    def __init__(self, loader: DataLoader, is_train: bool, uid_offset: int):
        self.loader, self.is_train, self.uid_offset = loader, is_train, uid_offset
        self.dataset = loader.dataset

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self):
        seen = self.uid_offset
        for i, batch in enumerate(self.loader):
            inputs, labels = split_item(batch, f"batch {i}")
            if len(labels) != len(inputs):
                raise DataFormatError(f"batch {i} holds {len(inputs)} images but "
                                      f"{len(labels)} labels")
            n = len(inputs)
            yield dict(inputs=inputs, data_samples=dict(
                label=labels, uid=torch.arange(seen, seen + n),
                is_train=torch.full((n,), self.is_train)))
            seen += n


def as_batches(data, name: str, is_train: bool = True, batch_size: int = 128,
               shuffle: bool = False, uid_offset: int = 0,
               generator: Optional[torch.Generator] = None):
    """The package's batches from a user's dataset or DataLoader.

    Args:
        data: a map-style dataset (``len`` and integer indexing: a torchvision dataset, a
            ``TensorDataset``, a list of pairs) or a ``DataLoader`` (used as it is: its batch
            size, sampler and workers).
        name: the argument's name, for errors.
        is_train: the ``is_train`` flag of every sample (training vs test images).
        batch_size, shuffle, generator: of the loader built around a dataset.
        uid_offset: added to every uid.

    Returns:
        A ``DataLoader`` (for a dataset) or a wrapper of the given loader, yielding the
        package's batch dicts; both have ``len`` and ``.dataset``.

    Raises:
        DataFormatError: the data is neither, or empty.
    """
    if isinstance(data, DataLoader):
        return _Batches(data, is_train, uid_offset)
    if isinstance(data, IterableDataset) or not (hasattr(data, "__getitem__") and
                                                 hasattr(data, "__len__")):
        raise DataFormatError(
            f"{name} is a {type(data).__name__}: give a map-style dataset (len and indexing) "
            "or a torch DataLoader (wrap an iterable dataset in one)")
    if len(data) == 0:
        raise DataFormatError(f"{name} is empty")
    return DataLoader(_Samples(data, is_train, uid_offset), batch_size=batch_size,
                      shuffle=shuffle, generator=generator, num_workers=0)


def first_batch(batches) -> dict:
    """The first batch of :func:`as_batches`' output (raises for empty data)."""
    for batch in batches:
        return batch
    raise DataFormatError("the data yields no batch")


def class_names_of(*datas) -> Optional[Sequence[str]]:
    """The ``classes`` attribute (torchvision's ImageFolder, CIFAR...) of the first dataset
    that has one (a DataLoader's dataset counts), else None."""
    for data in datas:
        data = getattr(data, "dataset", data) if isinstance(data, DataLoader) else data
        classes = getattr(data, "classes", None)
        if isinstance(classes, Sequence) and not isinstance(classes, str) and classes and \
                all(isinstance(c, str) for c in classes):
            return tuple(classes)
    return None


def check_labels(labels: Tensor, num_classes: int, ignore_index: Optional[int], name: str):
    """Refuse class ids outside 0..K-1 (``ignore_index`` allowed for masks)."""
    bad = (labels < 0) | (labels >= num_classes)
    if ignore_index is not None:
        bad &= labels != ignore_index
    if bad.any():
        raise ConfigError(f"{name} holds label {int(labels[bad][0])}, outside the model's "
                          f"{num_classes} classes (0..{num_classes - 1})")
