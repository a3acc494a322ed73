"""Which real model weights this machine has, for the "demo models only" notice and Settings."""

from __future__ import annotations

from studio.model_store import ModelStatus, list_models
from studio.settings import Settings


def music_models(settings: Settings) -> list[ModelStatus]:
    return [m for m in list_models(settings) if m.info.kind == "music"]


def real_weights_present(settings: Settings) -> bool:
    """True when at least one real music model is complete in the model cache."""
    return any(m.present for m in music_models(settings))


def demo_command() -> str | None:
    """The CLI command that makes the tiny random-weight demo models, when this install has one."""
    from studio import cli

    models = getattr(cli, "models", None)
    commands = getattr(models, "commands", {}) or {}
    return "songstudio models demo" if "demo" in commands else None
