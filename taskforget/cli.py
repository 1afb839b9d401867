"""What the thin tools in tools/ share: arguments, config loading, running a stage, and the
one way a user error reaches the terminal (a short paragraph and exit status 2)."""
import argparse
import ast
import functools
import gc
import json
import os
import re
import sys
import traceback
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import torch
import torch.distributed as dist
from mmengine.config import Config, DictAction

from taskforget.apis import (
    build_stage_config,
    checkpoint_path,
    forget_tag,
    lineage_of,
    markdown_table,
    prepare_experiment,
    protocol_request,
    results_path,
    write_results,
)
from taskforget.checkpoint import digest_path, verify_digest
from taskforget.errors import ConfigError, RunExistsError, TaskforgetError
from taskforget.request import compose_method, find_config

# Top-level keys an option may add although the config does not set them.
OPTIONAL_KEYS = ("work_root", "run_suffix")
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("config", help="experiment config: a file or a shipped config's name, e.g. "
                                  "cls_cifar10_resnet20_cpu (`taskforget configs` lists them)")
    p.add_argument("--work-dir", type=lambda s: os.path.abspath(s),
                   help="experiment work root (default work_dirs/<experiment>); a relative path "
                        "is taken from the current directory")
    p.add_argument("--forget-classes", nargs="+", metavar="NAME",
                   help="the classes to forget, by exact name (or id), e.g. --forget-classes "
                        "airplane 'traffic light'; overrides the config's forget_classes")
    p.add_argument("--method", metavar="NAME",
                   help="unlearning method (a fragment configs/_base_/methods/NAME.py, e.g. "
                        "random_label); default: the config's `method`")
    p.add_argument("--cfg-options", nargs="+", default=[], metavar="KEY=VALUE",
                   help="override config keys, e.g. forget.train_cfg.max_epochs=5 "
                        "model.temperature=2; values are Python literals (quote strings with "
                        "spaces: \"key=['a b']\")")
    p.add_argument("--force", action="store_true",
                   help="overwrite the outputs of a run with other settings under the same name")
    p.add_argument("--debug", action="store_true", help="show the traceback of an error")
    p.add_argument("--launcher", choices=["none", "pytorch", "slurm", "mpi"], default="none",
                   help="job launcher (pytorch = torchrun, mmengine DDP; gloo on CPU)")
    return p


def parse_cfg_options(options: Sequence[str]) -> Dict[str, object]:
    """``['a.b=1', "c=['x y']"]`` -> ``{'a.b': 1, 'c': ['x y']}``.

    A value is read as a Python literal; otherwise as mmengine's unquoted form (``[a,b]``,
    ``1,2``) when it holds no space, else as a plain string when it holds no bracket or comma.

    Raises:
        ConfigError: no ``=``, a key that is not a dotted path, or an ambiguous value.
    """
    parsed = {}
    for option in options:
        key, sep, text = option.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--cfg-options {option!r} is not KEY=VALUE, e.g. "
                              f"forget.train_cfg.max_epochs=5")
        if not _KEY.match(key):
            raise ConfigError(f"--cfg-options key {key!r} is not a dotted config path (letters, "
                              f"digits, '_' and '.'; no spaces), e.g. model.temperature")
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            if text.strip().lower() in ("nan", "inf", "-inf", "+inf"):
                value = float(text)  # parsed, so that validation names the key
            elif " " not in text.strip():
                try:
                    value = DictAction._parse_iterable(text)
                except (AssertionError, RecursionError, ValueError) as exc:
                    raise ConfigError(f"--cfg-options {key}: cannot read {text!r} ({exc}); write "
                                      f"the value as a Python literal") from None
            elif not any(c in text for c in "[](),"):
                value = text
            else:
                raise ConfigError(
                    f"--cfg-options {key}: cannot read {text!r}: a list with spaces must be a "
                    f"Python literal with quoted strings, e.g. {key}=\"['air plane', 'cat']\"")
        parsed[key] = value
    return parsed


def apply_options(cfg: Config, options: Dict[str, object]) -> Config:
    """Merge parsed ``--cfg-options`` into ``cfg``, refusing unknown top-level keys."""
    for key, value in options.items():
        top = key.split(".")[0]
        if top not in cfg and top not in OPTIONAL_KEYS:
            known = ", ".join(sorted(k for k in cfg.keys() if not k.startswith("_")))
            raise ConfigError(f"--cfg-options {key}: the config has no key {top!r}; its keys "
                              f"are {known}")
        try:
            cfg.merge_from_dict({key: value})
        except (KeyError, TypeError, ValueError, AssertionError, AttributeError,
                RecursionError) as exc:
            raise ConfigError(f"--cfg-options {key}={value!r} does not fit the config: "
                              f"{type(exc).__name__}: {exc}") from None
    return cfg


