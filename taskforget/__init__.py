"""taskforget: class-centric machine unlearning for vision (DELETE and baselines).

``taskforget.unlearn`` and ``taskforget.evaluate`` (:mod:`taskforget.api`) run a method on your
own model and data without a config, and ``taskforget.audit``
(:mod:`taskforget.evaluation.audit`) gathers the evidence that a class is gone, beside the
retrain model; they are imported on first use, so ``import taskforget`` stays cheap.
"""
import os

# albumentations checks PyPI for a newer version on import; never phone home.
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

__version__ = "0.1.0"
__all__ = ["unlearn", "evaluate", "available_methods", "UnlearnResult", "audit"]


def __getattr__(name: str):
    if name == "audit":
        from taskforget.evaluation.audit import audit
        return audit
    if name in __all__:
        from taskforget import api
        return getattr(api, name)
    raise AttributeError(f"module 'taskforget' has no attribute {name!r}")
