"""Unlearn classes from your own model and data in one call, and score the result.

    result = taskforget.unlearn(model, forget_data, forget_classes=[3], test_data=test_set)
    result.model, result.metrics

``model`` is any ``nn.Module`` whose ``forward(x)`` returns logits: (N, K) for classification,
(N, K, H, W) for segmentation (the task is read from the labels' shape). Data is a map-style
dataset or a ``DataLoader`` yielding (image, label) or (image, mask) pairs or dicts (see
:mod:`taskforget.datasets.user_data`). No config, runner or work folder is involved: this is
the config-free route into the same methods, adapters and metrics the tools use.
"""
import copy
import functools
import logging
import math
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import nn

from taskforget.datasets import resolve_forget_classes
from taskforget.datasets.user_data import as_batches, check_labels, class_names_of, first_batch
from taskforget.errors import ConfigError, DivergedError, TaskforgetError, check_number
from taskforget.network import as_contract

# Defaults come from the method fragments (configs/_base_/methods/<name>.py) composed on the
# CPU protocol: the same schedule and knobs the tools run. Knobs tied to that protocol's data
# are left to the caller.
DEFAULT_PROTOCOL = "cls_cifar10_resnet20_cpu"
_PROTOCOL_KNOBS = ("pixel_mean", "pixel_std")
ALIASES = {"fisher": "FisherForgetting", "influence": "InfluenceUnlearn"}
TEST_UID_OFFSET = 1 << 32  # test images' uids, apart from the training images'
_SET_BY_UNLEARN = ("network", "adapter", "remain_dataloader", "cache_teacher_logits",
                   "original_checkpoint", "checkpoint", "norm_eval")


@dataclass
class UnlearnResult:
    """What :func:`unlearn` returns.

    Attributes:
        model: the unlearned network: a new copy of the input model (same class, same
            ``training`` mode and ``requires_grad`` flags), on the run's device.
        metrics: :func:`evaluate`'s record of ``model`` beside the input model, or None when no
            evaluation data was given.
        method: the method's registered name.
        settings: the optimizer, lr, epochs, batch size, seed, device, task, forget class
            ids, whether remaining data was used, ``norm_eval`` and the method's own knobs
            (``method_kwargs``).
        wall_time_s: the method's preparation and training, evaluation excluded.
        losses: the summed training loss of every step.
    """

    model: nn.Module = field(repr=False)
    metrics: Optional[Dict[str, float]]
    method: str
    settings: dict
    wall_time_s: float
    losses: List[float] = field(default_factory=list, repr=False)


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name).lower()


def available_methods() -> Dict[str, type]:
    """Registered name -> class of every unlearning method :func:`unlearn` can run.

    The methods of :mod:`taskforget.methods` plus any :class:`~taskforget.methods.Unlearner`
    subclass registered in ``taskforget.registry.MODELS`` by the caller; the backdoor-defense
    methods (``tools/defend.py``) are not offered here.
    """
    import taskforget.methods  # noqa: F401  (registers the methods)
    from taskforget.methods import Unlearner
    from taskforget.registry import MODELS
    return {name: cls for name, cls in sorted(MODELS.module_dict.items())
            if isinstance(cls, type) and issubclass(cls, Unlearner) and cls is not Unlearner
            and not cls.__module__.startswith("taskforget.tasks.")}


def resolve_method(method: str) -> Tuple[str, type]:
    """(registered name, class) of ``method``: a class name (``'RandomLabel'``), its snake_case
    (``'random_label'``) or a method fragment's name (``'fisher'``, ``'influence'``);
    case-insensitive.

    Raises:
        ConfigError: unknown or not offered here (names the valid ones).
    """
    methods = available_methods()
    if not isinstance(method, str):
        raise ConfigError(f"method must be a method name (str), got {method!r}")
    by_key = {_key(name): name for name in methods}
    by_key.update({k: v for k, v in ALIASES.items() if v in methods})
    name = by_key.get(_key(method))
    if name is None:
        from taskforget.registry import MODELS
        hint = ""
        if method in MODELS.module_dict:
            hint = (f" ({method} is a backdoor-defense method: run it through `taskforget "
                    "defend` / tools/defend.py)")
        raise ConfigError(f"unknown unlearning method {method!r}{hint}; valid methods: "
                          f"{', '.join(methods)} (class names or snake_case)")
    return name, methods[name]


