"""Safe loading and atomic saving of model weights, and digests of the files this project wrote.

Nothing is ever unpickled beyond ``torch.load(weights_only=True)``; a file that fails that load
is inspected (its pickle opcodes are read, never run) to say which case it is: empty,
truncated, not a weights file, holding code, or an mmengine training checkpoint.
"""
import csv
import hashlib
import json
import os
import pickletools
import tempfile
import zipfile
from pathlib import Path
from typing import Dict, Optional, Union

import numpy as np
import torch
from torch import nn

from taskforget.errors import CheckpointError, DataError

__all__ = ["CheckpointError", "read_state_dict", "load_weights", "save_weights", "file_digest",
           "write_digest", "verify_digest", "digest_path", "write_json_atomic", "write_text_atomic"]

# Globals a plain ``torch.save(state_dict)`` file refers to (what weights_only=True allows).
_SAFE_MODULES = ("torch", "collections", "numpy.core.multiarray", "numpy", "builtins",
                 "_codecs")


def _pickle_globals(path: Path) -> Optional[set]:
    """Module names the pickle inside a torch zip file imports, read without running it."""
    try:
        with zipfile.ZipFile(path) as archive:
            name = next((n for n in archive.namelist() if n.endswith("data.pkl")), None)
            if name is None:
                return None
            data = archive.read(name)
        modules, strings = set(), []
        for opcode, arg, _ in pickletools.genops(data):
            if opcode.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE"):
                strings.append(arg)
            elif opcode.name == "GLOBAL":
                modules.add(str(arg).split(" ")[0])
            elif opcode.name == "STACK_GLOBAL" and len(strings) >= 2:
                modules.add(strings[-2])
        return modules
    except Exception:  # noqa: BLE001 - any parse failure means "cannot tell"
        return None


def _unreadable(path: Path, exc: Exception) -> CheckpointError:
    """The error that says why ``torch.load(path, weights_only=True)`` failed."""
    redo = "Re-create it with tools/train.py or tools/forget.py."
    size = path.stat().st_size
    if size == 0:
        return CheckpointError(f"checkpoint {path} is empty (0 bytes): it was never written "
                               f"completely. {redo}")
    with open(path, "rb") as f:
        head = f.read(4)
    if head[:2] == b"PK" and not zipfile.is_zipfile(path):
        return CheckpointError(f"checkpoint {path} is truncated ({size} bytes; the archive's end "
                               f"is missing): the copy or save was interrupted. {redo}")
    if not zipfile.is_zipfile(path):
        return CheckpointError(f"{path} is not a PyTorch weights file (it is neither a torch zip "
                               f"archive nor a pickle). Pass the .pth file written by "
                               f"tools/train.py or tools/forget.py.")
    modules = _pickle_globals(path)
    if modules is None:
        return CheckpointError(f"checkpoint {path} is damaged: its archive holds no readable "
                               f"data.pkl. {redo}")
    if any(m.split(".")[0] == "mmengine" for m in modules):
        exported = path.parent.with_suffix(".pth")
        hint = (f" ({exported})" if exported.is_file() else "")
        return CheckpointError(
            f"{path} is an mmengine training checkpoint (optimizer, logger and loop state): "
            f"taskforget reads plain weights only. Use the weights file the same run exported, "
            f"<work_root>/<run>.pth beside the run's folder{hint}; to continue the training "
            f"itself, use --resume.")
    foreign = sorted(m for m in modules if m.split(".")[0] not in {
        s.split(".")[0] for s in _SAFE_MODULES})
    if foreign:
        return CheckpointError(
            f"checkpoint {path} holds Python objects beyond tensors (it imports "
            f"{', '.join(foreign[:5])}), which could run code when loaded: refused for safety. "
            f"Load it only where it was made, save `model.state_dict()` with torch.save, and "
            f"pass that file.")
    return CheckpointError(f"cannot read checkpoint {path} ({type(exc).__name__}: "
                           f"{str(exc).splitlines()[0][:160] if str(exc) else 'no detail'}). "
                           f"{redo}")


