"""Config plumbing of the backdoor task: one ``attack`` dict drives every component."""
from mmengine.config import Config

from taskforget.errors import ConfigError

from .poison import BadNetsAttack


def _walk(node, fn) -> None:
    if isinstance(node, dict):
        fn(node)
        for value in node.values():
            _walk(value, fn)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _walk(value, fn)


def prepare_backdoor_config(cfg: Config) -> Config:
    """Copy ``cfg.attack`` into every dict with an ``attack`` key, point every
    ``BackdoorMetric`` at the target, and set ``forget_classes = [target]``.

    Raises:
        KeyError: the config has no ``attack`` dict (not a backdoor config).
    """
    if "attack" not in cfg:
        raise KeyError("config has no `attack` dict: use a configs/backdoor_*.py config")
    attack = BadNetsAttack(**cfg.attack)  # validates
    if not 0 <= attack.target < len(cfg.class_names):
        raise ConfigError(f"attack.target {attack.target} is not a class id of "
                         f"{len(cfg.class_names)} classes")
    cfg.forget_classes = [attack.target]

    def fill(node: dict) -> None:
        if "attack" in node:
            node["attack"] = dict(cfg.attack)
        if node.get("type") == "BackdoorMetric":
            node["target"] = attack.target

    _walk(cfg._cfg_dict, fill)
    return cfg
