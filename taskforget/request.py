"""A forget request is protocol x method x request.

- The **protocol** is a leaf config under ``configs/`` (network, data, pretraining schedule, the
  shared unlearning schedule ``forget``, and ``method``: the default method's name).
- The **method** is a fragment ``configs/_base_/methods/<name>.py``, one per method and shared
  by every protocol: ``model = dict(type=<Unlearner class>, <knobs>)`` and, when the method has
  its own schedule, ``forget = dict(...)`` merged over the protocol's. A protocol may add
  ``method_defaults`` (knobs for every method, e.g. ``norm_eval``) and ``method_settings``
  (``{name: dict(model=..., forget=...)}``: its own settings of one method, e.g. tuned lrs).
- The **request** holds the classes to forget, the parent checkpoint and the lineage.

The method's name (snake_case) is the one name used from class to config to run name to
table row: :func:`method_name` gives it for a class.
"""
import copy
import inspect
import re
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Union

from mmengine.config import Config

from taskforget.errors import ConfigError
from taskforget.registry import MODELS

_PACKAGE = Path(__file__).resolve().parent
# Installed: the configs ship inside the package; in the source tree they sit beside it.
CONFIG_ROOT = (_PACKAGE / "configs" if (_PACKAGE / "configs").is_dir()
               else _PACKAGE.parent / "configs")
METHODS_DIR = CONFIG_ROOT / "_base_" / "methods"
_MODEL_KEYS = ("network", "adapter", "data_preprocessor", "frozen")
# Class names whose snake_case form is not the name the field uses.
_NAMES = {"DELETE": "delete", "SalUn": "salun", "SCRUB": "scrub", "UNSIR": "unsir",
          "MaGA": "maga", "SSD": "ssd", "FineTune": "finetune", "FisherForgetting": "fisher",
          "InfluenceUnlearn": "influence", "NAD": "nad"}


def method_name(class_name: str) -> str:
    """The snake_case name of an unlearning class, e.g. ``'RandomLabel'`` -> ``'random_label'``."""
    return _NAMES.get(class_name) or re.sub(r"(?<!^)(?=[A-Z])", "_", class_name).lower()


def find_config(name_or_path: Union[str, Path]) -> Path:
    """A config file: an existing path, or the name of a shipped config
    (``'demo_cifar10_cnn'``, ``'configs/demo_cifar10_cnn.py'``: see ``taskforget configs``).

    Raises:
        ConfigError: neither a file nor a shipped config's name.
    """
    path = Path(name_or_path)
    if path.is_file():
        return path
    shipped = CONFIG_ROOT / (path.name if path.suffix == ".py" else f"{path.name}.py")
    if shipped.is_file():
        return shipped
    names = ", ".join(p.stem for p in sorted(CONFIG_ROOT.glob("*.py")))
    raise ConfigError(f"config {name_or_path} does not exist: pass a config file or the name "
                      f"of a shipped config ({names})")


def method_names() -> List[str]:
    """Names of every method fragment (``configs/_base_/methods/*.py``)."""
    return sorted(p.stem for p in METHODS_DIR.glob("*.py"))


def method_fragment(name: str) -> Config:
    """The fragment of method ``name``; a clear error listing the valid names otherwise."""
    path = METHODS_DIR / f"{name}.py"
    if not path.is_file():
        raise ConfigError(f"unknown method {name!r}: choose one of {', '.join(method_names())}")
    fragment = Config.fromfile(str(path))
    if "model" not in fragment or "type" not in fragment.model:
        raise ConfigError(f"method fragment {path} must set model = dict(type=..., ...)")
    return fragment


