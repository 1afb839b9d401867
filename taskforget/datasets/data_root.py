"""Locate datasets on disk; unpack the bundled real-data archives on first use."""
import fcntl
import os
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Callable, Dict, Optional, Sequence, Union

import cv2
import numpy as np

from taskforget.errors import DataError

_PACKAGE_ROOT = Path(__file__).resolve().parents[2]
_CHECKOUT = (_PACKAGE_ROOT / "pyproject.toml").is_file()  # running from the source tree
# Where data/ and work_dirs/ live: $TASKFORGET_HOME, else the source checkout, else the current
# directory (an installed package never writes into its install location).
PROJECT_ROOT = Path(os.environ.get("TASKFORGET_HOME") or (_PACKAGE_ROOT if _CHECKOUT
                                                          else Path.cwd())).resolve()

# Archives of real data that ship beside the project (../shared/data), keyed by the folder
# they unpack to.
ARCHIVES = {
    "cifar10": "cifar10-jpeg.tar.gz",
    "yaleb": "yaleb-cropped.tar.gz",
    "orl": "orl-faces.tar.gz",
    "camvid": "camvid-240x180.tar.gz",
}


def project_relative(path: Union[str, Path, None]) -> Optional[str]:
    """``path`` as a committed record names it: relative to the project root when it lies
    under it (no machine's folders in a record), else as given (None stays None)."""
    if not path or not os.path.isabs(path):
        return None if path is None else str(path)
    relative = os.path.relpath(path, PROJECT_ROOT)
    return str(path) if relative.startswith("..") else relative


def data_home() -> Path:
    """Folder holding datasets: ``$TASKFORGET_DATA`` or ``<project>/data``."""
    return Path(os.environ.get("TASKFORGET_DATA", PROJECT_ROOT / "data"))


def archive_home() -> Path:
    """Bundled archives: ``$TASKFORGET_ARCHIVES`` or ``<checkout>/../shared/data``."""
    return Path(os.environ.get("TASKFORGET_ARCHIVES",
                               (_PACKAGE_ROOT if _CHECKOUT else PROJECT_ROOT).parent / "shared"
                               / "data"))


def resolve_data_root(root: Union[str, Path]) -> Path:
    """Return an existing dataset folder for ``root``.

    An absolute or existing path is used as is. A bare name (``'cifar10'``) is looked up under
    :func:`data_home`; when absent, the bundled archive of that name is unpacked there, or (for
    CIFAR-10, with internet) torchvision downloads it; atomically, so an interrupted unpack or
    download leaves nothing half-written.
    """
    path = Path(root).expanduser()
    if path.is_dir():
        return path
    if path.is_absolute():
        raise DataError(f"dataset folder {path} does not exist: put the dataset there, or set "
                        f"data_root (config or --cfg-options data_root=...) to its folder")
    target = data_home() / path
    if target.is_dir():
        return target
    name = path.parts[0]
    archive = archive_home() / ARCHIVES.get(name, "")
    if name in ARCHIVES and archive.is_file():
        def fill(folder: Path) -> None:
            with tarfile.open(archive) as tar:
                tar.extractall(folder, filter="data")
    elif name in DOWNLOADERS:
        fill = DOWNLOADERS[name]
    else:
        raise DataError(
            f"dataset {root!r} not found under {data_home()} and no archive to unpack or "
            f"download for it. Put the data there or set TASKFORGET_DATA to its parent folder.")
    home = data_home()
    home.mkdir(parents=True, exist_ok=True)
    # one process unpacks; others (test workers, benchmark processes) wait for it, then use it
    with open(home / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (home / name).is_dir():
            tmp = Path(tempfile.mkdtemp(dir=home, prefix=f".{name}."))
            try:
                fill(tmp)
                os.replace(tmp / name, home / name)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    if not target.is_dir():
        raise DataError(f"dataset {name} holds no folder {path}")
    return target


def export_image_folder(images: np.ndarray, labels: Sequence[int], class_names: Sequence[str],
                        folder: Path) -> None:
    """Write (N, H, W, 3) uint8 RGB images as ``<folder>/<class>/<NNNN>.png``."""
    counts = {c: 0 for c in range(len(class_names))}
    for image, label in zip(images, labels):
        out = folder / class_names[label] / f"{counts[label]:04d}.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(out), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        counts[label] += 1


def _download_cifar10(folder: Path) -> None:
    """Fetch CIFAR-10 with torchvision (needs internet) into the image-folder layout."""
    from torchvision.datasets import CIFAR10
    raw = folder / "raw"
    for split in ("train", "test"):
        data = CIFAR10(raw, train=split == "train", download=True)
        export_image_folder(data.data, data.targets, data.classes, folder / "cifar10" / split)
    shutil.rmtree(raw)


DOWNLOADERS: Dict[str, Callable[[Path], None]] = {"cifar10": _download_cifar10}
