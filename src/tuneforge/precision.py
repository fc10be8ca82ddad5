"""bf16 on CPUs that have bf16 instructions: training (via Accelerate) and serving (autocast) share the probe."""

from __future__ import annotations

import contextlib

import torch

__all__ = ["cpu_autocast", "cpu_has_native_bf16"]


def cpu_has_native_bf16() -> bool:
    """True on CPUs with bf16 instructions (AVX512-BF16, AMX), where bf16 matmuls run 2-4x faster than fp32.

    Elsewhere bf16 is emulated and slower than fp32. The probes are private torch functions; without them, no.
    """
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, probe, lambda: False)() for probe in probes)


def cpu_autocast(precision: str) -> contextlib.AbstractContextManager[object]:
    """bf16 autocast on the CPU for precision "bf16", or "auto" where the CPU has bf16 instructions; else fp32.

    Autocast keeps weights, layer norms and softmax in fp32 and runs only matmuls in bf16.
    """
    bf16 = precision == "bf16" or (precision == "auto" and cpu_has_native_bf16())
    return torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
