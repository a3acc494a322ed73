"""Request shapes per server kind against a mock transport (what goes on the wire), and the
error messages for servers that are down or refuse."""

from __future__ import annotations

import json
import socket

import httpx2
import pytest

from lyrics import backends
from lyrics.backends.base import SamplingParams
from lyrics.backends.openai_http import normalise_base_url
from lyrics.constraints import Constraint, Shape, lyrics_gbnf, lyrics_schema
from lyrics.errors import BackendUnavailable
from lyrics.writer import LyricsWriter

SCHEMA = lyrics_schema(Shape(structure=("verse", "chorus")))
GBNF = lyrics_gbnf(Shape(structure=("verse", "chorus"), lines=(4, 4)))  # the planned lines per section
SONG = {"title": "Rain", "sections": [{"tag": "verse", "lines": ["drops\tfall", "on me"]},
                                      {"tag": "chorus", "lines": ["oh rain"]}]}


def _sse(pieces: list[str], usage: int | None = None) -> bytes:
    events = []
    for i, piece in enumerate(pieces):
        chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "m",
                 "choices": [{"index": 0, "delta": {"role": "assistant", "content": piece} if i == 0
                              else {"content": piece}, "finish_reason": None}]}
        events.append(f"data: {json.dumps(chunk)}\n\n")
    if usage is not None:
        events.append("data: " + json.dumps({"id": "c1", "object": "chat.completion.chunk", "created": 0,
                                              "model": "m", "choices": [],
                                              "usage": {"prompt_tokens": 9, "completion_tokens": usage,
                                                        "total_tokens": 9 + usage}}) + "\n\n")
    events.append("data: [DONE]\n\n")
    return "".join(events).encode()


class Recorder:
    def __init__(self, pieces: list[str], status: int = 200, body: dict | None = None,
                 usage: int | None = None) -> None:
        self.pieces, self.status, self.body, self.usage = pieces, status, body, usage
        self.requests: list[dict] = []
        self.headers: list[httpx2.Headers] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(json.loads(request.content))
        self.headers.append(request.headers)
        if self.status != 200:
            return httpx2.Response(self.status, json=self.body or {"error": {"message": "nope"}})
        return httpx2.Response(200, content=_sse(self.pieces, self.usage), headers={"content-type": "text/event-stream"})


def _backend(server: str, recorder: Recorder, **options):
    client = httpx2.Client(transport=httpx2.MockTransport(recorder))
    return backends.create("openai", base_url="http://gpu-host:8000/v1", model="song-stream",
                           server=server, api_key="sk-secret-123", http_client=client, max_retries=0, **options)


def test_vllm_json_schema_shape_and_strict_false_parse():
    # Raw control characters inside JSON strings, as xgrammar lets through.
    text = json.dumps(SONG).replace("\\t", "\t")
    recorder = Recorder([text[:20], text[20:]])
    writer = LyricsWriter(_backend("vllm", recorder))
    lyrics = writer.draft(structure="verse chorus", seed=3)
    body = recorder.requests[0]
    assert body["response_format"] == {"type": "json_schema", "json_schema": {"name": "lyrics", "schema": SCHEMA}}
    assert "structured_outputs" not in body and "guided_json" not in body and "grammar" not in body
    assert body["model"] == "song-stream" and body["seed"] == 3 and body["stream"] is True
    assert body["messages"][0]["role"] == "system" and "in order: verse, chorus" in body["messages"][-1]["content"]
    assert recorder.headers[0]["authorization"] == "Bearer sk-secret-123"
    assert lyrics.title == "Rain"
    assert [(s.tag, s.lines) for s in lyrics.sections] == [("verse", ("drops fall", "on me")), ("chorus", ("oh rain",))]


def test_vllm_grammar_goes_in_structured_outputs():
    backend = _backend("vllm", Recorder([]))
    fields = backend.request([{"role": "user", "content": "x"}], params=SamplingParams(),
                             constraint=Constraint("gbnf", GBNF))
    assert fields["extra_body"] == {"structured_outputs": {"grammar": GBNF}}
    assert "response_format" not in fields


def test_llama_cpp_server_shapes():
    backend = _backend("llama-cpp", Recorder([]))
    assert backend.constraint_kinds[0] == "gbnf"
    grammar = backend.request([], params=SamplingParams(), constraint=Constraint("gbnf", GBNF))
    assert grammar["extra_body"] == {"grammar": GBNF} and "response_format" not in grammar
    schema = backend.request([], params=SamplingParams(), constraint=Constraint("json_schema", SCHEMA))
    assert schema["response_format"] == {"type": "json_object", "schema": SCHEMA}


