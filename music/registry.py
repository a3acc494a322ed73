"""Engine names -> engine classes, and the one place requests are checked and engines built.

Built-in engines are named by import path so that importing this module loads no model code.
Plug-ins register a `MusicEngine` subclass (or its import path, `module:Class`; the older
`module:Class.from_settings` form is read as its class) with `register`, or many at once from the
studio's settings with `register_plugins`. Everything the studio asks of an engine goes through
here: `check` at submit (no weights), `create` in the worker, `presets` for the CLI and UI.
"""

from __future__ import annotations

import pkgutil
from typing import Any, Mapping

from music.engine import CheckedRequest, MusicEngine, MusicRequest, RequestError

_BUILTIN = {
    "ace-step-v1": "music.acestep_v1.engine:ACEStepV1Engine",
    "ace-step-1.5": "music.acestep15.engine:ACEStep15Engine",
}


class EngineRegistry:
    def __init__(self) -> None:
        self._targets: dict[str, type[MusicEngine] | str] = dict(_BUILTIN)

    def register(self, name: str, target: type[MusicEngine] | str) -> None:
        self._targets[name] = target

    def register_plugins(self, plugins: Mapping[str, str]) -> None:
        """Register the plug-in engines a settings file names ({name: "module:Class"})."""
        for name, target in plugins.items():
            self.register(name, target)

    def unregister(self, name: str) -> None:
        self._targets.pop(name, None)

    def names(self) -> list[str]:
        return sorted(self._targets)

    def engine_class(self, name: str) -> type[MusicEngine]:
        """The class behind `name`, imported on first use (its module loads no weights)."""
        try:
            target = self._targets[name]
        except KeyError:
            raise RequestError(f"unknown engine {name!r}; known engines: {', '.join(self.names())}") from None
        if isinstance(target, str):
            target = pkgutil.resolve_name(target)
        owner = getattr(target, "__self__", None)  # "module:Class.from_settings" names a bound classmethod
        if isinstance(owner, type):
            target = owner
        if not (isinstance(target, type) and issubclass(target, MusicEngine)):
            raise RequestError(f"engine {name!r} is registered as {target!r}, which is not a MusicEngine subclass")
        return target

    def check(self, name: str, request: MusicRequest, *, model_dir: str | None = None,
              settings: Mapping[str, Any] | None = None) -> CheckedRequest:
        """The engine's model-free check: the request as it will run, or `RequestError`."""
        return self.engine_class(name).check(request, model_dir=model_dir, settings=settings or {})

    def presets(self, name: str) -> dict[str, dict[str, Any]]:
        return self.engine_class(name).presets()

    def create(self, name: str, **settings: Any) -> MusicEngine:
        return self.engine_class(name).from_settings(**settings)


engines = EngineRegistry()
