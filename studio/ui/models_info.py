"""Which real model weights this machine has, for the "demo models only" notice and Settings."""

from __future__ import annotations

from studio.demo_models import is_demo_model
from studio.model_store import ModelStatus, list_models
from studio.settings import Settings


def music_models(settings: Settings) -> list[ModelStatus]:
    return [m for m in list_models(settings) if m.info.kind == "music"]


def real_weights_present(settings: Settings) -> bool:
    """True when at least one real music model is complete in the model cache."""
    return any(m.present for m in music_models(settings))


def demo_models_in_use(settings: Settings) -> bool:
    """True when the worker's engine options point at the tiny random-weight demo models."""

    folders = [opts.get("model_dir") or opts.get("model_id_or_dir") for opts in settings.engine_options.values()]
    return any(folder and is_demo_model(folder) for folder in folders)
