"""Face-identity datasets with the paper's protocol shape (DELETE, Sec. 4.2 / Table S12).

Identities are drawn with a seed and split into two groups: ``'pretrain'`` (the encoder is
trained on them) and ``'target'`` (a new head is fine-tuned on them; one or more of them are
then forgotten). Each identity's images are split into train and test with a seed derived from
the identity's name, so a split never depends on which other identities were picked.
"""
import logging
import zlib
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.logging import print_log

from taskforget.datasets.data_root import resolve_data_root
from taskforget.errors import ConfigError, DataError
from taskforget.registry import DATASETS

from ..classification.datasets import IMAGE_SUFFIXES, ClassificationDataset
from .detection import crop_faces

GROUPS = ("pretrain", "target")


def select_identities(counts: Dict[str, int], num_target: int = 10,
                      num_identities: Optional[int] = None, min_images: int = 0,
                      seed: int = 0) -> Tuple[List[str], List[str]]:
    """Draw the pretraining and target identity groups.

    Identities with at least ``min_images`` images are eligible; ``num_identities`` of them
    (all when None) are drawn with ``seed``; the last ``num_target`` drawn form the target
    group, the others the pretraining group. Each group is returned sorted by name.

    Args:
        counts: number of images per identity name.
        num_target: size of the target (fine-tune and forget) group.
        num_identities: identities drawn in all (VGGFace2 protocol: 110).
        min_images: eligibility threshold (VGGFace2 protocol: 501, i.e. more than 500).
        seed: seed of the draw.

    Returns:
        (pretrain identities, target identities).
    """
    eligible = sorted(name for name, n in counts.items() if n >= min_images)
    wanted = len(eligible) if num_identities is None else num_identities
    if wanted > len(eligible) or num_target >= wanted:
        raise ConfigError(
            f"cannot draw {wanted} identities with {num_target} in the target group: "
            f"{len(eligible)} of {len(counts)} identities have >= {min_images} images. Lower "
            "num_identities / num_target / min_images or point `root` at the full dataset.")
    drawn = [eligible[i] for i in np.random.default_rng(seed).permutation(len(eligible))[:wanted]]
    return sorted(drawn[:wanted - num_target]), sorted(drawn[wanted - num_target:])


def split_images(files: Sequence[str], identity: str, num_train: Optional[int] = None,
                 num_test: Optional[int] = None, test_fraction: float = 0.2,
                 seed: int = 0) -> Tuple[List[str], List[str]]:
    """Seeded per-identity train/test split of one identity's files.

    ``num_test`` images (else ``round(test_fraction * n)``, at least 1) go to test, then
    ``num_train`` (else all the rest) to train. The shuffle is seeded by ``seed`` and the
    identity's name only.
    """
    files = sorted(files)
    n_test = num_test if num_test is not None else max(1, round(test_fraction * len(files)))
    n_train = num_train if num_train is not None else len(files) - n_test
    if n_train + n_test > len(files) or n_train < 1:
        raise ConfigError(f"identity {identity!r} has {len(files)} images, fewer than the "
                         f"{n_train} train + {n_test} test the split asks for")
    rng = np.random.default_rng([seed, zlib.crc32(identity.encode())])
    order = rng.permutation(len(files))
    return ([files[i] for i in sorted(order[n_test:n_test + n_train])],
            [files[i] for i in sorted(order[:n_test])])


def identity_class_names(num_classes: int) -> Tuple[str, ...]:
    """Class names of an identity group: ``('id0', 'id1', ...)``, position in the sorted group
    (the folder names are in the dataset's ``identities``)."""
    return tuple(f"id{i}" for i in range(num_classes))


