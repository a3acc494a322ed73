"""Lyrics backend names -> factories, imported lazily so no LLM library loads at import."""

from __future__ import annotations

import pkgutil
from typing import Any, Callable

_BUILTIN = {
    "llama-cpp": "lyrics.backends.llama_cpp:LlamaCppBackend.from_options",
    "transformers": "lyrics.backends.hf_transformers:TransformersBackend.from_options",
    "openai": "lyrics.backends.openai_http:OpenAIBackend.from_options",
    "vllm": "lyrics.backends.vllm_local:VLLMBackend.from_options",
}


class BackendRegistry:
    def __init__(self) -> None:
        self._factories: dict[str, Callable[..., Any] | str] = dict(_BUILTIN)

    def register(self, name: str, factory: Callable[..., Any] | str) -> None:
        self._factories[name] = factory

    def names(self) -> list[str]:
        return sorted(self._factories)

    def create(self, name: str, **options: Any) -> Any:
        try:
            target = self._factories[name]
        except KeyError:
            raise ValueError(f"unknown lyrics backend {name!r}; known: {', '.join(self.names())}") from None
        if isinstance(target, str):
            target = pkgutil.resolve_name(target)
        return target(**options)


backends = BackendRegistry()
