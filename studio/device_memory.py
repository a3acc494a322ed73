"""How much memory the worker's device has free, measured, for the memory check and warm models;
and how much it has in all, for the submit-time check of train jobs.

CUDA: the driver's free figure (`torch.cuda.mem_get_info`); Apple mps: the recommended working set
minus what the driver holds; CPU: the memory the OS can give without swapping (psutil's
`available`). Models already loaded by this worker are not counted as free: the caller adds back
what it could release. Total: CUDA's device properties (no memory is allocated), mps's recommended
working set, the machine's RAM.
"""

from __future__ import annotations

import psutil

from studio.errors import EnvironmentProblem

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


def device_type(device: str) -> str:
    """The type of a device name on this machine (cuda, mps or cpu); `auto` picked as the worker picks it."""
    if device == "cpu":
        return device  # plain "cpu" never imports torch
    if device == "auto":
        return auto_device()
    import torch  # heavy: as above

    return torch.device(device).type


def auto_device() -> str:
    """What `auto` means on this machine: cuda, else Apple mps, else cpu (the worker's choice)."""
    import torch  # heavy: only when a device must be picked

    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def total_bytes(device: str) -> int:
    """All the memory `device` has on this machine; EnvironmentProblem when it has no such device."""
    kind = device_type(device)
    if kind == "cpu":
        return int(psutil.virtual_memory().total)
    import torch  # heavy: as above

    if kind == "cuda" and torch.cuda.is_available():
        index = torch.device(device).index if device != "auto" else None
        return int(torch.cuda.get_device_properties(index or 0).total_memory)
    if kind == "mps" and torch.backends.mps.is_available():
        return int(torch.mps.recommended_max_memory())
    raise EnvironmentProblem(f"device {device!r} is not on this machine, so its memory is unknown here; set "
                             "SONGSTUDIO_DEVICE_MEMORY_GIB to the worker device's memory in GiB")