class _RunnerShim:
    """The part of mmengine's Runner that methods' ``before_unlearning`` reads."""

    def __init__(self, train_dataloader):
        self.train_dataloader = train_dataloader
        self.cfg: dict = {}
        self.logger = logging.getLogger("taskforget")
        self.epoch = self.iter = 0


def _device(device: Optional[str]) -> torch.device:
    """``device``, default 'cuda' when available else 'cpu'; a bare 'cuda' gets its index."""
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    return device


def _probe(network: nn.Module, batch: dict, device, name: str) -> Tuple[str, int]:
    """(task, K) from the network's output on the first batch; refuses unusable outputs."""
    labels = batch["data_samples"]["label"]
    was_training = network.training
    network.eval()
    try:
        with torch.no_grad():
            logits = network(batch["inputs"][:2].to(device))
    finally:
        network.train(was_training)
    if not torch.is_tensor(logits):
        raise ConfigError(
            f"the model's forward returned a {type(logits).__name__}: it must return the logits "
            "tensor, (N, K) or (N, K, H, W) (wrap a model that returns a dict, e.g. torchvision "
            "segmentation models' {'out': ...}, in a module that returns the logits)")
    if labels.dim() == 1 and logits.dim() == 2:
        return "classification", logits.shape[1]
    if labels.dim() == 3 and logits.dim() == 4 and logits.shape[2:] == labels.shape[1:]:
        return "segmentation", logits.shape[1]
    raise ConfigError(
        f"{name}: labels of shape {tuple(labels.shape)} do not fit the model's logits of "
        f"shape {tuple(logits.shape)}: give (N,) class ids with (N, K) logits "
        "(classification) or (N, H, W) masks with (N, K, H, W) logits (segmentation)")


def _adapter(task: str, class_names, forget_classes, ignore_index: int):
    if task == "classification":
        from taskforget.tasks.classification.adapter import ClassificationAdapter
        return ClassificationAdapter(class_names, forget_classes)
    from taskforget.tasks.segmentation.adapter import SegmentationAdapter
    return SegmentationAdapter(class_names, forget_classes, ignore_index=ignore_index)


def _class_names(class_names, forget_classes, num_classes: int, *datas) -> Tuple[str, ...]:
    """The class names (given, or the data's ``classes``, or '0'..'K-1'), checked."""
    names = class_names if class_names is not None else class_names_of(*datas)
    source = "class_names" if class_names is not None else "the data's `classes`"
    refs = [forget_classes] if isinstance(forget_classes, (str, int)) else list(forget_classes)
    if names is None:
        if any(isinstance(r, str) for r in refs):
            raise ConfigError(
                f"forget_classes {forget_classes!r} names classes, but the data has no "
                "`classes` and no class_names were given: pass class_names=[...] (index = "
                "class id) or forget class ids")
        names = [str(i) for i in range(num_classes)]
    names = tuple(names)
    if len(names) != num_classes or len(set(names)) != len(names):
        raise ConfigError(f"{source} lists {len(names)} classes ({len(set(names))} distinct) "
                          f"but the model has {num_classes} outputs: make them agree (or pass "
                          "class_names)")
    return names


def _optimizer_class(name: str) -> type:
    cls = getattr(torch.optim, name, None) if isinstance(name, str) else None
    if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
        raise ConfigError(f"optimizer must name a torch.optim optimizer (e.g. 'SGD', 'Adam'), "
                          f"got {name!r}")
    return cls


def _optimizer(settings: dict, params) -> torch.optim.Optimizer:
    """``torch.optim.<type>(params, **rest)`` from an optimizer config dict."""
    settings = dict(settings)
    return _optimizer_class(settings.pop("type"))(params, **settings)


@functools.lru_cache(maxsize=64)
def _fragment_defaults(fragment: str) -> Tuple[dict, int, tuple, bool]:
    """(optimizer dict, epochs, knobs, norm_eval) of a method fragment on
    :data:`DEFAULT_PROTOCOL` (its selected setting there, when the protocol has one)."""
    from mmengine.config import Config

    from taskforget.request import compose_method, find_config
    cfg = compose_method(Config.fromfile(str(find_config(DEFAULT_PROTOCOL))), fragment)
    knobs = {k: v for k, v in cfg.model.to_dict().items()
             if k not in (*_SET_BY_UNLEARN, *_PROTOCOL_KNOBS, "type")}
    return (cfg.forget.optim_wrapper.optimizer.to_dict(), cfg.forget.train_cfg.max_epochs,
            tuple(sorted(knobs.items())), bool(cfg.model.get("norm_eval", False)))


