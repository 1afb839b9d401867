"""Safe loading and atomic saving of model weights."""
import os
import pickle
import tempfile
import zipfile
from pathlib import Path
from typing import Dict, Union

import torch
from torch import nn


class CheckpointError(RuntimeError):
    """A checkpoint cannot be read or does not fit the model."""


def read_state_dict(path: Union[str, Path]) -> Dict[str, torch.Tensor]:
    """Read a state dict with ``weights_only=True``.

    Accepts a plain state dict or an mmengine checkpoint (``{'state_dict': ...}``).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"checkpoint {path} does not exist: train the model first "
            f"(tools/train.py CONFIG) or pass the right path")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, zipfile.BadZipFile, RuntimeError, EOFError, ValueError) as exc:
        raise CheckpointError(
            f"cannot read checkpoint {path}: the file is corrupted, truncated or not a PyTorch "
            f"weights file ({type(exc).__name__}: {str(exc).splitlines()[0][:200]}). "
            f"Re-create it with tools/train.py or tools/forget.py.") from exc
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError(f"checkpoint {path} holds no state dict of tensors")
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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
