"""The memory check of `train` jobs: at submit against the device's memory, in the worker against
what is free once the model is loaded (as music jobs are checked by `studio.worker_models`).

The estimate (`music.training.memory`, through each engine's plan) comes from the checkpoint's
files, the rank, the window length and the dtype the worker trains in. A model not on this
machine yet (a hub download the engine makes on first use) cannot be estimated at submit; the
worker checks it once the model is there.
"""

from __future__ import annotations

from pathlib import Path

from music.acestep15 import training_plan as v15_plan
from music.acestep_v1.training import plan as v1_plan
from music.training.memory import TrainingMemory, gib
from studio.device_memory import device_type, total_bytes
from studio.errors import BadInput
from studio.model_store import resolve_model_dir
from studio.settings import Settings
from studio.specs import engine_settings
from studio.train_spec import TRAINABLE, TrainJobSpec

PLANS = {"ace-step-v1": v1_plan, "ace-step-1.5": v15_plan}
GIB = 2**30
WHAT_TO_CHANGE = "Train with a lower rank (--rank) or fewer seconds per window (--window)"


def model_folder(settings: Settings, spec: TrainJobSpec) -> Path | None:
    """The checkpoint folder the worker will train on, when it is on this machine."""
    options = engine_settings(settings, engine=spec.engine,
                              model_dir=resolve_model_dir(settings, engine=spec.engine, model=spec.model))
    folder = options.get("model_dir") or options.get("model_id_or_dir")
    return Path(folder) if folder and Path(folder).is_dir() else None


def estimate(settings: Settings, spec: TrainJobSpec, *, folder: Path, device: str) -> TrainingMemory:
    """The run's need on `folder`'s checkpoint, in the dtype and placement the worker trains with
    on `device` (an engine option may pin another device, as in the worker)."""
    options = engine_settings(settings, engine=spec.engine, model_dir=folder)
    plan = PLANS[spec.engine]
    window = min(spec.window_seconds, TRAINABLE[spec.engine][1])  # no window is longer than the longest clip allowed
    dtype = plan.training_dtype(device_type(options.get("device") or device), options.get("dtype"))
    return plan.estimate(folder, rank=spec.rank, window_seconds=window, dtype=dtype, offload=bool(options.get("offload")))


def check_at_submit(settings: Settings, spec: TrainJobSpec) -> TrainingMemory | None:
    """BadInput when the run cannot fit the device (SONGSTUDIO_DEVICE_MEMORY_GIB, else the device's
    total memory here); None when the model is not on this machine to estimate."""
    folder = model_folder(settings, spec)
    if folder is None:
        return None
    need = estimate(settings, spec, folder=folder, device=settings.device)
    if settings.device_memory_gib is not None:
        limit, what = int(settings.device_memory_gib * GIB), "SONGSTUDIO_DEVICE_MEMORY_GIB"
    else:
        limit, what = total_bytes(settings.device), f"the {device_type(settings.device)} device's total memory"
    if need.total > limit:
        raise BadInput(f"this training job needs about {gib(need.total)} of memory ({need.describe()}) and the limit "
                       f"is {gib(limit)} ({what}). {WHAT_TO_CHANGE}, or use a device with more memory")
    return need