def method_fragment_name(name: str, remain: bool) -> Optional[str]:
    """The fragment of a registered method: its snake_case name, ``_dr`` with remaining data
    when that variant exists; None for a method without one (registered by you)."""
    from taskforget.request import method_name, method_names
    base = method_name(name)
    names = method_names()
    if remain and f"{base}_dr" in names:
        return f"{base}_dr"
    return base if base in names else None


def _build_method(cls, name: str, kwargs: dict):
    try:
        return cls(**kwargs)
    except TaskforgetError:
        raise
    except TypeError as exc:
        if "argument" not in str(exc):
            raise
        raise ConfigError(f"{name} does not take these arguments ({exc}); its knobs are in "
                          f"help(taskforget.methods.{cls.__name__})") from exc


def _check_request(name: str, cls, method_kwargs: dict, remain_data, forget_data,
                   cache_teacher_logits: bool) -> None:
    """Refuse what the method cannot do with these arguments, before any work."""
    bad = sorted(set(method_kwargs) & set(_SET_BY_UNLEARN))
    if bad:
        raise ConfigError(f"{', '.join(bad)} are set by unlearn itself: use its own arguments "
                          "(remain_data, norm_eval, cache_teacher_logits)")
    if remain_data is None and cls.requires_remaining_data:
        raise ConfigError(f"{name} needs the remaining data: pass remain_data (training images "
                          "of the remaining classes)")
    if remain_data is not None and not cls.accepts_remaining_data:
        raise ConfigError(f"{name} is forget-set only: it does not use remaining data, so "
                          "remain_data is refused (drop it)")
    if cache_teacher_logits and isinstance(forget_data, torch.utils.data.DataLoader):
        raise ConfigError("cache_teacher_logits needs forget_data as a dataset: a DataLoader's "
                          "samples have no stable ids")


def _schedule(name: str, cls, optimizer: Optional[str], lr: Optional[float],
              epochs: Optional[int], remain: bool,
              norm_eval: Optional[bool]) -> Tuple[dict, float, int, dict, bool]:
    """(optimizer dict, lr, epochs, default knobs, norm_eval): the arguments over the method
    fragment's settings (DELETE's for a method without a fragment)."""
    fragment = method_fragment_name(name, remain) or "delete"
    settings, default_epochs, knobs, default_norm_eval = _fragment_defaults(fragment)
    knobs = dict(knobs) if fragment != "delete" or name == "DELETE" else {}
    default_optimizer, default_lr = settings["type"], settings["lr"]
    if not cls.trains:
        default_epochs = 0
        if epochs:
            raise ConfigError(f"{name} edits the weights once and trains nothing: leave epochs "
                              f"unset (0), got {epochs}")
    optimizer = optimizer or default_optimizer
    _optimizer_class(optimizer)
    # another optimizer than the fragment's starts from its own defaults
    settings = dict(settings) if optimizer == default_optimizer else dict(type=optimizer)
    settings["lr"] = check_number("lr", default_lr if lr is None else lr, low=0, low_open=True)
    return (settings, settings["lr"],
            check_number("epochs", default_epochs if epochs is None else epochs, low=0,
                         integer=True), knobs,
            default_norm_eval if norm_eval is None else bool(norm_eval))


