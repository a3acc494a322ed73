"""A scripted lyrics backend for the job tests: yields the given text chunks, optionally
pausing before a chunk until the test opens a gate, and stops when the writer cancels it."""

from __future__ import annotations

import threading
from typing import Iterator, Sequence

import pytest

from lyrics.backends.base import Backend, Message, SamplingParams
from lyrics.errors import LyricsCancelled


class ScriptedBackend(Backend):
    name = "scripted"

    def __init__(self, chunks: Sequence[str], *, hold_before: int | None = None, endless: bool = False) -> None:
        self.chunks = list(chunks)
        self.hold_before = hold_before  # index of the chunk that waits for `gate`
        self.endless = endless  # after the chunks, keep yielding filler until cancelled
        self.gate = threading.Event()
        self.cancel_seen = threading.Event()  # the stream itself stopped on a cancel
        self.cancel_events: list[threading.Event] = []  # what the writer handed each stream
        self.closed = False
        self.prompts: list[Sequence[Message]] = []

    def stream(self, messages: Sequence[Message], *, params: SamplingParams, constraint=None,
               cancel: threading.Event | None = None) -> Iterator[str]:
        self.prompts.append(messages)
        cancel = cancel or threading.Event()
        self.cancel_events.append(cancel)
        for i, chunk in enumerate(self.chunks):
            if i == self.hold_before:
                while not self.gate.wait(0.02):
                    if cancel.is_set():
                        break
            if cancel.is_set():
                self.cancel_seen.set()
                raise LyricsCancelled("cancelled")
            yield chunk
        while self.endless:
            if cancel.wait(0.05):
                self.cancel_seen.set()
                raise LyricsCancelled("cancelled")
            yield "la "

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def lyrics_backend(monkeypatch):
    """Register a ScriptedBackend under the name "scripted"; the test sets `.backend` first.
    The registry is restored afterwards."""
    from lyrics.registry import backends

    monkeypatch.setattr(backends, "_factories", dict(backends._factories))
    holder = type("Holder", (), {"backend": None})()
    backends.register("scripted", lambda **options: holder.backend)
    return holder
