"""The models a worker runs jobs with: built on first use, kept warm in `WarmModels`, preloaded at
start, and the memory check before a job's first model work.

A music engine is keyed by (engine, model folder); a lyrics backend by (backend, its options). A
job whose model is warm does no loading at all; a job whose model is not loads it after the least
recently used models made room (if the device's free memory does not cover both). The memory
check refuses a job whose estimated need exceeds what is free once every other model is released.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Callable, Mapping

from lyrics.registry import backends
from music.engine import CheckedRequest, MusicEngine, RequestError
from music.registry import engines
from studio.device_memory import free_bytes, gib
from studio.errors import StudioError
from studio.model_store import resolve_model_dir
from studio.settings import Settings
from studio.specs import engine_settings
from studio.warm_models import WarmModels

log = logging.getLogger("songstudio.worker")


class TooLargeForDevice(StudioError):
    """A job that would need more memory than the device has: failed before any model work (retryable)."""


class WorkerModels:
    def __init__(self, settings: Settings, *, device: str,
                 free_bytes_of: Callable[[str], int] | None = None) -> None:
        self.settings = settings
        self.device = device
        self._free_of = free_bytes_of  # None: measured (studio.device_memory); tests inject figures
        self.warm = WarmModels(free_bytes=self.free_bytes, release=self._release_device_cache)

    def free_bytes(self) -> int:
        return (self._free_of or free_bytes)(self.device)

    # -- music ----------------------------------------------------------------------------------

    def music_key(self, engine: str, model: str | None) -> tuple[str, str, str | None]:
        model_dir = resolve_model_dir(self.settings, engine=engine, model=model)
        return ("music", engine, str(model_dir) if model_dir else None)

    def music_engine(self, engine: str, model: str | None, checked: CheckedRequest | None = None,
                     *, on_load: Callable[[], None] | None = None) -> MusicEngine:
        """The engine for (engine, model), warm if held; `checked` is refused here when the device
        cannot hold its run (and the weights, if they are still to load)."""
        key = self.music_key(engine, model)
        settings = engine_settings(self.settings, engine=engine, model_dir=Path(key[2]) if key[2] else None)
        engine_cls = engines.engine_class(engine)
        run_need = engine_cls.run_memory_bytes(checked, settings=settings) if checked is not None else 0
        loading = key not in self.warm
        weights = engine_cls.stored_weight_bytes(settings=settings) if loading else 0
        self.warm.make_room(run_need + weights, keep=key)
        if checked is not None:
            self._check_fits(checked, need=run_need + weights, loading=loading)
        if loading and on_load is not None:
            on_load()

        def build() -> MusicEngine:
            built = engines.create(engine, **{"device": self.device, **settings})  # an engine option may pin it
            built.load()
            return built

        return self.warm.get(key, build=build, estimate=weights, measure=lambda e: e.weight_bytes())

    def _check_fits(self, checked: CheckedRequest, *, need: int, loading: bool) -> None:
        have = self.free_bytes()
        if need > have:
            request = checked.request
            seconds = checked.facts.get("output_seconds") or request.duration
            raise TooLargeForDevice(
                f"this job needs about {gib(need)} of memory ({request.batch_size} take(s) of {seconds:.0f} s"
                f"{', weights included' if loading else ''}) and the {self.device} device has {gib(have)} free. "
                "Ask for fewer takes or a shorter song, or use bfloat16 or overlapped decoding, then retry the job"
            )

    # -- lyrics ---------------------------------------------------------------------------------

    def lyrics_options(self, backend: str, job_options: Mapping[str, Any]) -> dict[str, Any]:
        return {**self.settings.lyrics_options.get(backend, {}), **job_options}

    def lyrics_backend(self, backend: str, options: Mapping[str, Any]):
        """The lyrics backend for (backend, options), warm if held (closed only when evicted)."""
        key = ("lyrics", backend, json.dumps(dict(options), sort_keys=True, default=str))
        estimate = lyrics_model_bytes(backend, options)

        def build():
            try:
                return backends.create(backend, **options)
            except ValueError as exc:
                raise RequestError(str(exc)) from None

        return self.warm.get(key, build=build, estimate=estimate, on_evict=lambda b: b.close())

    def drop_lyrics_backend(self, backend: str, options: Mapping[str, Any]) -> None:
        """Forget a backend that failed mid-job: the next job builds a fresh one."""
        key = ("lyrics", backend, json.dumps(dict(options), sort_keys=True, default=str))
        if key in self.warm:
            self.warm.evict(key)

    # -- start-up -------------------------------------------------------------------------------

    def preload(self) -> None:
        """Load the default music engine, then the default lyrics backend if it fits beside it, so
        the first job after start does not wait for a load. A model that cannot load is logged (its
        jobs will say why) and the worker starts anyway."""
        try:
            self.music_engine(self.settings.engine, None)
        except Exception as exc:  # noqa: BLE001 - any failure is the job's to report, not the start's
            log.warning("music engine %s not preloaded: %s", self.settings.engine, exc)
        backend = self.settings.lyrics_backend
        options = self.lyrics_options(backend, {})
        estimate = lyrics_model_bytes(backend, options)
        if self.free_bytes() < estimate:
            log.info("lyrics backend %s not preloaded: %s needed, %s free", backend, gib(estimate), gib(self.free_bytes()))
            return
        try:
            self.lyrics_backend(backend, options)
        except Exception as exc:  # noqa: BLE001 - as above
            log.warning("lyrics backend %s not preloaded: %s", backend, exc)

    def close(self) -> None:
        self.warm.clear()

    def _release_device_cache(self) -> None:
        if self.device.startswith("cuda"):
            import torch  # heavy: only on a GPU worker, which has it loaded already

            torch.cuda.empty_cache()


def lyrics_model_bytes(backend: str, options: Mapping[str, Any]) -> int:
    """A local lyrics model's size from its files (GGUF, or a transformers folder's safetensors);
    0 for a server backend or a model not on disk yet."""
    if backend == "llama-cpp" and options.get("model_path"):
        path = Path(options["model_path"]).expanduser()
        return path.stat().st_size if path.is_file() else 0
    if backend == "transformers" and options.get("model"):
        folder = Path(options["model"]).expanduser()
        return sum(f.stat().st_size for f in folder.glob("*.safetensors")) if folder.is_dir() else 0
    return 0