def unlearn(model: nn.Module, forget_data, forget_classes, method: str = "DELETE", *,
            class_names: Optional[Sequence[str]] = None, remain_data=None, train_data=None,
            test_data=None, epochs: Optional[int] = None, lr: Optional[float] = None,
            optimizer: Optional[str] = None, batch_size: int = 128,
            device: Optional[str] = None, norm_eval: Optional[bool] = None,
            cache_teacher_logits: bool = False, ignore_index: int = 255, mia: bool = True,
            seed: Optional[int] = 0, progress: bool = True, **method_kwargs) -> UnlearnResult:
    """Erase ``forget_classes`` from a copy of ``model``, trained on the forget data.

    Defaults are the method's fragment (``configs/_base_/methods/<name>.py``, its ``_dr``
    variant when ``remain_data`` is given) on the CPU protocol (:data:`DEFAULT_PROTOCOL`), at the
    method's selected setting there once its search is complete
    (``configs/_base_/tuned/cls_cifar10_resnet20_cpu.py``, which holds its lr, epochs and
    batch-norm mode): the schedule and knobs the tools run. For DELETE: SGD, momentum 0.9, no
    weight decay, batch 128, temperature 1, alpha 0.
    Weight-editing methods (SSD, FisherForgetting, InfluenceUnlearn) run zero epochs.

    Args:
        model: the trained network; ``forward(x)`` returns (N, K) or (N, K, H, W) logits.
            Left untouched.
        forget_data: the forget set D_f: the training images of the forgotten classes (for
            segmentation: the images that contain them, with full masks). A map-style dataset
            or a DataLoader of (image, label) / (image, mask) pairs or dicts; images are the
            (C, H, W) float tensors the model takes, labels class ids, masks (H, W) class ids
            with ``ignore_index`` at ignored pixels.
        forget_classes: class ids, or names when class names are known.
        method: a registered method (:func:`available_methods`), by class or snake_case name.
        class_names: names of the K classes, index = class id (default: the data's
            ``classes`` attribute, e.g. torchvision's ImageFolder, else '0'..'K-1').
        remain_data: the remaining data D_r, only for methods that use it (required by
            FineTune, Amnesiac, UNSIR, SSD, FisherForgetting; optional variant of RandomLabel,
            NegativeGradient, SalUn, BadTeacher, SCRUB, MaGA, InfluenceUnlearn; refused by
            the forget-set-only ones).
        train_data, test_data: evaluation data (all classes, test-time transforms): training
            and test images; either or both. Given, ``metrics`` holds :func:`evaluate`'s record.
        epochs, lr, optimizer: the schedule (default: the method's, see above); ``optimizer``
            names a ``torch.optim`` class.
        batch_size: of the loaders built around datasets (a DataLoader keeps its own).
        device: where to run (default: 'cuda' when available, else 'cpu').
        norm_eval: keep batch-norm layers in eval mode (running statistics untouched);
            default: the method's setting on the protocol (its fragment, the protocol's
            ``method_defaults`` and its selected setting there).
        cache_teacher_logits: reuse the frozen model's logits per forget image (faster; only
            when ``forget_data`` is a dataset without random augmentation).
        ignore_index: mask value of ignored pixels (segmentation).
        mia: compute the MIA in the metrics.
        seed: seeds the run (batch order, method randomness); the global RNG is left as found.
            None: use the global RNG as it is.
        progress: show a progress bar of the training steps.
        **method_kwargs: the method's own knobs, e.g. DELETE's ``temperature`` and ``alpha``,
            BoundaryShrink's ``pixel_mean`` / ``pixel_std``, ``frozen=('head',)``.

    Returns:
        :class:`UnlearnResult` with the new model and, given evaluation data, its metrics.

    Raises:
        ConfigError: unknown method, missing or refused remaining data, bad classes or
            schedule numbers, labels that do not fit the model's output.
        taskforget.datasets.user_data.DataFormatError: data that yields neither pairs nor
            dicts.
        taskforget.network.NetworkContractError: a method that needs the network contract on a
            network without it.
        DivergedError: the loss became NaN or infinite.
    """
    name, cls = resolve_method(method[:-3] if str(method).endswith("_dr") else method)
    if str(method).endswith("_dr") and remain_data is None:
        raise ConfigError(f"{method} is the variant of {name} that uses the remaining data: "
                          "pass remain_data")
    _check_request(name, cls, method_kwargs, remain_data, forget_data, cache_teacher_logits)
    optimizer_settings, lr, epochs, knobs, norm_eval = _schedule(
        name, cls, optimizer, lr, epochs, remain_data is not None, norm_eval)
    method_kwargs = {**knobs, **method_kwargs}
    batch_size = check_number("batch_size", batch_size, low=1, integer=True)
    if cls.needs_network_contract:
        as_contract(model, name)
    device = _device(device)
    rng_devices = [device.index] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=rng_devices, enabled=seed is not None):
        if seed is not None:
            torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        forget_loader = as_batches(forget_data, "forget_data", batch_size=batch_size,
                                   shuffle=True, generator=generator)
        batch = first_batch(forget_loader)
        task, num_classes = _probe(model, batch, next(_devices(model), device), "forget_data")
        names = _class_names(class_names, forget_classes, num_classes, forget_data, train_data,
                             test_data, remain_data)
        forget_ids = resolve_forget_classes(forget_classes, names)
        check_labels(batch["data_samples"]["label"], num_classes,
                     ignore_index if task == "segmentation" else None, "forget_data")
        kwargs = dict(network=copy.deepcopy(model), adapter=_adapter(
            task, names, list(forget_ids), ignore_index), norm_eval=norm_eval,
            cache_teacher_logits=cache_teacher_logits, **method_kwargs)
        if remain_data is not None:
            kwargs["remain_dataloader"] = as_batches(
                remain_data, "remain_data", batch_size=batch_size, shuffle=True,
                uid_offset=TEST_UID_OFFSET * 2, generator=generator)
        unlearner = _build_method(cls, name, kwargs).to(device)
        start = time.perf_counter()
        losses = _train(unlearner, forget_loader, optimizer_settings, epochs, name, progress)
        wall_time = time.perf_counter() - start
    unlearned = _copy_with_weights(model, unlearner.student.state_dict(), device, name)
    metrics = None
    if train_data is not None or test_data is not None:
        metrics = evaluate(unlearned, unlearner.teacher, forget_ids, train_data, test_data,
                           class_names=names, batch_size=batch_size, device=device,
                           ignore_index=ignore_index, mia=mia,
                           seed=0 if seed is None else seed)
    settings = dict(optimizer=optimizer_settings, lr=lr, epochs=epochs, batch_size=batch_size,
                    seed=seed, device=str(device), task=task, forget_classes=list(forget_ids),
                    uses_remaining_data=remain_data is not None, norm_eval=norm_eval,
                    method_kwargs=dict(method_kwargs))
    return UnlearnResult(model=unlearned, metrics=metrics, method=name, settings=settings,
                         wall_time_s=wall_time, losses=losses)


