"""The lyrics model's context as a submit-time limit on the user's text (theme, lyrics, instruction).

The writer puts the user's text into one prompt with its instructions and leaves room for the
answer, so the text may use the context minus `RESERVED_TOKENS`. A text whose UTF-8 byte count
fits is accepted without a tokenizer (a byte-level BPE such as Llama's never makes more tokens
than bytes). A longer one is counted with the backend's own tokenizer where it can be read
without the weights (llama-cpp: the GGUF's vocabulary; transformers: tokenizer.json); where it
cannot (an HTTP or vLLM backend), the byte count stands and the message says so.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any, Callable, Mapping

from tokenizers import Tokenizer

from studio.errors import BadInput

MAX_THEME_CHARS = 1000  # a theme is a sentence or a paragraph; the draft is written from it
LLAMA_CPP_DEFAULT_CTX = 4096  # lyrics.backends.llama_cpp's n_ctx default
UNKNOWN_CONTEXT_TOKENS = 8192  # a backend whose context is not in its options (HTTP, vLLM)
# the writer's instructions (about 300 tokens) and its answer (max_tokens 768 by default)
RESERVED_TOKENS = 1100


def context_tokens(backend: str, options: Mapping[str, Any]) -> tuple[int, str]:
    """The model's context length and where it comes from, in words."""
    if backend == "llama-cpp":
        return int(options.get("n_ctx", LLAMA_CPP_DEFAULT_CTX)), "the llama-cpp backend's n_ctx"
    if backend == "vllm" and options.get("max_model_len"):
        return int(options["max_model_len"]), "vllm's max_model_len"
    if backend == "transformers" and options.get("model"):
        config = Path(options["model"]).expanduser() / "config.json"
        try:
            return int(json.loads(config.read_text(encoding="utf-8"))["max_position_embeddings"]), f"{config}"
        except (OSError, ValueError, KeyError):
            pass
    return UNKNOWN_CONTEXT_TOKENS, "the lyrics model's assumed context"


def check_theme_length(theme: str) -> None:
    """A theme longer than MAX_THEME_CHARS is refused, whatever the model's context could hold."""
    if len(theme) > MAX_THEME_CHARS:
        raise BadInput(f"the theme is {len(theme):,} characters; a theme is at most {MAX_THEME_CHARS:,}. "
                       f"Shorten the theme ({len(theme):,} characters)")


def check_lyrics_context(fields: Mapping[str, str], *, backend: str, options: Mapping[str, Any]) -> None:
    """BadInput when the user's text cannot fit the lyrics model's context."""
    context, source = context_tokens(backend, options)
    budget = context - RESERVED_TOKENS
    text = "\n".join(value for value in fields.values() if value)
    size = len(text.encode("utf-8"))
    if size <= budget:
        return
    counter = _token_counter(backend, options)
    count, unit = (counter(text), "tokens") if counter is not None else (size, "bytes (at most one token each)")
    if count <= budget:
        return
    names = " and ".join(name for name, value in fields.items() if value)
    verb = "are" if " and " in names or names == "lyrics" else "is"
    # name what to shorten: the longest field (a 10,000-character theme, not its genre and mood)
    longest = max((name for name, value in fields.items() if value), key=lambda name: len(fields[name]))
    raise BadInput(
        f"the {names} {verb} {count} {unit}; the lyrics model's context is {context} tokens ({source}), which "
        f"leaves {budget} for your text after the writer's instructions and its answer. Shorten the {longest} "
        f"({len(fields[longest]):,} characters)"
    )


def _token_counter(backend: str, options: Mapping[str, Any]) -> Callable[[str], int] | None:
    if backend == "llama-cpp" and options.get("model_path"):
        return _gguf_counter(str(Path(options["model_path"]).expanduser().resolve()))
    if backend == "transformers" and options.get("model"):
        tokenizer_file = Path(options["model"]).expanduser() / "tokenizer.json"
        if tokenizer_file.is_file():
            return _hf_counter(str(tokenizer_file.resolve()))
    return None


@functools.lru_cache(maxsize=4)
def _gguf_counter(path: str) -> Callable[[str], int] | None:
    try:
        from llama_cpp import Llama  # heavy optional library: only for a text over the byte budget
    except ImportError:
        return None
    try:
        vocab = Llama(model_path=path, vocab_only=True, verbose=False)
    except (OSError, ValueError, RuntimeError):
        return None
    return lambda text: len(vocab.tokenize(text.encode("utf-8"), add_bos=False))


@functools.lru_cache(maxsize=4)
def _hf_counter(path: str) -> Callable[[str], int] | None:
    try:
        tokenizer = Tokenizer.from_file(path)
    except Exception:  # tokenizers raises plain Exception subclasses for a bad file
        return None
    return lambda text: len(tokenizer.encode(text, add_special_tokens=False).ids)
