"""bf16 autocast for CPU training (mmengine's AmpOptimWrapper refuses CPU), where the hardware
computes bf16 natively."""
from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper

from taskforget.registry import OPTIM_WRAPPERS


def native_bf16() -> bool:
    """Whether this machine's training device computes bf16 natively: a CUDA GPU that supports
    it, or a CPU with AVX512-BF16 or AMX-BF16. Elsewhere (e.g. an AVX2-only CPU) bf16 is
    emulated: a train step measured 16x (ResNet-20) to 39x (ResNet-18) slower than fp32 on a
    2-core AMD EPYC (benchmarks/precision.py)."""
    if torch.cuda.is_available():
        return torch.cuda.is_bf16_supported()
    capabilities = torch.cpu.get_capabilities()
    return bool(capabilities.get("avx512_bf16") or capabilities.get("amx_bf16"))


def resolve_precision(cfg) -> None:
    """Train in fp32 where bf16 is not native: a ``BF16OptimWrapper`` in ``cfg.optim_wrapper``
    becomes mmengine's plain ``OptimWrapper`` (in place). The change is part of the config,
    hence of the run's hash and its recorded hyperparameters, so fp32 and bf16 results are
    never mixed."""
    optim = cfg.get("optim_wrapper")
    if optim is not None and optim.get("type") == "BF16OptimWrapper" and not native_bf16():
        optim.type = "OptimWrapper"


@OPTIM_WRAPPERS.register_module()
class BF16OptimWrapper(OptimWrapper):
    """OptimWrapper whose forward passes run under bf16 autocast on the model's device type.

    About 2x faster than fp32 on a CPU with native bf16 but changes numerics: reported metrics
    use fp32 by default. Stage configs replace it by fp32 where bf16 is not native
    (:func:`resolve_precision`).
    """

    @contextmanager
    def optim_context(self, model):
        device = "cuda" if torch.cuda.is_available() else "cpu"
        with super().optim_context(model), torch.autocast(device, dtype=torch.bfloat16):
            yield