def _copy_with_weights(model: nn.Module, weights: dict, device, name: str) -> nn.Module:
    """A copy of the input model (its class, mode, flags; none of the methods' hooks) holding
    the unlearned weights, on ``device``."""
    if not all(torch.isfinite(w).all() for w in weights.values() if w.is_floating_point()):
        raise DivergedError(f"{name} left NaN or infinite weights: lower lr or the method's "
                            "step size (e.g. alpha)")
    unlearned = copy.deepcopy(model).to(device)
    unlearned.load_state_dict(weights)
    return unlearned


def _devices(model: nn.Module):
    return (p.device for p in model.parameters())


def _train(unlearner, forget_loader, optimizer_settings: dict, epochs: int, name: str,
           progress: bool) -> List[float]:
    """The runner's loop without the runner: prepare, then ``train_step`` per forget batch."""
    from mmengine.optim import OptimWrapper
    from tqdm import tqdm

    unlearner.train()
    unlearner.before_unlearning(_RunnerShim(forget_loader))
    if epochs == 0:
        return []
    params = [p for p in unlearner.parameters() if p.requires_grad]
    optim_wrapper = OptimWrapper(_optimizer(optimizer_settings, params))
    losses: List[float] = []
    with tqdm(total=epochs * len(forget_loader), desc=name, unit="step",
              disable=not progress) as bar:
        for epoch in range(epochs):
            for batch in forget_loader:
                loss = unlearner.train_step(batch, optim_wrapper).get("loss")
                if loss is not None:
                    loss = float(loss.detach() if torch.is_tensor(loss) else loss)
                    if not math.isfinite(loss):
                        raise DivergedError(
                            f"{name}'s loss became {loss} in epoch {epoch + 1}: lower lr "
                            f"(now {optimizer_settings['lr']:g}) or the method's step size")
                    losses.append(loss)
                    bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
                bar.update(1)
    return losses


