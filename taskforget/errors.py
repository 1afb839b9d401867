"""The one family of errors a user can act on: bad classes, paths, checkpoints, configs, options.

Every message says what is wrong and what to do. The tools print the message alone and exit
with status 2 (``--debug`` shows the traceback); anything else that escapes is a bug.
"""
import math
from numbers import Real
from typing import Optional


class TaskforgetError(Exception):
    """Base of every user error raised by taskforget."""


class ConfigError(TaskforgetError, ValueError):
    """A config value or command-line option is invalid."""


class DataError(TaskforgetError, FileNotFoundError):
    """A dataset folder, file or layout is missing or malformed."""


class CheckpointError(TaskforgetError, RuntimeError):
    """A checkpoint cannot be read, is unsafe, or does not fit the model."""


class DivergedError(TaskforgetError, FloatingPointError):
    """Training produced a NaN or infinite loss."""


class RunExistsError(TaskforgetError, FileExistsError):
    """Outputs of a different run are already where this run would write."""


def check_number(name: str, value, low: Optional[float] = None, high: Optional[float] = None,
                 low_open: bool = False, high_open: bool = False, integer: bool = False):
    """Return ``value`` if it is a finite number in the range, else raise :class:`ConfigError`.

    Args:
        name: the hyperparameter's config key, named in the message.
        low, high: bounds (None: unbounded); ``low_open``/``high_open`` exclude them.
        integer: the value must be a whole number.
    """
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {value!r}: set it to a real "
                          "value in the config or with --cfg-options")
    if integer and int(value) != value:
        raise ConfigError(f"{name} must be a whole number, got {value!r}")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        interval = f"{'(' if low_open or low is None else '['}{lo}, {hi}" \
                   f"{')' if high_open or high is None else ']'}"
        raise ConfigError(f"{name} must be in {interval}, got {value!r}")
    return value
