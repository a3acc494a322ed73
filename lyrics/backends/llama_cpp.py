"""In-process llama.cpp (`llama-cpp-python`): the CPU default. Loads a GGUF (default: the Q4_K_M
of Llama-Song-Stream-3B-Instruct) and uses the chat template embedded in it. Constraints: GBNF
grammars (preferred: readable streamed text) and JSON schemas (`response_format`)."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Iterator, Sequence

from lyrics.backends.base import Backend, Message, SamplingParams
from lyrics.backends.model_files import DEFAULT_GGUF_FILE, DEFAULT_GGUF_REPO, resolve_gguf
from lyrics.constraints import Constraint
from lyrics.errors import BackendUnavailable, Cancelled

INSTALL_HINT = ("llama-cpp-python is not installed; `pip install 'songstudio[llama]'` "
                "(it compiles llama.cpp: a few minutes on first install)")


def default_threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class LlamaCppBackend(Backend):
    name = "llama-cpp"
    constraint_kinds = ("gbnf", "json_schema")
    supports_seed = True

    def __init__(self, llm: Any, *, model_path: Path) -> None:
        self._llm = llm
        self._model_path = model_path
        self._lock = threading.Lock()  # a Llama context serves one generation at a time

    @classmethod
    def from_options(cls, *, model_path: str | Path | None = None, repo_id: str = DEFAULT_GGUF_REPO,
                     filename: str = DEFAULT_GGUF_FILE, cache_dir: str | Path | None = None,
                     download: bool = False, n_ctx: int = 4096, n_threads: int | None = None,
                     n_gpu_layers: int = 0, n_batch: int = 512, **_ignored: Any) -> "LlamaCppBackend":
        path = resolve_gguf(model_path, repo_id=repo_id, filename=filename, cache_dir=cache_dir,
                            download=download)
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise BackendUnavailable(INSTALL_HINT) from exc
        try:
            llm = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads or default_threads(),
                        n_gpu_layers=n_gpu_layers, n_batch=n_batch, verbose=False)
        except (ValueError, RuntimeError) as exc:
            raise BackendUnavailable(f"llama.cpp could not load {path} ({exc}); is it a complete GGUF file?") from exc
        return cls(llm, model_path=path)

    def stream(self, messages: Sequence[Message], *, params: SamplingParams,
               constraint: Constraint | None = None,
               cancel: threading.Event | None = None) -> Iterator[str]:
        self._check_constraint(constraint)
        kwargs: dict[str, Any] = {}
        if constraint is not None and constraint.kind == "gbnf":
            from llama_cpp import LlamaGrammar

            kwargs["grammar"] = LlamaGrammar.from_string(constraint.spec, verbose=False)
        elif constraint is not None:
            kwargs["response_format"] = {"type": "json_object", "schema": constraint.spec}
        with self._lock:
            chunks = self._llm.create_chat_completion(
                messages=list(messages), max_tokens=params.max_tokens, temperature=params.temperature,
                top_p=params.top_p, seed=params.seed, stream=True, **kwargs)
            try:
                for chunk in chunks:
                    if cancel is not None and cancel.is_set():
                        raise Cancelled("generation cancelled")
                    text = chunk["choices"][0]["delta"].get("content")
                    if text:
                        yield text
            finally:
                chunks.close()  # stops llama.cpp decoding when the consumer stops early

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self._model_path.name}

    def close(self) -> None:
        llm, self._llm = self._llm, None
        if llm is not None:
            llm.close()
