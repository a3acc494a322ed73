"""ACE-Step v1 (3.5B) in our own code: loads the official checkpoint unchanged and reproduces
upstream's numbers. See docs/acestep-v1.md. Heavy modules load on first attribute access."""

from __future__ import annotations

__all__ = ["ACEStepV1Pipeline", "GenerationOutput"]


def __getattr__(name: str):
    if name in __all__:
        from music.acestep_v1 import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
