"""In-process vLLM (optional extra `songstudio[vllm]`, GPU machines). `vllm` is imported only when
this backend is created. `LLM.chat` applies the model's chat template; structured outputs use
`StructuredOutputsParams` (the `guided_*` fields were removed in vLLM 0.12). The offline `LLM`
API returns a finished text, so the stream is a single chunk; for token streaming from vLLM run
`vllm serve` and use the `openai` backend with server="vllm"."""

from __future__ import annotations

import threading
from typing import Any, Iterator, Sequence

from lyrics.backends.base import Backend, Message, SamplingParams
from lyrics.backends.model_files import DEFAULT_MODEL, DEFAULT_MODEL_REVISION
from lyrics.constraints import Constraint
from lyrics.errors import BackendUnavailable, LyricsCancelled


class VLLMBackend(Backend):
    name = "vllm"
    constraint_kinds = ("json_schema", "gbnf")
    supports_seed = True

    def __init__(self, llm: Any, *, model: str) -> None:
        self._llm = llm
        self._model = model
        self._lock = threading.Lock()

    @classmethod
    def from_options(cls, *, model: str = DEFAULT_MODEL, revision: str | None = None,
                     dtype: str = "bfloat16", max_model_len: int = 4096,
                     gpu_memory_utilization: float = 0.5, download_dir: str | None = None) -> "VLLMBackend":
        if revision is None and model == DEFAULT_MODEL:
            revision = DEFAULT_MODEL_REVISION
        try:
            from vllm import LLM
        except ImportError as exc:
            raise BackendUnavailable("vLLM is not installed; on a GPU machine `pip install 'songstudio[vllm]'`, "
                                     "or run `vllm serve` elsewhere and use the openai backend") from exc
        llm = LLM(model=model, revision=revision, dtype=dtype, max_model_len=max_model_len,
                  gpu_memory_utilization=gpu_memory_utilization, download_dir=download_dir)
        return cls(llm, model=model)

    def sampling_params(self, params: SamplingParams, constraint: Constraint | None) -> Any:
        from vllm import SamplingParams as VLLMSamplingParams
        from vllm.sampling_params import StructuredOutputsParams

        structured = None
        if constraint is not None:
            key = "json" if constraint.kind == "json_schema" else "grammar"
            structured = StructuredOutputsParams(**{key: constraint.spec})
        return VLLMSamplingParams(max_tokens=params.max_tokens, temperature=params.temperature,
                                  top_p=params.top_p, seed=params.seed, structured_outputs=structured)

    def stream(self, messages: Sequence[Message], *, params: SamplingParams,
               constraint: Constraint | None = None,
               cancel: threading.Event | None = None) -> Iterator[str]:
        self._check_constraint(constraint)
        sampling = self.sampling_params(params, constraint)
        with self._lock:
            if cancel is not None and cancel.is_set():
                raise LyricsCancelled("generation cancelled")
            outputs = self._llm.chat([list(messages)], sampling_params=sampling, use_tqdm=False)
        text = outputs[0].outputs[0].text
        if cancel is not None and cancel.is_set():
            raise LyricsCancelled("generation cancelled")
        if text:
            yield text

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self._model}

    def close(self) -> None:
        self._llm = None