def forget_classes_arg(names: List[str], class_names: Sequence[str]) -> List:
    """``--forget-classes`` tokens: exact class names; an all-digit token that is not a name
    is a class id. Checked exactly (no stripping, no case folding)."""
    return [name if name in class_names or not name.isdigit() else int(name) for name in names]


def load_config(args) -> Config:
    """The experiment config with the command line's overrides applied and checked."""
    path = find_config(args.config)
    try:
        cfg = Config.fromfile(str(path))
    except Exception as exc:  # noqa: BLE001 - mmengine raises anything from a bad file
        raise ConfigError(f"cannot read config {path}: {type(exc).__name__}: "
                          f"{str(exc).splitlines()[0] if str(exc) else ''}") from exc
    options = parse_cfg_options(getattr(args, "cfg_options", None) or [])
    # the method first, so that options (e.g. model.temperature=2) refine it
    compose_method(cfg, options.pop("method", None) or getattr(args, "method", None))
    apply_options(cfg, options)
    if getattr(args, "forget_classes", None):
        cfg.forget_classes = forget_classes_arg(args.forget_classes, cfg.get("class_names", ()))
    if getattr(args, "work_dir", None):
        cfg.work_root = args.work_dir
    if getattr(args, "parent", None):
        cfg.lineage = lineage_of(args.parent)
    return prepare_experiment(cfg)


def main_guard(main: Callable[[], None]) -> Callable[[], None]:
    """Run a tool's ``main``: a :class:`TaskforgetError` prints one paragraph (what is wrong
    and what to do) and exits with status 2; ``--debug`` shows the traceback."""
    @functools.wraps(main)
    def wrapped():
        try:
            main()
        except TaskforgetError as exc:
            if "--debug" in sys.argv:
                traceback.print_exc()
            print(f"taskforget: error: {exc}", file=sys.stderr)
            if "--debug" not in sys.argv:
                print("(run with --debug for the traceback)", file=sys.stderr)
            sys.exit(2)
    return wrapped


def check_outputs_free(stage_cfg: Config, stage: str, name: str) -> None:
    """Raise :class:`RunExistsError` when this run's results or weights exist from a run with
    other settings."""
    results = results_path(stage_cfg, name)
    if results.is_file():
        try:
            previous = json.loads(results.read_text()).get("config_hash")
        except ValueError:
            previous = None
        if previous != stage_cfg.run_hash:
            raise RunExistsError(
                f"{results} holds the results of a run with other settings: rerun with --force "
                f"to overwrite them, or give this run another name (--name, or --cfg-options "
                f"run_suffix=_v2, or another --work-dir)")
    if stage in ("original", "retrain", "forget"):
        weights = checkpoint_path(stage_cfg, stage)
        sidecar = digest_path(weights)
        if weights.is_file():
            try:
                verify_digest(weights, stage_cfg.run_hash)
            except TaskforgetError:
                raise RunExistsError(
                    f"{weights} holds weights from a run with other settings"
                    f"{'' if sidecar.is_file() else ' (or not written by taskforget)'}: rerun "
                    f"with --force to overwrite them, or write elsewhere (--work-dir, or "
                    f"--cfg-options run_suffix=_v2)") from None


def resume_checkpoint(stage_cfg: Config) -> Optional[str]:
    """The run's latest mmengine checkpoint, verified against the digest this project
    recorded when it saved it; None when the run has saved none yet."""
    pointer = Path(stage_cfg.work_dir) / "last_checkpoint"
    if not pointer.is_file():
        return None
    path = Path(pointer.read_text().strip())
    if path.parent.resolve() != Path(stage_cfg.work_dir).resolve():
        raise TaskforgetError(f"refusing to resume: {pointer} points outside the run's folder "
                              f"({path}); start the run afresh without --resume")
    return str(verify_digest(path, stage_cfg.run_hash))


class RunConfig(Config):
    """mmengine's Config, its ``pretty_text`` formatted once per content.

    The runner asks for the yapf-formatted text up to six times (environment log, config
    dump, visualizer, runtime info, every checkpoint's meta), 0.3-0.5 s each for our configs
    on one CPU core; the text depends on the settings alone, so it is kept until they change.
    """

    @classmethod
    def of(cls, cfg: Config) -> "RunConfig":
        """A copy of ``cfg`` (settings, text and file name)."""
        # a config built in memory has no text: given none, mmengine would read the file it names
        return cls(cfg.to_dict(), cfg_text=cfg.text or "\n", filename=cfg.filename)

    @property
    def pretty_text(self) -> str:
        settings = repr(self._cfg_dict.to_dict())
        cached = self.__dict__.get("_pretty_text_of")
        if cached is None or cached[0] != settings:
            cached = (settings, super().pretty_text)
            object.__setattr__(self, "_pretty_text_of", cached)
        return cached[1]


