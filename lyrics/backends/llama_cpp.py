"""In-process llama.cpp (`llama-cpp-python`): the CPU default. Loads a GGUF (default: the Q4_K_M
of Llama-Song-Stream-3B-Instruct) and uses the chat template embedded in it. Constraints: GBNF
grammars (preferred: readable streamed text) and JSON schemas (turned into GBNF by llama.cpp)."""

from __future__ import annotations

import codecs
import json
import os
import random
import threading
from pathlib import Path
from typing import Any, Iterator, Sequence

from lyrics.backends.base import Backend, Message, SamplingParams
from lyrics.backends.model_files import DEFAULT_GGUF_FILE, DEFAULT_GGUF_REPO, resolve_gguf
from lyrics.constraints import Constraint
from lyrics.errors import BackendUnavailable, LyricsCancelled

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
    supports_prefix = True

    def __init__(self, llm: Any, *, model_path: Path) -> None:
        self._llm = llm
        self._model_path = model_path
        self._lock = threading.Lock()  # a Llama context serves one generation at a time

    @classmethod
    def from_options(cls, *, model_path: str | Path | None = None, repo_id: str = DEFAULT_GGUF_REPO,
                     filename: str = DEFAULT_GGUF_FILE, cache_dir: str | Path | None = None,
                     download: bool = False, n_ctx: int = 4096, n_threads: int | None = None,
                     n_gpu_layers: int = 0, n_batch: int = 512) -> "LlamaCppBackend":
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
               cancel: threading.Event | None = None, prefix: str = "") -> Iterator[str]:
        # Our own token loop instead of create_chat_completion(stream=True): its streaming path
        # re-decodes every pending token whenever the text is not yet valid UTF-8, which grows
        # cubically on byte-level output (measured: stalls for minutes); an incremental decoder
        # is linear and keeps cancel checks per token.
        self._check_constraint(constraint)
        import llama_cpp

        grammar = self._grammar(constraint)
        with self._lock:
            llm = self._llm
            prompt = self._prompt_tokens(messages, prefix)
            budget = min(params.max_tokens, llm.n_ctx() - len(prompt))
            if budget <= 0:
                raise ValueError(f"the prompt has {len(prompt)} tokens and fills the {llm.n_ctx()}-token "
                                 "context; raise n_ctx or shorten the lyrics")
            llm.set_seed(params.seed if params.seed is not None else random.randrange(2**31))
            vocab = llama_cpp.llama_model_get_vocab(llm.model)
            decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
            tokens = llm.generate(prompt, temp=params.temperature, top_p=params.top_p, grammar=grammar,
                                  repeat_penalty=params.repeat_penalty,
                                  reset=True)
            self.last_completion_tokens = 0
            try:
                for count, token in enumerate(tokens, start=1):
                    if llama_cpp.llama_vocab_is_eog(vocab, token):
                        break
                    self.last_completion_tokens = count
                    text = decoder.decode(llm.detokenize([token]))
                    if text:
                        yield text
                    if cancel is not None and cancel.is_set():
                        raise LyricsCancelled("generation cancelled")
                    if count >= budget:
                        break
            finally:
                tokens.close()  # stops decoding when the consumer stops early
            tail = decoder.decode(b"", final=True)
            if tail:
                yield tail

    def word_token(self, word: str) -> int | None:
        """The token id of " word" when the model's vocabulary has it as one token, else None.
        BPE vocabularies give common words their own tokens (low ids: early merges), so this
        tells a usable rhyme word from an obscure one."""
        with self._lock:
            tokens = self._llm.tokenize((" " + word).encode("utf-8"), add_bos=False, special=False)
        return tokens[0] if len(tokens) == 1 else None

    def _prompt_tokens(self, messages: Sequence[Message], prefix: str = "") -> list[int]:
        """The chat template embedded in the GGUF, rendered the way llama-cpp-python does, then
        the start of the reply (`prefix`). llama.cpp reuses the cached state of a shared token
        prefix, so candidates for the next line only pay for their own tokens."""
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        llm = self._llm
        template = llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise BackendUnavailable(f"{self._model_path.name} has no chat template in its metadata")
        special = lambda token_id: llm.detokenize([token_id], special=True).decode("utf-8", "replace")  # noqa: E731
        formatter = Jinja2ChatFormatter(template=template, eos_token=special(llm.token_eos()),
                                        bos_token=special(llm.token_bos()))
        prompt = formatter(messages=list(messages)).prompt + prefix
        return llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)

    @staticmethod
    def _grammar(constraint: Constraint | None):
        if constraint is None:
            return None
        from llama_cpp import LlamaGrammar

        if constraint.kind == "gbnf":
            return LlamaGrammar.from_string(constraint.spec, verbose=False)
        return LlamaGrammar.from_json_schema(json.dumps(constraint.spec), verbose=False)

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self._model_path.name}

    def close(self) -> None:
        llm, self._llm = self._llm, None
        if llm is not None:
            llm.close()