class _EvalMode:
    """Puts modules in eval mode for a block and restores each one's mode after."""

    def __init__(self, *modules: nn.Module):
        self.modules = [m for m in modules if m is not None]

    def __enter__(self):
        self.modes = [m.training for m in self.modules]
        for m in self.modules:
            m.eval()

    def __exit__(self, *exc):
        for m, mode in zip(self.modules, self.modes):
            m.train(mode)


@contextmanager
def _quiet_mmengine():
    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _on(model: Optional[nn.Module], device: torch.device) -> Optional[nn.Module]:
    """``model`` itself when it lives on ``device``, else a copy moved there."""
    if model is None or all(p.device == device for p in model.parameters()):
        return model
    return copy.deepcopy(model).to(device)


@torch.no_grad()
def evaluate(model: nn.Module, original: Optional[nn.Module], forget_classes,
             train_data=None, test_data=None, *, class_names: Optional[Sequence[str]] = None,
             batch_size: int = 256, device: Optional[str] = None, ignore_index: int = 255,
             mia: bool = True, seed: int = 0, progress: bool = False) -> Dict[str, float]:
    """Score a model (beside the original one) the way the tools' results JSON does.

    Classification: Acc_f / Acc_r (training images of the forgotten / remaining classes),
    Acc_ft / Acc_rt (test images), MIA and MIA_efficacy (needs both splits), and with
    ``original``: ``original/<key>`` for each and H-Mean (DESIGN §4, via
    :class:`~taskforget.evaluation.UnlearningMetric`). Segmentation: IoU_ft, IoU_rt, mIoU,
    aAcc, ``IoU/<class>``, ``forget_as/<class>`` (IoU_f, IoU_r, ``train/<key>`` on training
    images), ``original/<key>`` and H-Mean (:class:`~taskforget.tasks.segmentation.
    SegUnlearningMetric`). All in %.

    Args:
        model: the model to score; left as it is (modes restored; a copy is moved when it
            lives on another device).
        original: the model before unlearning (None: no original/* keys, no H-Mean).
        forget_classes: class ids, or names when class names are known.
        train_data, test_data: training and test images of all classes (test-time
            transforms): datasets or DataLoaders as for :func:`unlearn`; either or both.
        class_names: names of the K classes (default: the data's ``classes``, else '0'..).
        batch_size: of the loaders built around datasets.
        device: where to run (default: 'cuda' when available, else 'cpu').
        ignore_index: mask value of ignored pixels (segmentation).
        mia: compute the MIA (an SVC fit).
        seed: seed of the MIA's member sample.
        progress: show a progress bar of the batches.

    Returns:
        The metric record (str -> float).
    """
    from tqdm import tqdm

    if train_data is None and test_data is None:
        raise ConfigError("evaluate needs train_data and/or test_data")
    device = _device(device)
    net, orig = _on(model, device), _on(original, device)
    loaders = [as_batches(data, arg, is_train=arg == "train_data", batch_size=batch_size,
                          uid_offset=0 if arg == "train_data" else TEST_UID_OFFSET)
               for arg, data in (("train_data", train_data), ("test_data", test_data))
               if data is not None]
    task, num_classes = _probe(net, first_batch(loaders[0]), device,
                               "train_data" if train_data is not None else "test_data")
    names = _class_names(class_names, forget_classes, num_classes, train_data, test_data)
    adapter = _adapter(task, names, forget_classes, ignore_index)
    records = []
    with _EvalMode(net, orig):
        for loader in loaders:
            for batch in tqdm(loader, desc="evaluate", unit="batch", disable=not progress):
                x = batch["inputs"].to(device)
                samples = {k: v.to(device) for k, v in batch["data_samples"].items()}
                check_labels(samples["label"], num_classes,
                             ignore_index if task == "segmentation" else None, "the data")
                results = adapter.predict(net(x), samples)
                if orig is not None:
                    for result, before in zip(results, adapter.predict(orig(x), samples)):
                        result["original"] = before
                records.extend(results)
    with _quiet_mmengine():  # its warning that the metric has no prefix
        if task == "classification":
            from taskforget.evaluation import UnlearningMetric
            metric = UnlearningMetric(mia=mia, seed=seed)
        else:
            from taskforget.tasks.segmentation.metrics import SegUnlearningMetric
            metric = SegUnlearningMetric(forget_classes=adapter.forget_ids, class_names=names)
    metric.process(None, records)
    return metric.compute_metrics(metric.results)
