from .forget_split import (
                           ForgetSplitError,
                           check_class_names,
                           forget_class_list,
                           resolve_forget_classes,
                           select_samples,
)
from .transforms import build_pipeline, is_random_pipeline

__all__ = ["ForgetSplitError", "check_class_names", "resolve_forget_classes", "select_samples",
           "forget_class_list", "build_pipeline", "is_random_pipeline"]
