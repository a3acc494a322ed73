"""How much memory the worker's device has free, measured, for the memory check and warm models.

CUDA: the driver's free figure (`torch.cuda.mem_get_info`); Apple mps: the recommended working set
minus what the driver holds; CPU: the memory the OS can give without swapping (psutil's
`available`). Models already loaded by this worker are not counted as free: the caller adds back
what it could release.
"""

from __future__ import annotations

import psutil

GIB = 2**30


def free_bytes(device: str) -> int:
    if device.startswith("cuda"):
        import torch  # heavy: only on a GPU worker, which has it loaded already

        free, _total = torch.cuda.mem_get_info(torch.device(device))
        return int(free)
    if device.startswith("mps"):
        import torch  # heavy: as above

        return int(torch.mps.recommended_max_memory() - torch.mps.driver_allocated_memory())
    return int(psutil.virtual_memory().available)


def gib(n: int) -> str:
    return f"{n / GIB:.1f} GiB"