def test_llama_cpp_server_wire_format_and_text_mode():
    recorder = Recorder(["Title: Rain\n\n[verse]\nline one\nline two\n\n", "[chorus]\nsing\nsing again\n"])
    lyrics = LyricsWriter(_backend("llama-cpp", recorder)).draft(theme="rain", structure=["verse", "chorus"])
    assert recorder.requests[0]["grammar"] == GBNF  # extra_body fields travel at the top level
    assert lyrics.render() == "[verse]\nline one\nline two\n\n[chorus]\nsing\nsing again"


def test_generic_server_sends_no_constraint_and_rejects_one():
    backend = _backend("generic", Recorder([]))
    assert backend.constraint_kinds == ()
    with pytest.raises(ValueError, match="cannot apply a gbnf"):
        backend.request([], params=SamplingParams(), constraint=Constraint("gbnf", GBNF))


def test_http_errors_name_the_url_never_the_key():
    for status, needle in [(401, "rejected the API key"), (404, "404 for model 'song-stream'"),
                           (500, "HTTP 500: nope")]:
        backend = _backend("vllm", Recorder([], status=status))
        with pytest.raises(BackendUnavailable) as info:
            LyricsWriter(backend).draft(theme="rain")
        assert needle in str(info.value) and "http://gpu-host:8000/v1" in str(info.value)
        assert "sk-secret" not in str(info.value) and "sk-secret" not in json.dumps(backend.describe())


def test_unreachable_server_says_the_url():
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    backend = backends.create("openai", base_url=f"http://127.0.0.1:{port}", model="m", server="vllm",
                              max_retries=0, timeout=5)
    with pytest.raises(BackendUnavailable, match=f"cannot reach the lyrics server at http://127.0.0.1:{port}/v1"):
        LyricsWriter(backend).draft(theme="rain")


def test_options_are_checked():
    assert normalise_base_url("http://h:8000/") == "http://h:8000/v1"
    assert normalise_base_url("https://h/api/v1/") == "https://h/api/v1"
    with pytest.raises(ValueError, match="http"):
        normalise_base_url("h:8000")
    with pytest.raises(ValueError, match="server kind"):
        backends.create("openai", base_url="http://h", model="m", server="tgi")
    with pytest.raises(ValueError, match="model is required"):
        backends.create("openai", base_url="http://h", model="")


def test_token_count_from_usage_or_chunks():
    messages = [{"role": "user", "content": "x"}]
    with_usage = _backend("vllm", Recorder(["a", "b", "c"], usage=17))
    assert with_usage.complete(messages, params=SamplingParams()) == "abc"
    assert with_usage.last_completion_tokens == 17
    recorder = Recorder(["a", "b", "c"])
    without = _backend("llama-cpp", recorder)
    without.complete(messages, params=SamplingParams())
    assert without.last_completion_tokens == 3
    assert recorder.requests[0]["stream_options"] == {"include_usage": True}


def test_in_process_vllm_maps_constraints_to_structured_outputs(monkeypatch):
    """vLLM cannot run here (CUDA torch); a stand-in module records what our backend passes to
    vLLM's offline API. This checks our mapping, not vLLM itself."""
    import sys
    import types

    calls = {}

    class FakeParams:
        def __init__(self, **kw):
            calls.setdefault("sampling", []).append(kw)

    class FakeStructured:
        def __init__(self, **kw):
            self.kw = kw

    class FakeLLM:
        def __init__(self, **kw):
            calls["llm"] = kw

        def chat(self, conversations, sampling_params, use_tqdm):
            calls["chat"] = conversations
            out = types.SimpleNamespace(text=json.dumps(SONG))
            return [types.SimpleNamespace(outputs=[out])]

    vllm = types.ModuleType("vllm")
    vllm.LLM, vllm.SamplingParams = FakeLLM, FakeParams
    sampling = types.ModuleType("vllm.sampling_params")
    sampling.StructuredOutputsParams = FakeStructured
    monkeypatch.setitem(sys.modules, "vllm", vllm)
    monkeypatch.setitem(sys.modules, "vllm.sampling_params", sampling)

    backend = backends.create("vllm")
    assert calls["llm"]["model"] == "prithivMLmods/Llama-Song-Stream-3B-Instruct"
    assert calls["llm"]["revision"] == "refs/pr/1"
    lyrics = LyricsWriter(backend).draft(theme="rain", structure="verse chorus", seed=5)
    kw = calls["sampling"][-1]
    assert kw["seed"] == 5 and kw["structured_outputs"].kw == {"json": SCHEMA}
    assert calls["chat"][0][0]["role"] == "system"
    assert [s.tag for s in lyrics.sections] == ["verse", "chorus"]
    backend.sampling_params(SamplingParams(), Constraint("gbnf", GBNF))
    assert calls["sampling"][-1]["structured_outputs"].kw == {"grammar": GBNF}


def test_unknown_option_is_an_error_not_ignored():
    with pytest.raises(TypeError, match="api_keey"):
        backends.create("openai", base_url="http://h", model="m", api_keey="x")
