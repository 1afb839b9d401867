"""albumentations pipelines from config dicts."""
from typing import Optional, Sequence

import albumentations as A
import numpy as np
from albumentations.pytorch import ToTensorV2

from taskforget.errors import ConfigError

# Transforms that map an input to one fixed output; anything else counts as random, so the
# teacher's targets are only cached when that is provably safe.
_DETERMINISTIC = (A.Normalize, ToTensorV2, A.Resize, A.PadIfNeeded, A.CenterCrop, A.ToFloat,
                  A.LongestMaxSize, A.SmallestMaxSize, A.ToGray)


def build_pipeline(steps: Optional[Sequence[dict]]) -> Optional[A.Compose]:
    """Build ``A.Compose`` from ``[dict(type='RandomCrop', height=32, width=32), ...]``.

    ``type`` names a class in ``albumentations`` (or ``ToTensorV2``). albumentations draws from
    its own generator, not numpy's; it is seeded from numpy's global one (which the runner's
    ``randomness.seed`` sets), so a seeded run augments the same way every time.
    """
    if steps is None:
        return None
    transforms = []
    for step in steps:
        step = dict(step)
        name = step.pop("type")
        cls = ToTensorV2 if name == "ToTensorV2" else getattr(A, name, None)
        if cls is None:
            raise ConfigError(f"unknown albumentations transform {name!r} in the pipeline")
        transforms.append(cls(**step))
    return A.Compose(transforms, seed=int(np.random.randint(2**31 - 1)))


def _transforms(pipeline) -> list:
    """``pipeline`` and every transform inside it, depth first (each holds its own generator)."""
    found = [pipeline]
    for transform in getattr(pipeline, "transforms", []):
        found.extend(_transforms(transform))
    return found


def pipeline_random_state(pipeline: Optional[A.Compose]) -> list:
    """The generators' states of every transform of ``pipeline`` (what it draws next)."""
    return [(t.random_generator.bit_generator.state, t.py_random.getstate())
            for t in _transforms(pipeline)] if pipeline is not None else []


def set_pipeline_random_state(pipeline: Optional[A.Compose], state: list) -> None:
    """Restore :func:`pipeline_random_state`'s ``state`` into the same pipeline."""
    transforms = _transforms(pipeline) if pipeline is not None else []
    if len(transforms) != len(state):
        raise ValueError(f"a random state of {len(state)} transforms for a pipeline of "
                         f"{len(transforms)}: not the pipeline it was taken from")
    for transform, (generator, py_random) in zip(transforms, state):
        transform.random_generator.bit_generator.state = generator
        transform.py_random.setstate(py_random)


def is_random_pipeline(pipeline: Optional[A.Compose]) -> bool:
    """True unless every transform is known to be deterministic and always applied."""
    if pipeline is None:
        return False
    return not all(isinstance(t, _DETERMINISTIC) and t.p == 1.0 for t in pipeline.transforms)
