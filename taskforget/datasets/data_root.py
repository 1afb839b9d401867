"""Locate datasets on disk; unpack the bundled real-data archives on first use."""
import os
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Union

_PACKAGE_ROOT = Path(__file__).resolve().parents[2]
PROJECT_ROOT = _PACKAGE_ROOT if (_PACKAGE_ROOT / "pyproject.toml").is_file() else Path.cwd()

# Archives of real data that ship beside the project (../shared/data), keyed by the folder
# they unpack to.
ARCHIVES = {
    "cifar10": "cifar10-jpeg.tar.gz",
    "yaleb": "yaleb-cropped.tar.gz",
    "orl": "orl-faces.tar.gz",
    "camvid": "camvid-240x180.tar.gz",
}


def data_home() -> Path:
    """Folder holding datasets: ``$TASKFORGET_DATA`` or ``<project>/data``."""
    return Path(os.environ.get("TASKFORGET_DATA", PROJECT_ROOT / "data"))


def archive_home() -> Path:
    """Bundled archives: ``$TASKFORGET_ARCHIVES`` or ``<project>/../shared/data``."""
    return Path(os.environ.get("TASKFORGET_ARCHIVES", PROJECT_ROOT.parent / "shared" / "data"))


def resolve_data_root(root: Union[str, Path]) -> Path:
    """Return an existing dataset folder for ``root``.

    An absolute or existing path is used as is. A bare name (``'cifar10'``) is looked up under
    :func:`data_home`; when absent and a bundled archive of that name exists, it is unpacked
    there first (atomically, so an interrupted unpack leaves nothing half-written).
    """
    path = Path(root).expanduser()
    if path.is_dir():
        return path
    if path.is_absolute():
        raise FileNotFoundError(f"dataset folder {path} does not exist")
    target = data_home() / path
    if target.is_dir():
        return target
    name = path.parts[0]
    archive = archive_home() / ARCHIVES.get(name, "")
    if name not in ARCHIVES or not archive.is_file():
        raise FileNotFoundError(
            f"dataset {root!r} not found under {data_home()} and no archive to unpack. Put the "
            f"data there, set TASKFORGET_DATA to its parent folder, or use the config's "
            f"torchvision dataset with download=True where there is internet.")
    home = data_home()
    home.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=home, prefix=f".{name}."))
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        if not (home / name).exists():
            os.replace(tmp / name, home / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if not target.is_dir():
        raise FileNotFoundError(f"archive {archive} holds no folder {path}")
    return target
