"""The worker's loaded models, kept warm between jobs while the device has room for them.

One cache holds the music engines and the lyrics backends the worker has loaded, each under a key
(kind, name, model / options) with its size in bytes. Before a model is loaded its size is
estimated (from its files); if the device's measured free memory does not cover it, the least
recently used models go first, one at a time, until it does or none is left. So Write → Create →
Write keeps both the lyrics model and the music model when they fit together, and reloads only
what had to make room when they do not. After loading, the entry's size is re-measured
(parameter bytes) where the model can tell.
"""

from __future__ import annotations

import gc
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable

from studio.device_memory import gib

log = logging.getLogger("songstudio.worker")

# Left free beyond a model's own size: a job's activations are checked separately (the
# memory check), this only keeps loading from starving the allocator.
HEADROOM_BYTES = 256 * 2**20


@dataclass
class WarmEntry:
    key: Hashable
    model: Any
    size: int  # bytes the model holds on the device (measured after loading where possible)
    loaded_at: float = field(default_factory=time.monotonic)
    load_seconds: float = 0.0
    on_evict: Callable[[Any], None] | None = None


class WarmModels:
    """An LRU cache of loaded models sized by measured free memory (`free_bytes()`, injectable)."""

    def __init__(self, *, free_bytes: Callable[[], int], release: Callable[[], None] | None = None) -> None:
        self._free_bytes = free_bytes
        self._release = release  # e.g. torch.cuda.empty_cache after an eviction
        self._entries: OrderedDict[Hashable, WarmEntry] = OrderedDict()  # oldest use first
        self.loads = 0
        self.evictions: list[Hashable] = []

    def __contains__(self, key: Hashable) -> bool:
        return key in self._entries

    def keys(self) -> list[Hashable]:
        """Least recently used first."""
        return list(self._entries)

    def held_bytes(self, *, besides: Hashable | None = None) -> int:
        return sum(e.size for k, e in self._entries.items() if k != besides)

    def get(self, key: Hashable, *, build: Callable[[], Any], estimate: int = 0,
            measure: Callable[[Any], int] | None = None, on_evict: Callable[[Any], None] | None = None) -> Any:
        """The model under `key`, built (after making room for `estimate` bytes) if not held."""
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
            return entry.model
        self.make_room(estimate, keep=key)
        started = time.monotonic()
        model = build()
        measured = measure(model) if measure is not None else 0
        entry = WarmEntry(key=key, model=model, size=measured or estimate, load_seconds=time.monotonic() - started,
                          on_evict=on_evict)
        self._entries[key] = entry
        self.loads += 1
        log.info("loaded %s (%s) in %.1f s; warm: %s", key, gib(entry.size), entry.load_seconds, self.keys())
        return model

    def make_room(self, need: int, *, keep: Hashable | None = None) -> None:
        """Evict least recently used models (never `keep`) until `need` bytes plus headroom are free."""
        while self._free_bytes() < need + HEADROOM_BYTES:
            victim = next((k for k in self._entries if k != keep), None)
            if victim is None:
                return  # nothing left to release: the memory check decides whether the job can run
            self.evict(victim)

    def evict(self, key: Hashable) -> None:
        entry = self._entries.pop(key)
        self.evictions.append(key)
        log.info("unloaded %s (%s) to make room", key, gib(entry.size))
        if entry.on_evict is not None:
            try:
                entry.on_evict(entry.model)
            except Exception:  # a failing close must not take the worker down
                log.exception("closing %s failed", key)
        del entry
        gc.collect()
        if self._release is not None:
            self._release()

    def clear(self) -> None:
        for key in list(self._entries):
            self.evict(key)
