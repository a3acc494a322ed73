"""Engine names -> factories. Built-in engines are named by import path so that importing
this module loads no model code; tests and plug-ins may `register` their own factories."""

from __future__ import annotations

import pkgutil
from typing import Any

from music.engine import EngineFactory, MusicEngine, RequestError

_BUILTIN = {
    "ace-step-v1": "music.acestep_v1.engine:ACEStepV1Engine.from_settings",
    "ace-step-1.5": "music.acestep15.engine:ACEStep15Engine.from_settings",
}


class EngineRegistry:
    def __init__(self) -> None:
        self._factories: dict[str, EngineFactory | str] = dict(_BUILTIN)

    def register(self, name: str, factory: EngineFactory | str) -> None:
        self._factories[name] = factory

    def unregister(self, name: str) -> None:
        self._factories.pop(name, None)

    def names(self) -> list[str]:
        return sorted(self._factories)

    def factory(self, name: str) -> EngineFactory:
        try:
            target = self._factories[name]
        except KeyError:
            raise RequestError(f"unknown engine {name!r}; known engines: {', '.join(self.names())}") from None
        if isinstance(target, str):
            target = pkgutil.resolve_name(target)
        return target

    def create(self, name: str, **kwargs: Any) -> MusicEngine:
        return self.factory(name)(**kwargs)


engines = EngineRegistry()