def compose_method(cfg: Config, name: Optional[str] = None) -> Config:
    """Put method ``name`` (default: the protocol's ``method``) into the protocol ``cfg``, in
    place: ``cfg.model`` becomes the protocol's network and adapter + ``method_defaults`` + the
    fragment's knobs + ``method_settings[name]['model']``; ``cfg.forget`` gets the fragment's
    and then ``method_settings[name]['forget']`` schedule over the protocol's. A config whose
    ``model`` already names its class and that names no method (a backdoor defense) keeps its
    model and gets ``method_settings[defense_name]`` (its tuned setting) over it.
    """
    name = name or cfg.get("method")
    if name is None:
        if "type" not in cfg.get("model", {}):
            raise ConfigError("the config names no method: set method = '<name>' or pass "
                              f"--method (one of {', '.join(method_names())})")
        own = (cfg.get("method_settings") or {}).get(cfg.get("defense_name"), {})
        cfg.merge_from_dict({k: v.to_dict() if hasattr(v, "to_dict") else v
                             for k, v in own.items() if k in ("model", "forget")})
        cfg.method, cfg.method_type = method_name(cfg.model.type), cfg.model.type
        return cfg
    if cfg.get("method_type") is not None and cfg.get("method") == name:
        return cfg  # composed already (options applied since are kept)
    fragment = method_fragment(name)
    own = (cfg.get("method_settings") or {}).get(name, {})
    model = {k: v for k, v in cfg.model.to_dict().items() if k in _MODEL_KEYS}
    model.update(cfg.get("method_defaults") or {})
    model.update(fragment.model.to_dict())
    model.update(own.get("model", {}))
    method_class = MODELS.get(model["type"])
    if method_class is None:
        raise ConfigError(f"method fragment {name}: unknown class {model['type']!r}")
    accepts = inspect.signature(method_class.__init__).parameters
    if "pixel_mean" in accepts and model.get("pixel_mean") is None and "normalize" in cfg:
        # methods that attack in pixel space need the protocol's normalization
        model.update(pixel_mean=cfg.normalize.mean, pixel_std=cfg.normalize.std)
    cfg.model = model
    for schedule in (fragment.get("forget"), own.get("forget")):
        if schedule:
            cfg.merge_from_dict({"forget": schedule.to_dict() if hasattr(schedule, "to_dict")
                                 else schedule})
    cfg.method, cfg.method_type = name, model["type"]
    return cfg


UNTUNED = " (untuned)"


def is_tuned(cfg: Config, method: Optional[str] = None) -> bool:
    """Whether ``method`` (default: the composed ``cfg``'s; a backdoor defense: its
    ``defense_name``) runs at a setting selected on validation classes: one that
    benchmarks/tuning.py lists in the protocol's ``tuned_methods`` (configs/_base_/tuned/), not
    the fragment's or the protocol's own."""
    method = method or cfg.get("defense_name") or cfg.get("method")
    return method in (cfg.get("tuned_methods") or [])


def tuned_label(label: str, cfg: Config, method: Optional[str] = None) -> str:
    """A table row's ``label``, marked :data:`UNTUNED` unless :func:`is_tuned`."""
    return label if is_tuned(cfg, method) else label + UNTUNED


@dataclass(frozen=True)
class ForgetRequest:
    """One deletion request: protocol x method x (classes, parent, lineage).

    Args:
        protocol: a protocol config (path or loaded ``Config``).
        classes: the classes this request forgets (names or ids).
        method: method fragment name (default: the protocol's ``method``).
        parent: weights of an earlier forget run to continue from (a chain of requests:
            ``lineage`` is read from that run's results record); None starts from the
            original model.
    """

    protocol: Union[str, Config]
    classes: Sequence[Union[str, int]]
    method: Optional[str] = None
    parent: Optional[str] = None

    def config(self) -> Config:
        """The experiment config of this request (what ``build_stage_config`` takes)."""
        from taskforget.apis import lineage_of, prepare_experiment
        cfg = (Config.fromfile(str(self.protocol)) if not isinstance(self.protocol, Config)
               else copy.deepcopy(self.protocol))
        compose_method(cfg, self.method)
        cfg.forget_classes = list(self.classes)
        cfg.pop("request_classes", None)
        cfg.lineage = lineage_of(self.parent) if self.parent else []
        return prepare_experiment(cfg)
