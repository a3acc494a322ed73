"""Lyrics backends. Create one by name with the options from the studio's settings:

    from lyrics import backends
    backend = backends.create("llama-cpp", model_path="song.Q4_K_M.gguf", n_gpu_layers=0)
    backend = backends.create("transformers", model="prithivMLmods/Llama-Song-Stream-3B-Instruct")
    backend = backends.create("openai", base_url="http://gpu-host:8000/v1", model="song-stream",
                              api_key="...", server="vllm")       # or server="llama-cpp"
    backend = backends.create("vllm", model="prithivMLmods/Llama-Song-Stream-3B-Instruct")

Names and factories live in `lyrics.registry`; backend modules import their heavy libraries
(llama_cpp, torch, vllm, openai) only when created.
"""

from __future__ import annotations

from typing import Any

from lyrics.backends.base import Backend, Message, SamplingParams
from lyrics.registry import backends as registry


def create(name: str, **options: Any) -> Backend:
    return registry.create(name, **options)


def names() -> list[str]:
    return registry.names()


__all__ = ["Backend", "Message", "SamplingParams", "create", "names"]
