"""Tiny random Llama-3-style models built once per session (never committed): a transformers
folder and the same weights as an f32 GGUF written by lyrics.gguf_export."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.lyrics.tiny_llama import build_tiny_llama


@pytest.fixture(scope="session")
def tiny_hf(tmp_path_factory) -> Path:
    return build_tiny_llama(tmp_path_factory.mktemp("tiny-llama") / "hf")


@pytest.fixture(scope="session")
def tiny_gguf(tiny_hf) -> Path:
    from lyrics.gguf_export import export_llama_gguf

    return export_llama_gguf(tiny_hf, tiny_hf.parent / "tiny.f32.gguf", dtype="f32")


def _require(module: str, install: str):
    """Import `module`; missing: skip locally, fail on CI (where scripts/setup installs it)."""
    try:
        return __import__(module, fromlist=["_"])
    except ImportError:
        message = f"{module} is not installed ({install})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def llama_cpp_installed():
    return _require("llama_cpp", "pip install 'songstudio[llama]'")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_gguf(gguf: Path, alias: str, log_dir: Path):
    """`python -m llama_cpp.server` with `gguf` on 127.0.0.1; yields its /v1 URL."""
    _require("llama_cpp.server.app", "pip install 'songstudio[server]'")
    import httpx2

    port = _free_port()
    log = log_dir / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1",
             "--port", str(port), "--n_ctx", "2048", "--n_threads", "1", "--model_alias", alias],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {proc.returncode}: {log.read_text()[-2000:]}")
            try:
                if httpx2.get(f"{url}/models", timeout=1).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server not ready after 60 s: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def llama_server(tiny_gguf, llama_cpp_installed, tmp_path_factory):
    """`python -m llama_cpp.server` on 127.0.0.1: the OpenAI-compatible stand-in for vLLM."""
    with serve_gguf(tiny_gguf, "song-stream-tiny", tmp_path_factory.mktemp("llama-server")) as url:
        yield url


@pytest.fixture(scope="session")
def starter_gguf_path(llama_cpp_installed) -> Path:
    """The real starter model (SmolLM2-135M-Instruct Q4_1) that scripts/setup installs."""
    from lyrics.starter import INSTALL_HINT, starter_gguf

    path = starter_gguf()
    if path is None:
        message = f"the starter lyrics model is not installed; {INSTALL_HINT}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def starter_backend(starter_gguf_path):
    from lyrics import backends

    # one thread: llama.cpp's threads spin-wait, which stalls on a busy shared machine
    with backends.create("llama-cpp", model_path=str(starter_gguf_path), n_threads=1, n_ctx=2048) as backend:
        yield backend
