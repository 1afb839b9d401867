"""bf16 autocast for CPU training (mmengine's AmpOptimWrapper refuses CPU)."""
from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper

from taskforget.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class BF16OptimWrapper(OptimWrapper):
    """OptimWrapper whose forward passes run under bf16 autocast on the model's device type.

    Faster on CPU (about 2x) but changes numerics: reported metrics use fp32 by default.
    """

    @contextmanager
    def optim_context(self, model):
        device = "cuda" if torch.cuda.is_available() else "cpu"
        with super().optim_context(model), torch.autocast(device, dtype=torch.bfloat16):
            yield
