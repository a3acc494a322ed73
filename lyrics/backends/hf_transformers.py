"""transformers backend: a local HF folder or a hub id (the default model's safetensors live on
revision `refs/pr/1`), bf16 on GPU, float32 on CPU. Prompts go through the tokenizer's chat
template; tokens stream from `generate` running in a worker thread. No constrained decoding:
output is parsed, validated and repaired like every other backend's."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Iterator, Sequence

from lyrics.backends.base import Backend, Message, SamplingParams
from lyrics.backends.model_files import DEFAULT_MODEL, DEFAULT_MODEL_REVISION, resolve_hf_folder
from lyrics.constraints import Constraint
from lyrics.errors import BackendUnavailable, LyricsCancelled

_STOP_TOKENS = ("<|eot_id|>", "<|end_of_text|>", "<|eom_id|>")


class TransformersBackend(Backend):
    name = "transformers"
    constraint_kinds = ()
    supports_seed = True

    def __init__(self, model: Any, tokenizer: Any, *, source: str) -> None:
        self._model = model
        self._tokenizer = tokenizer
        self._source = source
        vocab = tokenizer.get_vocab()
        self._eos_ids = [vocab[t] for t in _STOP_TOKENS if t in vocab] or None
        self._lock = threading.Lock()

    @classmethod
    def from_options(cls, *, model: str | Path = DEFAULT_MODEL, revision: str | None = None,
                     cache_dir: str | Path | None = None, download: bool = False,
                     device: str = "auto", dtype: str = "auto") -> "TransformersBackend":
        if revision is None and str(model) == DEFAULT_MODEL:
            revision = DEFAULT_MODEL_REVISION
        folder = resolve_hf_folder(model, revision=revision, cache_dir=cache_dir, download=download)
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as exc:
            raise BackendUnavailable("the transformers backend needs torch and transformers installed") from exc
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if dtype == "auto":
            dtype = "bfloat16" if device.startswith("cuda") else "float32"
        tokenizer = AutoTokenizer.from_pretrained(folder)
        if not getattr(tokenizer, "chat_template", None):
            raise BackendUnavailable(f"{folder} has no chat template; the lyrics prompts need one")
        lm = AutoModelForCausalLM.from_pretrained(folder, dtype=getattr(torch, dtype)).to(device).eval()
        return cls(lm, tokenizer, source=str(model))

    def stream(self, messages: Sequence[Message], *, params: SamplingParams,
               constraint: Constraint | None = None,
               cancel: threading.Event | None = None) -> Iterator[str]:
        self._check_constraint(constraint)
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        stop = threading.Event()  # set by the caller's cancel or when the consumer stops reading

        class _Stop(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):
                flag = stop.is_set() or (cancel is not None and cancel.is_set())
                return torch.full((input_ids.shape[0],), flag, dtype=torch.bool, device=input_ids.device)

        inputs = self._tokenizer.apply_chat_template(list(messages), add_generation_prompt=True,
                                                     return_tensors="pt", return_dict=True)
        inputs = {k: v.to(self._model.device) for k, v in inputs.items()}
        streamer = TextIteratorStreamer(self._tokenizer, skip_prompt=True, skip_special_tokens=True)
        sample = params.temperature > 0
        kwargs = dict(**inputs, max_new_tokens=params.max_tokens, do_sample=sample,
                      streamer=streamer, stopping_criteria=StoppingCriteriaList([_Stop()]),
                      eos_token_id=self._eos_ids, pad_token_id=(self._eos_ids or [None])[0])
        if sample:
            kwargs.update(temperature=params.temperature, top_p=params.top_p)
        failure: list[BaseException] = []

        def run() -> None:
            try:
                if params.seed is not None:
                    torch.manual_seed(params.seed)
                with torch.inference_mode():
                    out = self._model.generate(**kwargs)
                self.last_completion_tokens = int(out.shape[1] - inputs["input_ids"].shape[1])
            except BaseException as exc:  # re-raised in the consumer's thread below
                failure.append(exc)
                streamer.end()

        with self._lock:
            self.last_completion_tokens = None
            worker = threading.Thread(target=run, name="lyrics-generate", daemon=True)
            worker.start()
            try:
                for text in streamer:
                    if text:
                        yield text
                    if cancel is not None and cancel.is_set():
                        break
            finally:
                stop.set()
                worker.join()
        if failure:
            raise failure[0]
        if cancel is not None and cancel.is_set():
            raise LyricsCancelled("generation cancelled")

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self._source}

    def close(self) -> None:
        self._model = None
        self._tokenizer = None
