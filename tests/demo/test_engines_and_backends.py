"""The 1.5 and lyrics demo models load through the registries with the returned options."""

from __future__ import annotations

import numpy as np
import pytest

from lyrics.backends.base import SamplingParams

MESSAGES = [{"role": "system", "content": "You write songs."}, {"role": "user", "content": "A verse about rain."}]


def test_acestep15_engine_generates_stereo_48k(demo):
    from music.engine import MusicRequest
    from music.registry import engines

    engine = engines.create("ace-step-1.5", **demo["music"]["ace-step-1.5"]["options"])
    assert engine.variant.name == "turbo" and "repaint" in engine.tasks()
    result = engine.generate(MusicRequest(prompt="lo-fi, piano", lyrics="[verse]\nrain", duration=10.0, steps=2, seeds=[3]))
    audio = result.takes[0].audio
    assert result.sample_rate == 48000 and audio.shape == (2, 480000)
    assert np.isfinite(audio).all() and np.abs(audio).max() > 0


def test_llama_folder_has_llama3_tokens_and_chat_template(demo):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(demo["lyrics"]["transformers"]["options"]["model"])
    text = tokenizer.apply_chat_template(MESSAGES, add_generation_prompt=True, tokenize=False)
    assert text.startswith("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou write songs.<|eot_id|>")
    assert text.endswith("<|start_header_id|>assistant<|end_header_id|>\n\n")


def _greedy(backend) -> str:
    try:
        return "".join(backend.stream(MESSAGES, params=SamplingParams(max_tokens=8, temperature=0.0, seed=1)))
    finally:
        backend.close()


@pytest.fixture(scope="module")
def transformers_text(demo) -> str:
    from lyrics.registry import backends

    backend = backends.create("transformers", **demo["lyrics"]["transformers"]["options"])
    assert backend.describe()["backend"] == "transformers"
    return _greedy(backend)


def test_transformers_backend_streams_text(transformers_text):
    assert transformers_text  # random weights: noise, but eight tokens of it


def test_gguf_carries_the_chat_template_and_loads_in_llama_cpp(demo, transformers_text):
    import gguf

    path = demo["lyrics"]["llama-cpp"]["options"]["model_path"]
    reader = gguf.GGUFReader(path)
    field = reader.fields["tokenizer.chat_template"]
    assert "<|start_header_id|>" in bytes(field.parts[field.data[0]]).decode("utf-8")

    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (pip install 'songstudio[llama]')")
    from lyrics.registry import backends

    backend = backends.create("llama-cpp", **demo["lyrics"]["llama-cpp"]["options"], n_threads=1)
    assert backend.describe() == {"backend": "llama-cpp", "model": "tiny-llama.f32.gguf"}
    # same f32 weights, same template, greedy: the same text as the transformers folder
    assert _greedy(backend) == transformers_text
