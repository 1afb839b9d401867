from .forget_split import (
                           ForgetSplitError,
                           forget_class_list,
                           resolve_forget_classes,
                           select_samples,
)
from .transforms import build_pipeline, is_random_pipeline

__all__ = ["ForgetSplitError", "resolve_forget_classes", "select_samples", "forget_class_list",
           "build_pipeline", "is_random_pipeline"]