class FaceIdentityDataset(ClassificationDataset):
    """Base: one folder of images per identity, protocol groups, seeded splits, MTCNN crops.

    Subclasses implement :meth:`identity_files` (identity name -> its image files).

    Args:
        root: dataset folder, or a bare name ('yaleb', 'orl') found via ``TASKFORGET_DATA``.
        group: 'pretrain' or 'target' identities. Class ``k`` (named ``'id<k>'``) is the k-th
            identity of the group sorted by folder name; ``identities`` holds the folder names.
        num_target: size of the target group.
        num_identities: identities drawn in all (None: every eligible one).
        min_images: identities with fewer images are not eligible.
        identity_seed: seed of the identity draw.
        num_train, num_test, test_fraction: per-identity split (see :func:`split_images`).
        split_seed: seed of the per-identity splits.
        detect: MTCNN settings (``crop_faces`` keyword arguments, e.g.
            ``dict(image_size=64, margin=8, no_face='center')``), or None to use the images as
            they are.
        **kwargs: :class:`ClassificationDataset` arguments (split, forget_classes, subset,
            pipeline, max_per_class, seed).
    """

    def __init__(self, root: str, group: str = "target", num_target: int = 10,
                 num_identities: Optional[int] = None, min_images: int = 0,
                 identity_seed: int = 0, num_train: Optional[int] = None,
                 num_test: Optional[int] = None, test_fraction: float = 0.2,
                 split_seed: int = 0, detect: Optional[dict] = None, **kwargs):
        if group not in GROUPS:
            raise ConfigError(f"group must be one of {GROUPS}, got {group!r}")
        self.root = resolve_data_root(root)
        files = self.identity_files()
        if not files:
            raise DataError(f"no identity folders with images under {self.root}")
        groups = dict(zip(GROUPS, select_identities(
            {k: len(v) for k, v in files.items()}, num_target, num_identities, min_images,
            identity_seed)))
        self.identity_groups = groups
        self.identities = tuple(groups[group])
        self.class_names = identity_class_names(len(self.identities))
        self._splits: Dict[str, Tuple[List[str], List[int]]] = {"train": ([], []),
                                                                 "test": ([], [])}
        for label, name in enumerate(self.identities):
            for split, chosen in zip(("train", "test"), split_images(
                    files[name], name, num_train, num_test, test_fraction, split_seed)):
                self._splits[split][0].extend(chosen)
                self._splits[split][1].extend([label] * len(chosen))
        self.detect_report = None
        if detect is not None:
            self._crop(dict(detect))
        super().__init__(**kwargs)

    def _crop(self, detect: dict) -> None:
        paths = self._splits["train"][0] + self._splits["test"][0]
        report = crop_faces(paths, self.root, **detect)
        print_log(report.summary(), logger="current",
                  level=logging.WARNING if report.no_face else logging.INFO)
        crops = iter(report.crops)
        for split in ("train", "test"):
            old_paths, old_labels = self._splits[split]
            kept = [(c, y) for c, y in zip((next(crops) for _ in old_paths), old_labels)
                    if c is not None]
            self._splits[split] = ([c for c, _ in kept], [y for _, y in kept])
        self.detect_report = report

    def identity_files(self) -> Dict[str, List[str]]:
        raise NotImplementedError

    @staticmethod
    def _images(folder: Path) -> List[str]:
        return sorted(str(p) for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)

    def load_split(self, split: str):
        if split not in self._splits:
            raise ConfigError(f"split must be 'train' or 'test', got {split!r}")
        return list(self._splits[split][0]), list(self._splits[split][1])


@DATASETS.register_module()
class FaceFolder(FaceIdentityDataset):
    """``<root>/<identity>/<image>``: Extended Yale B (``yaleb``), ORL (``orl``) and the like."""

    def identity_files(self) -> Dict[str, List[str]]:
        folders = sorted(d for d in self.root.iterdir() if d.is_dir())
        return {d.name: f for d in folders if (f := self._images(d))}


@DATASETS.register_module()
class VGGFace2(FaceIdentityDataset):
    """VGGFace2's layout ``<root>/{train,test}/<identity>/*.jpg`` with the paper's selection.

    Defaults follow the paper: identities with more than 500 images (``min_images=501``), 110
    drawn (100 pretraining + 10 target), 400 train and 100 test images each. VGGFace2's own
    train/test folders hold disjoint identities, so both are pooled before the draw.
    """

    def __init__(self, root: str, num_identities: Optional[int] = 110, min_images: int = 501,
                 num_train: Optional[int] = 400, num_test: Optional[int] = 100, **kwargs):
        super().__init__(root, num_identities=num_identities, min_images=min_images,
                         num_train=num_train, num_test=num_test, **kwargs)

    def identity_files(self) -> Dict[str, List[str]]:
        files: Dict[str, List[str]] = {}
        for part in ("train", "test"):
            folder = self.root / part
            if not folder.is_dir():
                continue
            for d in sorted(p for p in folder.iterdir() if p.is_dir()):
                files.setdefault(d.name, []).extend(self._images(d))
        if not files:
            raise DataError(
                f"no VGGFace2 identities under {self.root}: expected "
                "<root>/train/<identity>/*.jpg and/or <root>/test/<identity>/*.jpg")
        return files
