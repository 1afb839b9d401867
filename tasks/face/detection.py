"""MTCNN face detection as a cached preprocessing step (facenet-pytorch, weights in its wheel).

Crops are written once under a cache folder keyed by the detection settings; a report lists the
images where no face was found and what was done with them (centre crop or dropped).
"""
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

from PIL import Image, ImageOps

from taskforget.checkpoint import write_text_atomic
from taskforget.datasets.data_root import PROJECT_ROOT
from taskforget.errors import ConfigError

NO_FACE_POLICIES = ("center", "drop")


@dataclass
class FaceCropReport:
    """Outcome of :func:`crop_faces`.

    Attributes:
        crops: crop path per input image (None for a dropped image), aligned with the inputs.
        no_face: input paths where MTCNN found no face.
        policy: what was done with them: 'center' (kept, centre crop) or 'drop'.
        cache_dir: folder holding the crops and ``report.json`` (every image without a face
            in the cache, whichever call added it).
    """

    crops: List[Optional[str]]
    no_face: List[str] = field(default_factory=list)
    policy: str = "center"
    cache_dir: str = ""

    def summary(self) -> str:
        n = len(self.crops)
        action = ("kept with a centre crop" if self.policy == "center" else "dropped")
        return (f"MTCNN found a face in {n - len(self.no_face)} of {n} images; "
                f"{len(self.no_face)} without a face were {action} "
                f"(detect.no_face={self.policy!r}; list in {self.cache_dir}/report.json)")


def center_crop(image: Image.Image, size: int) -> Image.Image:
    """Largest centred square of ``image``, resized to ``size`` x ``size``."""
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    return image.crop((left, top, left + side, top + side)).resize((size, size),
                                                                   Image.BILINEAR)


def _cache_key(settings: dict) -> str:
    return hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:10]


def crop_faces(paths: Sequence[Union[str, Path]], root: Union[str, Path],
               cache_dir: Optional[Union[str, Path]] = None, image_size: int = 160,
               margin: int = 14, pad: float = 0.0, min_face_size: int = 20,
               thresholds: Sequence[float] = (0.6, 0.7, 0.7), no_face: str = "center"
               ) -> FaceCropReport:
    """Detect the largest face of each image with MTCNN and cache the square crops.

    Args:
        paths: image files, all under ``root``.
        root: dataset root; crops keep the paths relative to it.
        cache_dir: parent folder of the crop caches (default ``<project>/work_dirs/face_crops``);
            one sub-folder per dataset and settings, reused by later runs.
        image_size: side of the square crops, in pixels.
        margin: margin around the detected box, in pixels of the crop (facenet-pytorch's).
        pad: border added around each image before detection, as a fraction of its size
            (helps on tightly pre-cropped faces such as Yale B's).
        min_face_size: MTCNN's smallest face, in pixels.
        thresholds: MTCNN's three stage thresholds.
        no_face: 'center' keeps an image without a detected face as its centre crop; 'drop'
            leaves it out (its crop is None).

    Returns:
        :class:`FaceCropReport`; ``report.json`` in the cache folder holds the same.
    """
    if no_face not in NO_FACE_POLICIES:
        raise ConfigError(f"detect.no_face must be one of {NO_FACE_POLICIES}, got {no_face!r}")
    root = Path(root)
    settings = dict(image_size=image_size, margin=margin, pad=pad, min_face_size=min_face_size,
                    thresholds=list(thresholds))
    base = Path(cache_dir) if cache_dir is not None else PROJECT_ROOT / "work_dirs" / "face_crops"
    out = base / f"{root.name}-{_cache_key(settings)}"
    manifest_path = out / "manifest.json"
    found: Dict[str, bool] = (json.loads(manifest_path.read_text())
                              if manifest_path.is_file() else {})
    rel = [str(Path(p).relative_to(root)) for p in paths]
    todo = [r for r in rel if r not in found or not (out / r).with_suffix(".png").is_file()]
    if todo:
        from facenet_pytorch import MTCNN
        mtcnn = MTCNN(image_size=image_size, margin=margin, min_face_size=min_face_size,
                      thresholds=list(thresholds), post_process=False, select_largest=True,
                      device="cpu")
        for r in todo:
            image = Image.open(root / r).convert("RGB")
            border = (int(image.width * pad), int(image.height * pad))
            padded = ImageOps.expand(image, border=border, fill=0) if pad > 0 else image
            face = mtcnn(padded)
            crop = (center_crop(image, image_size) if face is None else Image.fromarray(
                face.permute(1, 2, 0).clamp(0, 255).byte().numpy()))
            target = (out / r).with_suffix(".png")
            target.parent.mkdir(parents=True, exist_ok=True)
            crop.save(target)
            found[r] = face is not None
        out.mkdir(parents=True, exist_ok=True)
        write_text_atomic(manifest_path, json.dumps(found, indent=0, sort_keys=True))
    missing = [str(root / r) for r in rel if not found[r]]
    crops = [None if (not found[r] and no_face == "drop") else str((out / r).with_suffix(".png"))
             for r in rel]
    report = FaceCropReport(crops, missing, no_face, str(out))
    # The cache's report covers every image it holds (all groups and splits seen so far).
    write_text_atomic(out / "report.json", json.dumps(dict(
        settings=settings, total=len(found), policy=no_face,
        no_face=sorted(str(root / r) for r, ok in found.items() if not ok)), indent=1))
    return report
