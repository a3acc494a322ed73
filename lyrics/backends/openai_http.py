"""OpenAI-compatible HTTP backend: a `vllm serve` server on a GPU host (shared by many studio
users), llama.cpp's `python -m llama_cpp.server`, or any other chat-completions endpoint.

Servers take structured-output requests in different shapes, and a wrong shape fails open
(HTTP 200, unconstrained text), so each server kind has its own small adapter:

    server="vllm"       JSON schema -> response_format {"type": "json_schema", ...}
                        GBNF        -> extra_body {"structured_outputs": {"grammar": ...}}
    server="llama-cpp"  GBNF        -> extra_body {"grammar": ...}
                        JSON schema -> response_format {"type": "json_object", "schema": ...}
    server="generic"    no constraints (output is still parsed, validated and repaired)

The API key is sent as a bearer token and never appears in errors or `describe()`.
"""

from __future__ import annotations

import threading
from typing import Any, Iterator, Sequence
from urllib.parse import urlsplit

from lyrics.backends.base import Backend, Message, SamplingParams
from lyrics.constraints import Constraint
from lyrics.errors import BackendUnavailable, LyricsCancelled


class ServerAdapter:
    """Maps a Constraint onto the request fields one kind of server enforces."""

    name = "generic"
    constraint_kinds: tuple[str, ...] = ()

    def request_fields(self, constraint: Constraint | None) -> dict[str, Any]:
        return {}


class VLLMAdapter(ServerAdapter):
    name = "vllm"
    # JSON schema is vLLM's documented path; its GBNF goes through xgrammar's dialect.
    constraint_kinds = ("json_schema", "gbnf")

    def request_fields(self, constraint: Constraint | None) -> dict[str, Any]:
        if constraint is None:
            return {}
        if constraint.kind == "json_schema":
            return {"response_format": {"type": "json_schema",
                                        "json_schema": {"name": "lyrics", "schema": constraint.spec}}}
        # `guided_grammar` was removed in vLLM 0.12 and is silently ignored since.
        return {"extra_body": {"structured_outputs": {"grammar": constraint.spec}}}


class LlamaCppServerAdapter(ServerAdapter):
    name = "llama-cpp"
    constraint_kinds = ("gbnf", "json_schema")

    def request_fields(self, constraint: Constraint | None) -> dict[str, Any]:
        if constraint is None:
            return {}
        if constraint.kind == "gbnf":
            return {"extra_body": {"grammar": constraint.spec}}
        # llama_cpp.server answers HTTP 500 to type "json_schema"; json_object + schema is enforced.
        return {"response_format": {"type": "json_object", "schema": constraint.spec}}


ADAPTERS: dict[str, type[ServerAdapter]] = {
    "vllm": VLLMAdapter, "llama-cpp": LlamaCppServerAdapter, "generic": ServerAdapter,
}


def normalise_base_url(base_url: str) -> str:
    """`http://host:8000` -> `http://host:8000/v1`; a URL with a path is kept as given."""
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"base_url must be an http(s) URL such as http://127.0.0.1:8000/v1, got {base_url!r}")
    url = base_url.strip().rstrip("/")
    return url + "/v1" if parts.path in ("", "/") else url


class OpenAIBackend(Backend):
    name = "openai"
    supports_seed = True

    def __init__(self, client: Any, *, base_url: str, model: str, adapter: ServerAdapter) -> None:
        self._client = client
        self._base_url = base_url
        self._model = model
        self._adapter = adapter
        self.constraint_kinds = adapter.constraint_kinds

    @classmethod
    def from_options(cls, *, base_url: str, model: str, api_key: str | None = None,
                     server: str = "vllm", timeout: float = 120.0, max_retries: int = 1,
                     http_client: Any = None) -> "OpenAIBackend":
        if server not in ADAPTERS:
            raise ValueError(f"unknown server kind {server!r}; use one of {', '.join(ADAPTERS)}")
        if not model:
            raise ValueError("model is required: the name the server serves (vLLM's --served-model-name "
                             "or llama.cpp's --model_alias)")
        try:
            from openai import OpenAI
        except ImportError as exc:
            raise BackendUnavailable("the openai backend needs the `openai` package") from exc
        url = normalise_base_url(base_url)
        # Local servers need no key; the client insists on one, so send a placeholder.
        client = OpenAI(base_url=url, api_key=api_key or "EMPTY", timeout=timeout,
                        max_retries=max_retries, http_client=http_client)
        return cls(client, base_url=url, model=model, adapter=ADAPTERS[server]())

    def request(self, messages: Sequence[Message], *, params: SamplingParams,
                constraint: Constraint | None = None, stream: bool = True) -> dict[str, Any]:
        """The keyword arguments for `chat.completions.create` (exposed for the adapter tests)."""
        self._check_constraint(constraint)
        fields: dict[str, Any] = dict(model=self._model, messages=list(messages), stream=stream,
                                      max_tokens=params.max_tokens, temperature=params.temperature,
                                      top_p=params.top_p)
        if params.seed is not None:
            fields["seed"] = params.seed
        fields.update(self._adapter.request_fields(constraint))
        return fields

    def stream(self, messages: Sequence[Message], *, params: SamplingParams,
               constraint: Constraint | None = None,
               cancel: threading.Event | None = None) -> Iterator[str]:
        import openai

        fields = self.request(messages, params=params, constraint=constraint)
        fields["stream_options"] = {"include_usage": True}
        usage = None
        pieces = 0
        self.last_completion_tokens = None
        try:
            chunks = self._client.chat.completions.create(**fields)
            try:
                for chunk in chunks:
                    if cancel is not None and cancel.is_set():
                        raise LyricsCancelled("generation cancelled")
                    if getattr(chunk, "usage", None) is not None:
                        usage = chunk.usage.completion_tokens
                    if chunk.choices and chunk.choices[0].delta and chunk.choices[0].delta.content:
                        pieces += 1
                        # servers that send no usage stream one token per chunk
                        self.last_completion_tokens = pieces
                        yield chunk.choices[0].delta.content
                if usage is not None:
                    self.last_completion_tokens = usage
            finally:
                chunks.close()  # closing the HTTP stream makes the server abort the request
        except openai.APIConnectionError as exc:
            raise BackendUnavailable(f"cannot reach the lyrics server at {self._base_url} ({exc.__cause__ or exc}); "
                                     "check that it is running and the URL in settings") from None
        except openai.AuthenticationError:
            raise BackendUnavailable(f"the lyrics server at {self._base_url} rejected the API key (HTTP 401); "
                                     "check the key in settings") from None
        except openai.NotFoundError as exc:
            raise BackendUnavailable(f"the lyrics server at {self._base_url} answered 404 for model "
                                     f"{self._model!r} ({_status_message(exc)}); check the model name and "
                                     "that the URL ends with /v1") from None
        except openai.APIStatusError as exc:
            raise BackendUnavailable(f"the lyrics server at {self._base_url} answered HTTP {exc.status_code}: "
                                     f"{_status_message(exc)}") from None

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "server": self._adapter.name, "base_url": self._base_url,
                "model": self._model}

    def close(self) -> None:
        self._client.close()


def _status_message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        detail = body.get("message") or body.get("detail") or body.get("error")
        if isinstance(detail, dict):
            detail = detail.get("message")
        if detail:
            return str(detail)[:300]
    return str(getattr(exc, "message", exc))[:300]