def read_state_dict(path: Union[str, Path]) -> Dict[str, torch.Tensor]:
    """Read a state dict with ``weights_only=True``.

    Accepts a plain state dict or a dict holding one under ``'state_dict'``.

    Raises:
        DataError: the file does not exist.
        CheckpointError: empty, truncated, not weights, unsafe, or an mmengine training file.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(
            f"checkpoint {path} does not exist: train the model first "
            f"(tools/train.py CONFIG) or pass the right path")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - every failure is diagnosed from the file itself
        raise _unreadable(path, exc) from None
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not obj or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()):
        raise CheckpointError(
            f"checkpoint {path} holds no state dict of tensors (got {type(obj).__name__}): "
            f"save `model.state_dict()`, not the model or other objects")
    return obj


def load_weights(module: nn.Module, path: Union[str, Path]) -> nn.Module:
    """Load weights into ``module`` strictly, with a readable error when they do not fit."""
    state = read_state_dict(path)
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong_shape = [f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(v.shape)}"
                   for k, v in expected.items() if k in state and state[k].shape != v.shape]
    if missing or unexpected or wrong_shape:
        def show(items):
            return ", ".join(items[:5]) + (f" (+{len(items) - 5} more)" if len(items) > 5 else "")
        problems = []
        if wrong_shape:
            problems.append(f"shape mismatch: {show(wrong_shape)}")
        if missing:
            problems.append(f"missing keys: {show(missing)}")
        if unexpected:
            problems.append(f"unexpected keys: {show(unexpected)}")
        raise CheckpointError(
            f"checkpoint {path} does not fit {type(module).__name__}: " + "; ".join(problems)
            + ". Check that the config's model (architecture, num_classes) is the one the "
            "checkpoint was trained with.")
    module.load_state_dict(state, strict=True)
    return module


def save_weights(module_or_state: Union[nn.Module, Dict[str, torch.Tensor]],
                 path: Union[str, Path]) -> Path:
    """Write a state dict atomically: a crash never leaves a half-written file at ``path``."""
    state = (module_or_state.state_dict() if isinstance(module_or_state, nn.Module)
             else module_or_state)
    state = {k: v.detach().cpu() for k, v in state.items()}
    return _write_atomic(path, lambda f: torch.save(state, f), "wb")


def write_text_atomic(path: Union[str, Path], text: str) -> Path:
    """Write ``text`` so that a crash never leaves a half-written file at ``path``."""
    return _write_atomic(path, lambda f: f.write(text), "w")


def write_bytes_atomic(path: Union[str, Path], data: bytes) -> Path:
    """Write ``data`` so that a crash never leaves a half-written file at ``path``."""
    return _write_atomic(path, lambda f: f.write(data), "wb")


def save_figure_atomic(fig, path: Union[str, Path], **savefig_kwargs) -> Path:
    """``fig.savefig`` so that a crash never leaves a half-written image at ``path`` (format
    from the suffix)."""
    fmt = Path(path).suffix.lstrip(".") or "png"
    return _write_atomic(path, lambda f: fig.savefig(f, format=fmt, **savefig_kwargs), "wb")


def savez_atomic(path: Union[str, Path], **arrays) -> Path:
    """``np.savez`` so that a crash never leaves a half-written archive at ``path`` (which
    must end in ``.npz``: numpy would otherwise append it)."""
    if Path(path).suffix != ".npz":
        raise ValueError(f"{path}: an .npz archive's name must end in .npz")
    return _write_atomic(path, lambda f: np.savez(f, **arrays), "wb")


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # read once, at import (setting it is process-wide)


def _write_atomic(path: Union[str, Path], write, mode: str) -> Path:
    """``write(file)`` into a temp file beside ``path``, synced, then renamed onto it, with
    the permissions a plain ``open(path, "w")`` gives (mkstemp's own are owner-only)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)
        with os.fdopen(fd, mode) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def write_json_atomic(path: Union[str, Path], obj, indent: int = 2) -> Path:
    """Write ``obj`` as JSON atomically (see :func:`write_text_atomic`)."""
    return write_text_atomic(path, json.dumps(obj, indent=indent))


def write_csv_atomic(path: Union[str, Path], rows) -> Path:
    """Write ``rows`` (sequences of cells, the header first) as CSV atomically."""
    return _write_atomic(path, lambda f: csv.writer(f).writerows(rows), "w")


def file_digest(path: Union[str, Path]) -> str:
    """SHA-256 of a file's bytes, hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def digest_path(path: Union[str, Path]) -> Path:
    """The sidecar beside ``path`` that records the digest written at save time."""
    path = Path(path)
    return path.with_name(path.name + ".sha256.json")


def write_digest(path: Union[str, Path], run_hash: str) -> Path:
    """Record, atomically, that this project wrote ``path`` for the run ``run_hash``."""
    return write_json_atomic(digest_path(path), dict(file=Path(path).name,
                                                     sha256=file_digest(path), run=run_hash))


def verify_digest(path: Union[str, Path], run_hash: str) -> Path:
    """Raise :class:`CheckpointError` unless ``path`` is unchanged since this project saved it
    for the run ``run_hash``; return the path otherwise."""
    path, sidecar = Path(path), digest_path(path)
    if not path.is_file():
        raise CheckpointError(f"cannot resume: checkpoint {path} does not exist")
    if not sidecar.is_file():
        raise CheckpointError(
            f"refusing to resume from {path}: no digest was recorded for it ({sidecar.name} is "
            f"missing), so taskforget did not write it. Resuming unpickles the file; start "
            f"the run afresh without --resume, or delete the file.")
    try:
        record = json.loads(sidecar.read_text())
    except ValueError:
        record = {}
    if record.get("sha256") != file_digest(path):
        raise CheckpointError(
            f"refusing to resume from {path}: its content differs from what taskforget saved "
            f"(digest mismatch). Start the run afresh without --resume.")
    if record.get("run") != run_hash:
        raise CheckpointError(
            f"refusing to resume from {path}: it was saved by a run with other settings "
            f"(config hash {str(record.get('run'))[:12]} vs this run's {run_hash[:12]}). Resume "
            f"with the same config and options, or start afresh without --resume.")
    return path
