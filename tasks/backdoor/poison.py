"""BadNets poisoning and trigger stamping on top of any classification dataset.

A trigger is stamped on uint8 (H, W, 3) images *before* the dataset's pipeline (augmentation,
normalization), as in BadNets: ``x' = (1 - m) x + m p`` with a mask ``m`` in [0, 1] and a
pattern ``p`` in [0, 255]. The attack's trigger is a k x k random-valued patch at a random
position; a recovered trigger is either a bank of k x k patches (BAERASER, random positions)
or one full-image mask and pattern (Neural Cleanse, fixed position).
"""
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional, Union

import numpy as np
import torch
from torch.utils.data import Dataset

from taskforget.checkpoint import savez_atomic, write_json_atomic
from taskforget.errors import ConfigError
from taskforget.registry import DATASETS

TRIGGER_UID_OFFSET = 1 << 40  # uid of the triggered copy of an image = its uid + this
MODES = ("poison", "clean", "eval", "stamp")


@dataclass
class BadNetsAttack:
    """Settings of a BadNets attack (what ``tools/poison.py`` saves beside the model).

    Args:
        trigger_size: side k of the square trigger.
        target: target class id.
        poison_rate: fraction of the training set that is stamped and relabelled.
        seed: seed of the trigger values, the poisoned images and the positions.
    """

    trigger_size: int = 3
    target: int = 0
    poison_rate: float = 0.05
    seed: int = 0

    def __post_init__(self):
        if self.trigger_size < 1:
            raise ConfigError(f"trigger_size must be >= 1, got {self.trigger_size}")
        if not 0.0 < self.poison_rate < 1.0:
            raise ConfigError(f"poison_rate must be in (0, 1), got {self.poison_rate}")

    def pattern(self) -> np.ndarray:
        """(k, k, 3) uint8 random-valued trigger, fixed by ``seed``."""
        rng = np.random.default_rng([self.seed, 7])
        k = self.trigger_size
        return rng.integers(0, 256, size=(k, k, 3), dtype=np.uint8)

    def to_dict(self) -> dict:
        return dict(asdict(self), trigger=self.pattern().tolist())

    def save(self, path: Union[str, Path]) -> Path:
        return write_json_atomic(path, self.to_dict(), indent=1)

    @classmethod
    def load(cls, path: Union[str, Path]) -> "BadNetsAttack":
        record = json.loads(Path(path).read_text())
        return cls(**{k: record[k] for k in ("trigger_size", "target", "poison_rate", "seed")})


