"""Model offload: keep sub-models in CPU memory and move each to the GPU only while it is used.

`ModelOffload.use(module)` is a context manager: on entry the module goes to the compute device,
on exit it goes back to CPU and the CUDA cache is emptied, so at any time only the stage that is
running (text encoder, DiT, or DCAE + vocoder) holds GPU memory. With offload off it does nothing
(everything stays where it was loaded). Moving a module also moves LoRA layers peft added to it.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Iterator

import torch
from torch import nn

log = logging.getLogger(__name__)


class ModelOffload:
    def __init__(self, *, device: torch.device | str, enabled: bool, park: torch.device | str = "cpu"):
        self.device = torch.device(device)
        self.park = torch.device(park)
        self.enabled = bool(enabled) and self.device != self.park

    def park_all(self, *modules: nn.Module) -> None:
        """Place modules in CPU memory at load time (a no-op without offload)."""
        if self.enabled:
            for module in modules:
                module.to(self.park)

    @contextlib.contextmanager
    def use(self, *modules: nn.Module) -> Iterator[None]:
        if not self.enabled:
            yield
            return
        for module in modules:
            module.to(self.device)
        try:
            yield
        finally:
            for module in modules:
                module.to(self.park)
            if self.device.type == "cuda":
                torch.cuda.empty_cache()
