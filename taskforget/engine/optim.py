"""bf16 autocast for CPU training (mmengine's AmpOptimWrapper refuses CPU), where the hardware
computes bf16 natively."""
import os
from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper

from taskforget.errors import ConfigError
from taskforget.registry import OPTIM_WRAPPERS

# CPU kernel limits (set before Python starts) under which bf16 is emulated even on a CPU with
# AVX512-BF16: torch's own kernels, oneDNN's (convolutions)
_NO_BF16_KERNELS = {"ATEN_CPU_CAPABILITY": {"default", "avx2"},
                    "ONEDNN_MAX_CPU_ISA": {"sse41", "avx", "avx2", "avx2_vnni", "avx2_vnni_2",
                                           "avx512_core", "avx512_core_vnni"}}


def native_bf16() -> bool:
    """Whether this machine's training device computes bf16 natively: a CUDA GPU that supports
    it, or a CPU with AVX512-BF16 or AMX-BF16 whose kernels are not limited below it (the AVX2
    kernels of :data:`AVX2_KERNELS`). Elsewhere (e.g. an AVX2-only CPU) bf16 is emulated: a
    train step measured 16x (ResNet-20) to 39x (ResNet-18) slower than fp32 on a 2-core AMD
    EPYC (benchmarks/precision.py)."""
    if torch.cuda.is_available():
        return torch.cuda.is_bf16_supported()
    if any(os.environ.get(name, "").lower() in limits
           for name, limits in _NO_BF16_KERNELS.items()):
        return False
    capabilities = torch.cpu.get_capabilities()
    return bool(capabilities.get("avx512_bf16") or capabilities.get("amx_bf16"))


PRECISIONS = ("auto", "fp32")
# The CPU kernels of an AVX2-only machine, chosen by environment variables that the libraries
# read once, when they first run: torch's own kernels, oneDNN's (convolutions), MKL's (matrix
# products). With them a CPU with AVX-512 trains the same fp32 weights, bit for bit, as an
# AVX2-only CPU (measured 2026-12-06 on an EPYC with AVX-512: the AVX2-only EPYC's Yale B,
# CamVid and CIFAR-10 ResNet-20 originals, digests d69b097f58f44f09, c24f9ee4be7987a5 and
# 72cbc6bcee00d707; the Yale B one without them: another digest).
AVX2_KERNELS = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2",
                "MKL_ENABLE_INSTRUCTIONS": "AVX2"}


def forced_fp32() -> bool:
    """``TASKFORGET_PRECISION=fp32``: train in fp32 on AVX2 kernels even where bf16 (or
    AVX-512) is native, so that this machine trains the weights an AVX2-only machine trains and
    continues the runs such machines keyed by their models' bytes (the committed ledgers). The
    kernels must be chosen before Python starts (:data:`AVX2_KERNELS`), else a ConfigError
    names them."""
    precision = os.environ.get("TASKFORGET_PRECISION", "auto")
    if precision not in PRECISIONS:
        raise ConfigError(f"TASKFORGET_PRECISION must be one of {PRECISIONS}, got "
                          f"{precision!r} (unset it for bf16 autocast where bf16 is native)")
    if precision == "auto":
        return False
    wider = not torch.cuda.is_available() and torch.cpu.get_capabilities().get("avx512_f")
    unset = [k for k, v in AVX2_KERNELS.items() if os.environ.get(k, "").lower() != v.lower()]
    if wider and unset:
        exports = " ".join(f"{k}={v}" for k, v in AVX2_KERNELS.items())
        raise ConfigError(
            f"TASKFORGET_PRECISION=fp32 on a CPU with AVX-512 needs the AVX2 kernels, chosen "
            f"before Python starts ({', '.join(unset)} not set): run `export {exports}` first")
    return True


def resolve_precision(cfg) -> None:
    """Train in fp32 where bf16 is not native (or :func:`forced_fp32`): a ``BF16OptimWrapper``
    in ``cfg.optim_wrapper`` becomes mmengine's plain ``OptimWrapper`` (in place). The change
    is part of the config, hence of the run's hash and its recorded hyperparameters, so fp32
    and bf16 results are never mixed."""
    optim = cfg.get("optim_wrapper")
    if (optim is not None and optim.get("type") == "BF16OptimWrapper"
            and (forced_fp32() or not native_bf16())):
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