@dataclass
class Trigger:
    """A trigger to stamp: ``masks`` (M, h, w) in [0, 1] and ``patterns`` (M, h, w, 3) in [0, 1].

    ``random_position``: each image gets one of the M patches at a random position; an
    image-sized mask is then shifted cyclically by a random offset (a BadNets trigger can sit
    anywhere, but a mask recovered by Neural Cleanse marks one place). Otherwise the single
    full-image mask is applied in place.
    """

    masks: np.ndarray
    patterns: np.ndarray
    random_position: bool = True

    def __post_init__(self):
        self.masks = np.asarray(self.masks, dtype=np.float32)
        self.patterns = np.asarray(self.patterns, dtype=np.float32)
        if self.masks.ndim != 3 or self.patterns.shape != self.masks.shape + (3,):
            raise ConfigError(f"trigger masks must be (M, h, w) and patterns (M, h, w, 3), got "
                             f"{self.masks.shape} and {self.patterns.shape}")

    @classmethod
    def from_attack(cls, attack: BadNetsAttack) -> "Trigger":
        k = attack.trigger_size
        return cls(np.ones((1, k, k)), attack.pattern()[None] / 255.0, True)

    def save(self, path: Union[str, Path]) -> Path:
        return savez_atomic(path, masks=self.masks, patterns=self.patterns,
                            random_position=self.random_position)

    @classmethod
    def load(cls, path: Union[str, Path]) -> "Trigger":
        with np.load(path) as f:
            return cls(f["masks"], f["patterns"], bool(f["random_position"]))

    def stamp(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Stamp one (H, W, 3) image (uint8 or float in [0, 255]); returns float32."""
        image = image.astype(np.float32, copy=True)
        index = int(rng.integers(len(self.masks)))
        mask, pattern = self.masks[index][..., None], self.patterns[index] * 255.0
        h, w = mask.shape[:2]
        if self.random_position and (h, w) == image.shape[:2]:
            shift = (int(rng.integers(h)), int(rng.integers(w)))
            mask, pattern = np.roll(mask, shift, (0, 1)), np.roll(pattern, shift, (0, 1))
            y = x = 0
        elif self.random_position:
            if h > image.shape[0] or w > image.shape[1]:
                raise ConfigError(f"trigger {h}x{w} larger than the image {image.shape[:2]}")
            y = int(rng.integers(image.shape[0] - h + 1))
            x = int(rng.integers(image.shape[1] - w + 1))
        elif (h, w) != image.shape[:2]:
            raise ConfigError(f"a fixed-position trigger must be image-sized {image.shape[:2]}, "
                             f"got {h}x{w}")
        else:
            y = x = 0
        region = image[y:y + h, x:x + w]
        image[y:y + h, x:x + w] = (1 - mask) * region + mask * pattern
        return image


def holdout_indices(n: int, part: Optional[str], fraction: float, seed: int) -> np.ndarray:
    """Split ``range(n)`` into the defender's clean held-out part and the evaluation part.

    Args:
        part: 'defense' (the first ``fraction`` of a seeded permutation), 'eval' (the rest) or
            None (everything).
    """
    if part is None:
        return np.arange(n)
    if part not in ("defense", "eval"):
        raise ConfigError(f"holdout must be 'defense', 'eval' or None, got {part!r}")
    order = np.random.default_rng(seed).permutation(n)
    cut = int(round(fraction * n))
    return np.sort(order[:cut] if part == "defense" else order[cut:])


def poisoned_indices(labels: np.ndarray, attack: BadNetsAttack) -> np.ndarray:
    """Exactly ``round(poison_rate * N)`` images, drawn (seeded) among non-target images."""
    candidates = np.flatnonzero(np.asarray(labels) != attack.target)
    count = int(round(attack.poison_rate * len(labels)))
    if count > len(candidates):
        raise ConfigError(f"poison_rate {attack.poison_rate} needs {count} non-target images, "
                         f"only {len(candidates)} exist")
    rng = np.random.default_rng([attack.seed, 11])
    return np.sort(rng.choice(candidates, size=count, replace=False))


@DATASETS.register_module()
class BackdoorDataset(Dataset):
    """Wraps a classification dataset (e.g. ``ImageFolderClassification``) for backdoor work.

    Modes:
        'poison': the attacker's training set: ``poison_rate`` of the images get the attack's
            trigger at a random position and the target label.
        'clean': the images as they are (the defender's clean held-out set, fine-tuning).
        'eval': every image clean, plus a copy with the attack's trigger of each image whose
            class is not the target (ASR); positions fixed per image.
        'stamp': every image clean, plus a copy of each with ``trigger`` (a recovered trigger
            file) stamped at a fresh random position per access (unlearning data).

    Args:
        dataset: config of the wrapped dataset; its ``pipeline`` runs after stamping.
        attack: :class:`BadNetsAttack` fields (the tools fill in the experiment's ``attack``).
        mode: one of the modes above.
        holdout: 'defense', 'eval' or None: which part of the wrapped dataset (see
            :func:`holdout_indices`).
        holdout_fraction: size of the defender's part (the paper: a quarter of the test split).
        holdout_seed: seed of the split.
        trigger: path of a recovered trigger (``Trigger.save``), mode 'stamp' only.

    Items are those of the wrapped dataset; ``data_samples`` gains ``true_label`` and
    ``triggered`` (``label`` is the training label: the target for poisoned images).
    """

    def __init__(self, dataset: dict, attack: Optional[dict] = None, mode: str = "eval",
                 holdout: Optional[str] = None, holdout_fraction: float = 0.25,
                 holdout_seed: int = 0, trigger: Optional[str] = None):
        if mode not in MODES:
            raise ConfigError(f"mode must be one of {MODES}, got {mode!r}")
        if mode == "stamp" and trigger is None:
            raise ConfigError("mode 'stamp' needs trigger=<path of a recovered trigger .npz>")
        self.inner = DATASETS.build(dataset) if isinstance(dataset, dict) else dataset
        self.attack = BadNetsAttack(**(attack or {}))
        self.mode = mode
        self.class_names = self.inner.class_names
        self.index = holdout_indices(len(self.inner), holdout, holdout_fraction, holdout_seed)
        labels = self.inner.labels[self.index]
        self.trigger = (Trigger.load(trigger) if mode == "stamp"
                        else Trigger.from_attack(self.attack))
        self.poisoned = np.zeros(len(self.index), dtype=bool)
        triggered = np.zeros(0, dtype=np.int64)
        if mode == "poison":
            self.poisoned[poisoned_indices(labels, self.attack)] = True
        elif mode == "eval":
            triggered = np.flatnonzero(labels != self.attack.target)
        elif mode == "stamp":
            triggered = np.arange(len(self.index))
        # items: (position in self.index, stamped?)
        self.items = np.concatenate([
            np.stack([np.arange(len(self.index)), self.poisoned], 1),
            np.stack([triggered, np.ones_like(triggered)], 1)]).astype(np.int64)
        self.pipeline = self.inner.pipeline
        self.augment = self.inner.augment or mode == "stamp"
        # mode 'stamp': the positions' own generator, made by _rng in the process that reads
        self._stamp_rng, self._stamp_seed = None, None

    @property
    def metainfo(self) -> dict:
        return dict(self.inner.metainfo, attack=self.attack.to_dict(), mode=self.mode)

    @property
    def labels(self) -> np.ndarray:
        """(len,) training labels (the target for poisoned images)."""
        true = self.inner.labels[self.index[self.items[:, 0]]]
        return np.where(self.items[:, 1].astype(bool) & (self.mode == "poison"),
                        self.attack.target, true)

    def __len__(self) -> int:
        return len(self.items)

    def _rng(self, uid: int) -> np.random.Generator:
        if self.mode != "stamp":  # a fixed position per image
            return np.random.default_rng([self.attack.seed, 13, uid])
        # a fresh position per access, from a generator seeded by torch's seed in this process:
        # the runner's randomness.seed in the main process, a DataLoader worker's own seed in a
        # worker (so no two workers stamp the same sequence), never drawing from a global
        # generator (a seeded run stamps the same way every time, other streams stay as they were)
        seed = torch.initial_seed()
        if self._stamp_seed != seed:
            self._stamp_rng, self._stamp_seed = np.random.default_rng([seed, 17]), seed
        return self._stamp_rng

    def __getitem__(self, i: int) -> dict:
        pos, stamped = int(self.items[i, 0]), bool(self.items[i, 1])
        j = int(self.index[pos])
        uid = int(self.inner.uids[j])
        true_label = int(self.inner.labels[j])
        image = self.inner.load_image(j)
        if stamped:
            image = self.trigger.stamp(image, self._rng(uid))
        if self.pipeline is not None:
            image = self.pipeline(image=image)["image"]
        if isinstance(image, np.ndarray):
            image = torch.from_numpy(image.astype(np.float32)).permute(2, 0, 1).div(255)
        label = self.attack.target if stamped and self.mode == "poison" else true_label
        if stamped and self.mode != "poison":
            uid += TRIGGER_UID_OFFSET
        return dict(inputs=image, data_samples=dict(
            label=label, true_label=true_label, uid=uid, triggered=stamped,
            is_train=bool(self.inner.is_train[j])))
