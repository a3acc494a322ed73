"""`train` jobs: a LoRA adapter trained from the user's clips, in the same queue as music jobs.

The spec is self-contained (every clip's file, tags and lyrics; takes are resolved to their
master files when submitted), so a failed or cancelled job can be retried as it is. Everything
checkable without a model is checked at submit: engine, name, limits, and every clip decoded and
checked (a bad clip is named). The worker trains in `<home>/training/<job id>`, which holds the
cached features and the checkpoints: a retry of a crashed or cancelled job resumes from its last
checkpoint. Progress is `train` step i/N; the loss curve and the ETA ride in the job's `partial`
field as JSON ({"losses": [...], "eta_s": ...}) for the pages that plot it.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from music.engine import Cancelled, RequestError
from music.training.clips import ClipError, ClipSource, check_clips, clips_from_folder
from music.training.loop import TrainSettings
from studio.adapter_store import AdapterStore, check_adapter_name
from studio.errors import BadInput

log = logging.getLogger("songstudio.training")

# engine -> (sample rate of its clips, longest clip in seconds)
TRAINABLE = {"ace-step-v1": (44100, 240.0), "ace-step-1.5": (48000, 600.0)}
DEFAULTS = {"steps": 500, "rank": 16, "learning_rate": 1e-4}
LOSS_REPORT_INTERVAL_S = 1.0


class TrainClip(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str
    tags: str
    lyrics: str = ""
    label: str = ""

    def source(self) -> ClipSource:
        return ClipSource(path=Path(self.path), tags=self.tags, lyrics=self.lyrics, label=self.label)


class TrainJobSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["train"] = "train"
    engine: str
    model: str | None = None
    name: str
    clips: list[TrainClip]
    take_ids: list[int] = Field(default_factory=list)  # where clips came from the library (provenance)
    steps: int = DEFAULTS["steps"]
    rank: int = DEFAULTS["rank"]
    learning_rate: float = DEFAULTS["learning_rate"]
    seed: int = 0
    checkpoint_every: int = 50
    window_seconds: float = 30.0

    def settings(self) -> TrainSettings:
        try:
            return TrainSettings(steps=self.steps, rank=self.rank, learning_rate=self.learning_rate, seed=self.seed,
                                 checkpoint_every=self.checkpoint_every, window_seconds=self.window_seconds)
        except RequestError as exc:
            raise BadInput(str(exc)) from None


def adapters_dir(settings) -> Path:
    return settings.home / "adapters"


def work_dir(settings, job_id: str) -> Path:
    return settings.home / "training" / job_id


def clips_from_data(data: str, *, library, media_dir: Path) -> tuple[list[TrainClip], list[int]]:
    """`data` is a folder of clips with sidecars, or take ids ("12,15,18"): their master files,
    with each take's prompt as tags and its lyrics."""
    text = data.strip()
    if text and all(part.strip().isdigit() for part in text.split(",")):
        ids = [int(part) for part in text.split(",")]
        clips = []
        for take_id in ids:
            take = library.get(take_id)
            clips.append(TrainClip(path=str(media_dir / take.master_file), tags=take.prompt or take.tags or take.title,
                                   lyrics=take.lyrics, label=f"take {take_id}"))
        return clips, ids
    try:
        return [TrainClip(path=str(c.path.resolve()), tags=c.tags, lyrics=c.lyrics, label=c.label)
                for c in clips_from_folder(text)], []
    except ClipError as exc:
        raise BadInput(str(exc)) from None


def check_train_spec(spec: TrainJobSpec, *, adapters: AdapterStore) -> None:
    """Everything a train job needs, checked before it is queued."""
    if spec.engine not in TRAINABLE:
        raise BadInput(f"engine {spec.engine!r} cannot train adapters; use one of: {', '.join(TRAINABLE)}")
    check_adapter_name(spec.name)
    adapters.check_new_name(spec.name)
    spec.settings()
    if not spec.clips:
        raise BadInput("the dataset has no clips: give a folder of clips or take ids")
    rate, longest = TRAINABLE[spec.engine]
    try:
        check_clips([c.source() for c in spec.clips], sample_rate=rate, max_seconds=longest)
    except ClipError as exc:
        raise BadInput(str(exc)) from None


def run_train_job(worker, job, spec: TrainJobSpec) -> None:
    """Train in the worker (called by `Worker._execute`): resume, report, save, register."""
    settings = worker.settings
    store = AdapterStore(worker.db, adapters_dir(settings))
    report = worker._progress(job)
    report("load", 0, 1)
    worker._engine, worker._engine_key = None, None  # free the cached music model first
    trainer = _make_trainer(worker, spec, work_dir(settings, job.id))
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
        report("features", 0, 1)
        trainer.prepare([c.source() for c in spec.clips])
        result = trainer.train(progress)
        if result.resumed_from:
            log.info("job %s resumed at step %d", job.id, result.resumed_from)
        target = adapters_dir(settings) / spec.name
        if target.exists():
            shutil.rmtree(target)  # a half-registered earlier attempt of this job; the name was checked at submit
        folder = trainer.save(target, name=spec.name, result=result)
    finally:
        trainer.close()
    adapter = store.add(folder, job_id=job.id)
    final = {"adapter": adapter.name, "steps": result.steps, "final_loss": result.losses[-1],
             "first_loss": result.losses[0], "weights_digest": adapter.weights_digest}
    with worker.db.write() as session:
        if not worker.jobs.finish(session, job.id, worker=worker.id, result=final):
            from studio.jobs import LostClaim

            raise LostClaim(job.id)
    shutil.rmtree(work_dir(settings, job.id) / "checkpoints", ignore_errors=True)


def _make_trainer(worker, spec: TrainJobSpec, work: Path):
    """The engine's model, as the worker would load it for a music job, with a trainer on it."""
    from music.registry import engines
    from studio.model_store import resolve_model_dir

    settings = worker.settings
    model_dir = resolve_model_dir(settings, engine=spec.engine, model=spec.model)
    kwargs: dict[str, Any] = {"device": worker.device, "cache_dir": str(settings.model_cache)}
    if model_dir is not None:
        kwargs["model_dir"] = str(model_dir)
    if settings.dtype:
        kwargs["dtype"] = settings.dtype
    kwargs.update(settings.engine_options.get(spec.engine, {}))
    engine = engines.create(spec.engine, **kwargs)
    if spec.engine == "ace-step-v1":
        import torch

        from music.acestep_v1.pipeline import ACEStepV1Pipeline
        from music.acestep_v1.training.trainer import V1LoraTrainer

        # bf16 on a GPU (the memory target); on the CPU the engine's dtype
        dtype = torch.bfloat16 if str(engine.device).startswith("cuda") else engine.dtype
        pipe = ACEStepV1Pipeline.from_pretrained(engine.source, device=engine.device, dtype=dtype,
                                                 lyric_vocab=engine.lyric_vocab, cache_dir=engine.cache_dir,
                                                 offload=engine.offload)
        return V1LoraTrainer(pipe, spec.settings(), work_dir=work)
    from music.acestep15.training import AceStep15LoraTrainer

    engine.unload_lora()
    return AceStep15LoraTrainer(engine.pipeline, spec.settings(), turbo=engine.variant.turbo, work_dir=work,
                                model_folder=engine.location.folder, model_id=engine.location.model_id)
