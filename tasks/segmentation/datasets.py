"""Semantic segmentation datasets with a pixel-level forget split: PASCAL VOC 2012 and CamVid.

Every dataset here uses one ignore label, :data:`IGNORE_INDEX` = 255 (CamVid's void class 11 is
mapped to it when read). Subsets:

- ``'all'``: every image, labels unchanged (original model; evaluation).
- ``'forget'``: the forget set D_f = the images that contain a forgotten class, labels unchanged.
- ``'remain'``: every image with the forgotten classes' pixels set to the ignore label (the
  retrain model's data: it never sees a forgotten pixel as a target).
"""
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from taskforget.datasets import (
    ForgetSplitError,
    build_pipeline,
    check_class_names,
    is_random_pipeline,
    resolve_forget_classes,
)
from taskforget.datasets.data_root import resolve_data_root
from taskforget.errors import ConfigError, DataError
from taskforget.registry import DATASETS

IGNORE_INDEX = 255
SUBSETS = ("all", "forget", "remain")
UID_STRIDE = 1 << 32  # uid = index in the full split, offset for non-train splits
Splits = Union[str, Sequence[str]]


def read_rgb(path: Union[str, Path]) -> np.ndarray:
    """(H, W, 3) uint8 RGB image."""
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except (OSError, ValueError) as exc:
        raise OSError(f"cannot decode image {path}: the file is missing or corrupted") from exc


def read_label(path: Union[str, Path]) -> np.ndarray:
    """(H, W) uint8 class-index map (greyscale or palette PNG; palette indices are kept)."""
    try:
        with Image.open(path) as im:
            if im.mode not in ("L", "P", "I", "I;16"):
                raise ConfigError(f"label {path} has mode {im.mode}: expected a single-channel "
                                 "class-index PNG (greyscale or palette)")
            return np.asarray(im).astype(np.uint8)
    except OSError as exc:
        raise OSError(f"cannot decode label {path}: the file is missing or corrupted") from exc


def forget_pixels_to_ignore(label: np.ndarray, forget_ids: Sequence[int],
                            ignore_index: int = IGNORE_INDEX) -> np.ndarray:
    """Copy of ``label`` (H, W) whose forgotten-class pixels carry ``ignore_index``."""
    label = label.copy()
    label[np.isin(label, list(forget_ids))] = ignore_index
    return label


class SegmentationDataset(Dataset):
    """Base: (image, label map) pairs, a pixel-level forget split, an albumentations pipeline.

    Subclasses set ``class_names`` and implement :meth:`load_split` returning a list of
    (image_path, label_path); :meth:`map_label` turns a raw label map into class ids with
    :data:`IGNORE_INDEX` for ignored pixels.

    Args:
        split: 'train', 'val'/'test', or a list of splits; each image is tagged ``is_train``.
        forget_classes: class names and/or ids that are forgotten.
        subset: 'all', 'forget' (images containing a forgotten class) or 'remain' (every image,
            forgotten pixels set to ignore: the retrain data). See the module docstring.
        pipeline: albumentations transform dicts applied to ``image`` and ``mask`` together;
            pad masks with ``fill_mask=255`` so padding is ignored.
        max_images: keep at most this many images per split (seeded draw), for tests and quick
            runs; None keeps all.
        seed: seed of the ``max_images`` draw.
        class_names: the experiment config's classes, checked against the dataset's own
            (same names, same order); None skips the check.

    Each item is ``dict(inputs=(3, H, W) float tensor, data_samples=dict(label=(H, W) int64,
    uid, is_train, has_forget))``.
    """

    class_names: Tuple[str, ...] = ()
    ignore_index = IGNORE_INDEX

    def __init__(self, split: Splits = "train", forget_classes=(), subset: str = "all",
                 pipeline: Optional[Sequence[dict]] = None, max_images: Optional[int] = None,
                 seed: int = 0, class_names: Optional[Sequence[str]] = None):
        check_class_names(class_names, self.class_names, f"{type(self).__name__} "
                          f"{getattr(self, 'root', '')}".strip())
        if subset not in SUBSETS:
            raise ForgetSplitError(f"subset must be one of {SUBSETS}, got {subset!r}")
        requested = forget_classes not in (None, (), [])
        if subset != "all" and not requested:
            raise ForgetSplitError(f"subset={subset!r} needs `forget_classes`")
        self.forget_ids = (resolve_forget_classes(forget_classes, self.class_names)
                           if requested else ())
        self.items: List[Tuple[str, str]] = []
        is_train, uids = [], []
        for name in ([split] if isinstance(split, str) else list(split)):
            items = self.load_split(name)
            if not items:
                raise DataError(f"no images in split {name!r} of {type(self).__name__}")
            keep = np.arange(len(items))
            if max_images is not None and max_images < len(items):
                keep = np.sort(np.random.default_rng(seed).permutation(len(items))[:max_images])
            self.items += [items[i] for i in keep]
            is_train += [name == "train"] * len(keep)
            uids += list(keep + (0 if name == "train" else UID_STRIDE))
        self.is_train, self.uids = np.array(is_train), np.array(uids, dtype=np.int64)
        self.has_forget = np.array([self._contains_forget(lbl) for _, lbl in self.items],
                                   dtype=bool)
        if subset == "forget":
            chosen = np.flatnonzero(self.has_forget)
            if len(chosen) == 0:
                raise ForgetSplitError(
                    f"the forget set is empty: no image contains class ids "
                    f"{list(self.forget_ids)}. Check `forget_classes` and the data root.")
            self.items = [self.items[i] for i in chosen]
            self.is_train, self.uids = self.is_train[chosen], self.uids[chosen]
            self.has_forget = self.has_forget[chosen]
        self.subset = subset
        self.pipeline = build_pipeline(pipeline)
        self.augment = is_random_pipeline(self.pipeline)

    def _contains_forget(self, label_path: str) -> bool:
        if not self.forget_ids:
            return False
        return bool(np.isin(self.map_label(read_label(label_path)), self.forget_ids).any())

    @property
    def metainfo(self) -> dict:
        return dict(classes=self.class_names, forget_ids=self.forget_ids,
                    ignore_index=self.ignore_index)

    def load_split(self, split: str) -> List[Tuple[str, str]]:
        raise NotImplementedError

    def map_label(self, label: np.ndarray) -> np.ndarray:
        """Raw label map -> class ids in 0..K-1; any other value becomes :data:`IGNORE_INDEX`."""
        label = label.copy()
        label[label >= len(self.class_names)] = IGNORE_INDEX
        return label

    def __len__(self) -> int:
        return len(self.items)

    def load(self, index: int) -> Tuple[np.ndarray, np.ndarray]:
        """(H, W, 3) uint8 image and (H, W) uint8 label of this subset, before the pipeline."""
        image_path, label_path = self.items[index]
        image, label = read_rgb(image_path), self.map_label(read_label(label_path))
        if image.shape[:2] != label.shape:
            raise ConfigError(f"image {image_path} is {image.shape[:2]} but its label "
                             f"{label_path} is {label.shape}: they must match")
        if self.subset == "remain":
            label = forget_pixels_to_ignore(label, self.forget_ids, self.ignore_index)
        return image, label

    def __getitem__(self, index: int) -> dict:
        image, label = self.load(index)
        if self.pipeline is not None:
            out = self.pipeline(image=image, mask=label)
            image, label = out["image"], out["mask"]
        if isinstance(image, np.ndarray):
            image = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float() / 255
        label = torch.as_tensor(np.asarray(label), dtype=torch.int64)
        return dict(inputs=image, data_samples=dict(
            label=label, uid=int(self.uids[index]), is_train=bool(self.is_train[index]),
            has_forget=bool(self.has_forget[index])))


