from .hooks import ExportWeightsHook, FiniteLossHook, TrainTimeHook, UnlearningSetupHook
from .optim import BF16OptimWrapper

__all__ = ["ExportWeightsHook", "FiniteLossHook", "TrainTimeHook", "UnlearningSetupHook",
           "BF16OptimWrapper"]
