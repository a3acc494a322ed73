"""ACE-Step v1 (3.5B) in our own code: loads the official checkpoint unchanged and reproduces
upstream's numbers. See docs/acestep-v1.md for the layout of this package.

`ACEStepV1Pipeline` and `GenerationOutput` are exported lazily (PEP 562): the pipeline module loads
torch and diffusers, and a light part such as `common` or the lyric front end must stay cheap to
import on its own (importing any sub-module runs this file first)."""

from __future__ import annotations

__all__ = ["ACEStepV1Pipeline", "GenerationOutput"]


def __getattr__(name: str):
    if name in __all__:
        from music.acestep_v1 import pipeline  # noqa: PLC0415  (heavy: torch + diffusers; see above)

        return getattr(pipeline, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
