"""Classification datasets with a forget split: image folder, CIFAR-10/100, Tiny ImageNet."""
import os
from functools import lru_cache
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from taskforget.datasets import (
    build_pipeline,
    check_class_names,
    is_random_pipeline,
    resolve_forget_classes,
    select_samples,
)
from taskforget.datasets.data_root import resolve_data_root
from taskforget.errors import ConfigError, DataError
from taskforget.registry import DATASETS

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
Splits = Union[str, Sequence[str]]
UID_STRIDE = 1 << 32  # uid = position in the full split, offset for non-train splits


def read_image(path: Union[str, Path], grayscale_to_rgb: bool = True) -> np.ndarray:
    """Read an image file as (H, W, 3) uint8 RGB; a clear error for unreadable files."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise OSError(f"cannot decode image {path}: the file is missing or corrupted")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


@lru_cache(maxsize=None)
def _read_cached(path: str) -> np.ndarray:
    return read_image(path)


def _decode_all(paths: Sequence[str]) -> np.ndarray:
    """Decode small same-size images into one (N, H, W, 3) uint8 array; each file is decoded
    once per process (a dataset is built for every stage and loader)."""
    from tqdm import tqdm
    return np.stack([_read_cached(p) for p in tqdm(
        paths, desc=f"decoding {len(paths)} images", unit="img", mininterval=2.0,
        disable=len(paths) < 5000, leave=False)])


class ClassificationDataset(Dataset):
    """Base: labelled images, a forget split, and an albumentations pipeline.

    Subclasses implement :meth:`load_split` returning (images, labels) where images is an
    (N, H, W, 3) uint8 array or a list of file paths.

    Args:
        split: 'train', 'test' or both (['train', 'test']); each sample is tagged ``is_train``.
        forget_classes: class names and/or ids that are forgotten.
        subset: 'all', 'forget' (D_f / D_ft) or 'remain' (D_r / D_rt; also the retrain set).
        pipeline: list of albumentations transform dicts (see ``build_pipeline``).
        max_per_class: keep at most this many samples per class and split (seeded), for fast
            evaluation and tests; None keeps all.
        seed: seed of the ``max_per_class`` draw.
        class_names: the experiment config's classes, checked against the dataset's own
            (same names, same order); None skips the check.

    Each item is ``dict(inputs=(3, H, W) float tensor, data_samples=dict(label, uid,
    is_train))``; ``uid`` identifies the image whatever subset or subsample holds it (the
    teacher's outputs are cached by it).
    """

    class_names: Tuple[str, ...] = ()

    def __init__(self, split: Splits = "train", forget_classes=(), subset: str = "all",
                 pipeline: Optional[Sequence[dict]] = None, max_per_class: Optional[int] = None,
                 seed: int = 0, class_names: Optional[Sequence[str]] = None):
        check_class_names(class_names, self.class_names, f"{type(self).__name__} "
                          f"{getattr(self, 'root', '')}".strip())
        splits = [split] if isinstance(split, str) else list(split)
        images, labels, is_train, uids = [], [], [], []
        for name in splits:
            split_images, split_labels = self.load_split(name)
            split_labels = np.asarray(split_labels, dtype=np.int64)
            keep = self._subsample(split_labels, max_per_class, seed)
            images.append(split_images[keep] if isinstance(split_images, np.ndarray)
                          else [split_images[i] for i in keep])
            labels.append(split_labels[keep])
            is_train.append(np.full(len(keep), name == "train"))
            uids.append(keep + (UID_STRIDE if name != "train" else 0))
        requested = forget_classes not in (None, (), [])
        self.forget_ids = (resolve_forget_classes(forget_classes, self.class_names)
                           if requested or subset != "all" else ())
        labels, is_train, uids = map(np.concatenate, (labels, is_train, uids))
        chosen = select_samples(labels, self.forget_ids, subset)
        images = (np.concatenate(images) if isinstance(images[0], np.ndarray)
                  else sum(images, []))
        self.images = (images[chosen] if isinstance(images, np.ndarray)
                       else [images[i] for i in chosen])
        self.labels, self.is_train, self.uids = labels[chosen], is_train[chosen], uids[chosen]
        self.subset = subset
        self.pipeline = build_pipeline(pipeline)
        self.augment = is_random_pipeline(self.pipeline)

    @property
    def metainfo(self) -> dict:
        return dict(classes=self.class_names, forget_ids=self.forget_ids)

    @staticmethod
    def _subsample(labels: np.ndarray, max_per_class: Optional[int], seed: int) -> np.ndarray:
        if max_per_class is None:
            return np.arange(len(labels))
        rng = np.random.default_rng(seed)
        keep = [rng.permutation(np.flatnonzero(labels == c))[:max_per_class]
                for c in np.unique(labels)]
        return np.sort(np.concatenate(keep))

    def load_split(self, split: str):
        raise NotImplementedError

    def __len__(self) -> int:
        return len(self.labels)

    def load_image(self, index: int) -> np.ndarray:
        image = self.images[index]
        return image if isinstance(image, np.ndarray) else read_image(image)

    def __getitem__(self, index: int) -> dict:
        image = self.load_image(index)
        if self.pipeline is not None:
            image = self.pipeline(image=image)["image"]
        if isinstance(image, np.ndarray):
            image = torch.from_numpy(image).permute(2, 0, 1).float().div(255)
        return dict(inputs=image, data_samples=dict(
            label=int(self.labels[index]), uid=int(self.uids[index]),
            is_train=bool(self.is_train[index])))


@DATASETS.register_module()
class ImageFolderClassification(ClassificationDataset):
    """``<root>/<split>/<class>/<image>`` (the CIFAR-10 JPEG archive's layout).

    Args:
        root: dataset folder, or a bare name such as 'cifar10' found via ``TASKFORGET_DATA``.
        preload: decode the dataset's images into memory, each file once per process (small
            images only); only the images kept (``max_per_class``, ``subset``) are read.
    """

    def __init__(self, root: str, preload: bool = True, **kwargs):
        self.root = resolve_data_root(root)
        train_dir = self.root / "train"
        if not train_dir.is_dir():
            raise DataError(f"{train_dir} missing: expected <root>/<split>/<class>/*")
        self.class_names = tuple(sorted(d.name for d in train_dir.iterdir() if d.is_dir()))
        super().__init__(**kwargs)
        if preload and len(self.images):
            self.images = _decode_all(self.images)

    def load_split(self, split: str):
        paths, labels = _list_split(str(self.root / split), self.class_names)
        if not paths:
            raise DataError(f"no images under {self.root / split}")
        return list(paths), list(labels)


@lru_cache(maxsize=16)
def _list_split(folder: str, class_names: tuple):
    """(paths, labels) of ``<folder>/<class>/<image>``, sorted by name within each class; listed
    once per process (a dataset is built for every stage and loader)."""
    paths, labels = [], []
    for label, name in enumerate(class_names):
        if not os.path.isdir(os.path.join(folder, name)):
            raise DataError(f"{os.path.join(folder, name)} missing: every split needs a folder "
                            f"per class of the train split ({', '.join(class_names)})")
        with os.scandir(os.path.join(folder, name)) as entries:
            files = sorted(e.name for e in entries
                           if os.path.splitext(e.name)[1].lower() in IMAGE_SUFFIXES)
        paths += [os.path.join(folder, name, f) for f in files]
        labels += [label] * len(files)
    return tuple(paths), tuple(labels)


@DATASETS.register_module()
class TorchvisionCIFAR(ClassificationDataset):
    """CIFAR-10/100 in torchvision's on-disk layout (``download=True`` fetches it online).

    Args:
        root: folder holding ``cifar-10-batches-py`` or ``cifar-100-python``.
        num_classes: 10 or 100.
        download: let torchvision download the archive when absent.
    """

    def __init__(self, root: str, num_classes: int = 10, download: bool = False, **kwargs):
        from torchvision.datasets import CIFAR10, CIFAR100
        if num_classes not in (10, 100):
            raise ConfigError(f"num_classes must be 10 or 100, got {num_classes}")
        self._cls = CIFAR10 if num_classes == 10 else CIFAR100
        self.root, self.download = root, download
        self.class_names = tuple(self._torchvision("train").classes)
        super().__init__(**kwargs)

    def _torchvision(self, split: str):
        return self._cls(self.root, train=split == "train", download=self.download)

    def load_split(self, split: str):
        data = self._torchvision(split)
        return data.data, data.targets


@DATASETS.register_module()
class TinyImageNet(ClassificationDataset):
    """Tiny ImageNet 200 layout: ``train/<wnid>/images/*.JPEG`` and ``val/images`` with
    ``val/val_annotations.txt``; ``split='test'`` reads the labelled val split."""

    def __init__(self, root: str, **kwargs):
        self.root = resolve_data_root(root)
        wnids = (self.root / "wnids.txt").read_text().split()
        self.class_names = tuple(wnids)
        super().__init__(**kwargs)

    def load_split(self, split: str):
        index = {w: i for i, w in enumerate(self.class_names)}
        if split == "train":
            items: List[Tuple[str, int]] = [
                (str(p), index[w]) for w in self.class_names
                for p in sorted((self.root / "train" / w / "images").glob("*.JPEG"))]
        else:
            lines = (self.root / "val" / "val_annotations.txt").read_text().splitlines()
            items = [(str(self.root / "val" / "images" / line.split("\t")[0]),
                      index[line.split("\t")[1]]) for line in lines if line.strip()]
        if not items:
            raise DataError(f"no Tiny ImageNet images for split {split!r} in {self.root}")
        paths, labels = zip(*items)
        return list(paths), list(labels)
