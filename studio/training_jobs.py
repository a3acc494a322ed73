"""The worker's side of `train` jobs: train in `<home>/training/<job id>` (cached features and
checkpoints, so a retry of a crashed or cancelled job resumes from its last checkpoint), report
`train` step i/N with the loss curve and ETA as JSON in the job's `partial` field
({"losses": [...], "loss": ..., "eta_s": ...}), then write and register the adapter. Once the model
is loaded and before any training work, the run's estimated memory beyond the weights is checked
against what the device has free (`studio.train_memory`); a job that does not fit fails, retryable.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path

from music.acestep_v1.training.plan import training_dtype as v1_training_dtype
from music.engine import Cancelled
from music.registry import engines
from music.training.memory import TrainingMemory, gib
from studio.adapter_store import AdapterStore
from studio.errors import BadInput
from studio.jobs import LostClaim
from studio.model_store import resolve_model_dir
from studio.specs import engine_settings
from studio.train_memory import WHAT_TO_CHANGE, estimate
from studio.train_spec import TrainJobSpec, adapters_dir, features_dir, work_dir
from studio.worker_models import TooLargeForDevice

log = logging.getLogger("songstudio.training")
LOSS_REPORT_INTERVAL_S = 1.0


def run_train_job(worker, job, spec: TrainJobSpec) -> None:
    """Train in the worker (called by `Worker._execute`): resume, report, save, register."""
    settings = worker.settings
    store = AdapterStore(worker.db, adapters_dir(settings))
    report = worker._progress(job)
    report("load", 0, 1)
    worker.models.close()  # training needs the memory: the warm models go (the next jobs load theirs again)
    trainer, folder = _make_trainer(worker, spec, work_dir(settings, job.id))
    losses_at = {"t": 0.0}

    def progress(step: int, total: int, loss: float, eta: float) -> None:
        now = time.monotonic()
        partial = None
        if now - losses_at["t"] >= LOSS_REPORT_INTERVAL_S or step == total:
            losses_at["t"] = now
            losses = list(trainer.run.losses) if trainer.run is not None else []
            partial = json.dumps({"losses": losses, "eta_s": round(eta, 1), "loss": loss})
        if worker.jobs.report(job.id, worker=worker.id, stage="train", step=step, total=total, partial=partial):
            raise Cancelled(f"job {job.id} cancelled")

    try:
        check_fits(worker, estimate(settings, spec, folder=folder, device=worker.device))
        report("features", 0, 1)
        trainer.prepare([c.source() for c in spec.clips])
        result = trainer.train(progress)
        if result.resumed_from:
            log.info("job %s resumed at step %d", job.id, result.resumed_from)
        target = adapters_dir(settings) / spec.name
        if store.exists(spec.name):  # another job made one under this name since this one was queued
            raise BadInput(f"an adapter named {spec.name!r} was made while this job waited; its checkpoint is "
                           "kept: delete that adapter and retry this job, or train again under another name")
        if target.exists():
            shutil.rmtree(target)  # unregistered files: this job's own earlier attempt died between save and register
        folder = trainer.save(target, name=spec.name, result=result)
    finally:
        trainer.close()
    adapter = store.add(folder, job_id=job.id)
    final = {"adapter": adapter.name, "steps": result.steps, "final_loss": result.losses[-1],
             "first_loss": result.losses[0], "weights_digest": adapter.weights_digest}
    with worker.db.write() as session:
        if not worker.jobs.finish(session, job.id, worker=worker.id, result=final):
            raise LostClaim(job.id)
    shutil.rmtree(work_dir(settings, job.id), ignore_errors=True)  # the features stay in the shared cache


def check_fits(worker, memory: TrainingMemory) -> None:
    """The run beyond its loaded weights against what the device has free now (the weights are in)."""
    need, have = memory.total - memory.weights, worker.models.free_bytes()
    if need > have:
        raise TooLargeForDevice(
            f"this training job needs about {gib(need)} of memory beyond its loaded weights ({memory.describe()}) "
            f"and the {worker.device} device has {gib(have)} free. {WHAT_TO_CHANGE}, or free the device, then retry the job"
        )


def _make_trainer(worker, spec: TrainJobSpec, work: Path):
    """The engine's model, built with the settings the worker uses for music jobs, and a trainer on
    it; with the checkpoint folder it loaded."""
    model_dir = resolve_model_dir(worker.settings, engine=spec.engine, model=spec.model)
    settings = engine_settings(worker.settings, engine=spec.engine, model_dir=model_dir)
    engine = engines.create(spec.engine, **{"device": worker.device, **settings})
    if spec.engine == "ace-step-v1":
        import torch

        from music.acestep_v1.pipeline import ACEStepV1Pipeline  # noqa: PLC0415  (heavy: imports torch, diffusers)
        from music.acestep_v1.training.trainer import V1LoraTrainer  # noqa: PLC0415  (heavy: imports torch, peft)

        # bf16 on a GPU (the memory target); elsewhere the engine's dtype
        dtype = getattr(torch, v1_training_dtype(torch.device(engine.device).type, settings.get("dtype")))
        pipe = ACEStepV1Pipeline.from_pretrained(engine.source, device=engine.device, dtype=dtype,
                                                 lyric_vocab=engine.lyric_vocab, cache_dir=engine.cache_dir,
                                                 offload=engine.offload)
        trainer = V1LoraTrainer(pipe, spec.settings(), work_dir=work, cache_dir=features_dir(worker.settings))
        return trainer, pipe.info.folder
    from music.acestep15.training import AceStep15LoraTrainer  # noqa: PLC0415  (heavy: imports torch, diffusers, peft)

    engine.load()
    engine.unload_lora()
    trainer = AceStep15LoraTrainer(engine.pipeline, spec.settings(), turbo=engine.variant.turbo, work_dir=work,
                                   cache_dir=features_dir(worker.settings),
                                   model_folder=engine.location.folder, model_id=engine.location.model_id)
    return trainer, engine.location.folder
