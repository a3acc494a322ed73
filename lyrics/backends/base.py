"""The small interface every lyrics backend implements.

A backend turns chat messages into a stream of text chunks. It applies the model's own chat
template (llama.cpp reads it from the GGUF, transformers from the tokenizer, servers apply
theirs), honours a `Constraint` when its kind is in `constraint_kinds` (first = preferred),
uses `seed` when `supports_seed`, and stops early when the `cancel` event is set.
"""

from __future__ import annotations

import abc
import threading
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from lyrics.constraints import Constraint

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": str}


@dataclass(frozen=True)
class SamplingParams:
    # Llama-3.2-3B-Instruct's generation_config defaults: temperature 0.6, top_p 0.9.
    max_tokens: int = 768
    temperature: float = 0.7
    top_p: float = 0.9
    seed: int | None = None
    # llama.cpp's penalty on tokens of the last 64 (1.0: none). Small models loop without it
    # ("a lil' melody of light" in every line of the starter's drafts).
    repeat_penalty: float = 1.15


class Backend(abc.ABC):
    name: str = "backend"
    constraint_kinds: tuple[str, ...] = ()
    supports_seed: bool = False
    # True when `stream` accepts a `prefix`: the start of the assistant's reply, which the model
    # continues (the writer then picks among candidates line by line).
    supports_prefix: bool = False
    # Tokens the last finished stream generated (None when the backend cannot tell): for the
    # take's record and the benchmarks.
    last_completion_tokens: int | None = None

    @abc.abstractmethod
    def stream(self, messages: Sequence[Message], *, params: SamplingParams,
               constraint: Constraint | None = None,
               cancel: threading.Event | None = None, prefix: str = "") -> Iterator[str]:
        """Yield text chunks as the model produces them. A non-empty `prefix` (only where
        `supports_prefix`) is the start of the reply: the chunks continue it."""

    def complete(self, messages: Sequence[Message], *, params: SamplingParams,
                 constraint: Constraint | None = None, cancel: threading.Event | None = None) -> str:
        return "".join(self.stream(messages, params=params, constraint=constraint, cancel=cancel))

    def describe(self) -> dict[str, Any]:
        """What produced the text, for the take's record (never a key)."""
        return {"backend": self.name}

    def close(self) -> None:
        """Release the model or connection; the backend is unusable afterwards."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _check_constraint(self, constraint: Constraint | None) -> None:
        if constraint is not None and constraint.kind not in self.constraint_kinds:
            supported = ", ".join(self.constraint_kinds) or "none"
            raise ValueError(f"{self.name} backend cannot apply a {constraint.kind} constraint "
                             f"(supported: {supported})")