@DATASETS.register_module()
class CamVid(SegmentationDataset):
    """CamVid (SegNet's 11-class version) in the layout ``<root>/classes.txt`` and
    ``<root>/{train,val,test}/{images,labels}/<name>.png``; labels 0..10, 11 = void (read as
    255 = ignore). ``root`` may be a bare name ('camvid', the bundled 240x180 copy).
    """

    def __init__(self, root: str = "camvid", **kwargs):
        self.root = resolve_data_root(root)
        names = self.root / "classes.txt"
        if not names.is_file():
            raise DataError(f"{names} missing: expected CamVid's classes.txt (one class "
                                    "name per line, index = label value)")
        self.class_names = tuple(n.strip() for n in names.read_text().splitlines() if n.strip())
        super().__init__(**kwargs)

    def load_split(self, split: str) -> List[Tuple[str, str]]:
        images = sorted((self.root / split / "images").glob("*.png"))
        if not images:
            raise DataError(f"no images under {self.root / split / 'images'}")
        items = [(str(p), str(self.root / split / "labels" / p.name)) for p in images]
        missing = [lbl for _, lbl in items if not Path(lbl).is_file()]
        if missing:
            raise DataError(f"{len(missing)} label maps missing, e.g. {missing[0]}")
        return items


VOC_CLASSES = ("background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car",
               "cat", "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person",
               "pottedplant", "sheep", "sofa", "train", "tvmonitor")


@DATASETS.register_module()
class PascalVOC(SegmentationDataset):
    """PASCAL VOC 2012 segmentation in its standard layout: ``<root>/JPEGImages/<id>.jpg``,
    ``<root>/<label_dir>/<id>.png`` (palette PNG: index = class, 255 = ignore) and
    ``<root>/ImageSets/Segmentation/<split>.txt``; 21 classes (``car`` = 7).

    Args:
        root: the ``VOC2012`` folder (``VOCdevkit/VOC2012``).
        label_dir: 'SegmentationClass', or 'SegmentationClassAug' for the augmented set.
        split_dir: folder of the split lists, relative to ``root``.
    """

    class_names = VOC_CLASSES

    def __init__(self, root: str, label_dir: str = "SegmentationClass",
                 split_dir: str = "ImageSets/Segmentation", **kwargs):
        self.root = resolve_data_root(root)
        self.label_dir, self.split_dir = label_dir, split_dir
        super().__init__(**kwargs)

    def load_split(self, split: str) -> List[Tuple[str, str]]:
        listing = self.root / self.split_dir / f"{split}.txt"
        if not listing.is_file():
            raise DataError(f"{listing} missing: expected the VOC layout "
                                    "<root>/ImageSets/Segmentation/<split>.txt")
        ids = [line.split()[0] for line in listing.read_text().splitlines() if line.strip()]
        return [(str(self.root / "JPEGImages" / f"{i}.jpg"),
                 str(self.root / self.label_dir / f"{i}.png")) for i in ids]
