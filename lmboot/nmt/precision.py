"""Training precision: which float type the forward pass runs in, and whether kernels are deterministic.

``auto`` picks bf16 autocast where it trains faster and fp32 elsewhere:

- CPU: the ``amx_bf16`` flag in ``/proc/cpuinfo`` (AMX tile units: Intel Xeon since Sapphire
  Rapids), checked by flag, never by model name. ``avx512_bf16`` alone (AMD EPYC Zen 4) only
  converts and dots bf16 in vector registers: measured there, the trainer ran 0.91x as fast in
  bf16 as in fp32 (``scripts/bench_nmt.py --precision-table``, docs/nmt.md), so ``auto`` keeps
  fp32; ``--precision bf16`` still asks for it;
- CUDA: bf16 where the GPU supports it, else fp16 (with a gradient scaler).

Autocast only changes the compute type of matmuls and friends; the master weights, the
gradients and AdamW's state stay fp32, so the optimiser step is unchanged.

>>> resolve("fp32", "cpu")
'fp32'
>>> resolve("auto", "cpu", cpu_flags={"avx2"})
'fp32'
>>> resolve("auto", "cpu", cpu_flags={"avx512_bf16", "amx_bf16"})
'bf16'
"""
from __future__ import annotations

import contextlib
from functools import lru_cache

from lmboot.errors import LmbootError

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
BF16_CPU_FLAGS = ("amx_bf16",)  # where bf16 autocast pays on CPU (see the module docstring)


@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU feature flags the kernel reports (empty where ``/proc/cpuinfo`` is missing)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def resolve(precision: str, device_type: str, cpu_flags: set[str] | frozenset[str] | None = None) -> str:
    """The concrete precision (``fp32``, ``bf16`` or ``fp16``) for ``precision`` on a device type."""
    if precision not in PRECISIONS:
        raise LmbootError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    if device_type == "cpu":
        if precision == "fp16":
            raise LmbootError("fp16 training needs a GPU; use bf16 or fp32 on the CPU")
        if precision == "auto":
            flags = globals()["cpu_flags"]() if cpu_flags is None else cpu_flags
            return "bf16" if any(f in flags for f in BF16_CPU_FLAGS) else "fp32"
        return precision
    if precision == "auto":
        import torch

        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return precision


def autocast(precision: str, device_type: str):
    """The autocast context for a resolved precision (a no-op context for fp32)."""
    if precision == "fp32":
        return contextlib.nullcontext()
    import torch

    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=device_type, dtype=dtype)


def grad_scaler(precision: str, device_type: str):
    """A gradient scaler for fp16 on CUDA (bf16 and fp32 need none), else None."""
    if precision != "fp16" or device_type != "cuda":
        return None
    import torch

    return torch.amp.GradScaler("cuda")


__all__ = ["PRECISIONS", "resolve", "autocast", "grad_scaler", "cpu_flags"]