def build_runner(stage_cfg: Config):
    """``Runner.from_cfg``, with a misspelt type or keyword in the config reported as a
    :class:`ConfigError` instead of mmengine's registry traceback."""
    from mmengine.runner import Runner
    try:
        return Runner.from_cfg(RunConfig.of(stage_cfg))
    except KeyError as exc:
        if "registry" not in str(exc):
            raise
        raise ConfigError(f"unknown type in the config: {str(exc).strip(chr(39))}") from exc
    except TypeError as exc:
        if "unexpected keyword argument" not in str(exc):
            raise
        raise ConfigError(f"the config passes an argument a component does not take ({exc}): "
                          f"check the spelling of that key") from exc


def run_stage(cfg: Config, stage: str, launcher: str = "none", checkpoint: Optional[str] = None,
              work_dir: Optional[str] = None, resume: bool = False, name: Optional[str] = None,
              force: bool = False):
    """Build the runner of ``stage``, train (unless 'test'), evaluate on the test loader and
    write ``<work_root>/results/<name>.json``. Returns ``dict(name, metrics, wall_time_s)``.

    Raises:
        RunExistsError: outputs of a run with other settings exist (``force`` overwrites).
    """
    stage_cfg = build_stage_config(cfg, stage, checkpoint=checkpoint, work_dir=work_dir)
    stage_cfg.launcher = launcher
    name = name or os.path.basename(stage_cfg.work_dir)
    if resume:
        stage_cfg.load_from = resume_checkpoint(stage_cfg)
        stage_cfg.resume = stage_cfg.load_from is not None
        if stage_cfg.resume:
            stage_cfg.custom_hooks.append(dict(type="TrustedResumeHook",
                                               path=stage_cfg.load_from))
    if not force and not stage_cfg.get("resume"):
        check_outputs_free(stage_cfg, stage, name)
    if launcher == "pytorch" and not torch.cuda.is_available() and not dist.is_initialized():
        # mmengine's init_dist always calls torch.cuda.set_device; on CPU join the torchrun
        # group with gloo ourselves, which mmengine then uses as is.
        dist.init_process_group(backend="gloo")
    runner = build_runner(stage_cfg)
    wall_time = None
    if stage != "test":
        runner.train()
        wall_time = runner.message_hub.get_info("train_time_s")
    record = dict(name=name, metrics=runner.test(), wall_time_s=wall_time,
                  config_hash=stage_cfg.run_hash)
    if runner.rank == 0:
        path = write_results(record["metrics"], stage_cfg, record["name"], wall_time)
        record = json.loads(path.read_text())  # what a cached read gives back
        print(markdown_table([record]))
        print(f"results: {path}")
    if dist.is_initialized():
        # every rank waits for rank 0's files, then leaves the group cleanly (an open gloo
        # group can abort a process at interpreter exit); the runner's DDP wrapper holds the
        # group, so it goes first
        dist.barrier()
        del runner
        gc.collect()
        dist.destroy_process_group()
    return record


def run_or_load(cfg: Config, stage: str, name: Optional[str] = None, **kwargs) -> dict:
    """The stage's result record, read back when a run with exactly these settings (and, for
    training stages, its verified weights) is on disk, else run (overwriting a stale cache).

    The original of a request for other classes than its config file's is the file's original
    (:func:`~taskforget.apis.protocol_request`), trained or reused, then evaluated for this
    request (``original_<classes>``, with the training's ``wall_time_s``)."""
    stage_cfg = build_stage_config(cfg, stage, checkpoint=kwargs.get("checkpoint"),
                                   work_dir=kwargs.get("work_dir"))
    protocol = protocol_request(cfg) if stage == "original" else cfg
    if protocol is not cfg:
        trained = run_or_load(protocol, "original", **kwargs)
        record = run_or_load(cfg, "test", name=name or f"original_{forget_tag(cfg)}",
                             checkpoint=str(checkpoint_path(stage_cfg, "original")),
                             **{k: v for k, v in kwargs.items() if k in ("launcher", "work_dir")})
        return dict(record, wall_time_s=trained.get("wall_time_s"))
    name = name or os.path.basename(stage_cfg.work_dir)
    results = results_path(stage_cfg, name)
    if results.is_file():
        record = json.loads(results.read_text())
        fresh = record.get("config_hash") == stage_cfg.run_hash
        if fresh and stage in ("original", "retrain", "forget"):
            try:
                verify_digest(checkpoint_path(stage_cfg, stage), stage_cfg.run_hash)
            except TaskforgetError:
                fresh = False
        if fresh:
            print(f"[cache] reusing {name} ({results})")
            return record
        print(f"[cache] {name}: the cached run used other settings; running it again")
    return run_stage(cfg, stage, name=name, force=True, **kwargs)
