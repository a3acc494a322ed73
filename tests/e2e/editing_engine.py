"""A test-only engine for the UI tests: the foundation's sine-tone fake, taught every ACE-Step v1
task so the Song page's actions (retake, repaint, extend, edit, audio2audio) can run end to end.

It checks the inputs each task needs, as a real engine would, and makes its output length follow
the request (extend grows the song). Its audio is sine tones: it proves wiring, not music.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping

from music.acestep_v1.modes.arguments import EDIT_PRESETS
from music.engine import (
    TASKS_V1,
    CheckedRequest,
    MusicRequest,
    MusicResult,
    ProgressCallback,
    RequestError,
    no_progress,
)
from tests.studio.fake_engine import FakeEngine

TARGET = "tests.e2e.editing_engine:EditingEngine.from_settings"


class EditingEngine(FakeEngine):
    name = "fake"
    max_duration = 240.0

    @classmethod
    def tasks_for(cls, model_dir: str | None) -> tuple[str, ...]:
        return TASKS_V1

    @classmethod
    def presets(cls) -> dict[str, dict[str, Any]]:
        """ACE-Step v1's edit strengths, as the v1 engine offers them (the Song page's Edit lists them)."""
        return {name: {"edit_n_min": low, "edit_n_max": high} for name, (low, high) in EDIT_PRESETS.items()}

    @classmethod
    def check(cls, request: MusicRequest, *, model_dir: str | None = None,
              settings: Mapping[str, Any] | None = None) -> CheckedRequest:
        checked = super().check(request, model_dir=model_dir, settings=settings)
        request = checked.request
        if request.task in ("repaint", "extend", "edit") and not (request.source_audio and Path(request.source_audio).is_file()):
            raise RequestError(f"{request.task} needs source audio; {request.source_audio!r} is not a file")
        if request.task == "audio2audio" and not (request.reference_audio and Path(request.reference_audio).is_file()):
            raise RequestError(f"audio2audio needs reference audio; {request.reference_audio!r} is not a file")
        if request.task == "repaint" and not (request.region_start is not None and request.region_end is not None
                                              and request.region_start < request.region_end):
            raise RequestError("repaint needs a region with start < end")
        return checked

    def run(self, checked: CheckedRequest, progress: ProgressCallback = no_progress) -> MusicResult:
        request = checked.request
        # A per-engine step delay (SONGSTUDIO_ENGINE_OPTIONS) makes progress visible in a browser.
        if "step_delay" in self.settings and "step_delay" not in request.options:
            request = replace(request, options={**request.options, "step_delay": self.settings["step_delay"]})
            checked = replace(checked, request=request)
        result = super().run(checked, progress)
        result.parameters = {**result.parameters, "task": request.task, "region": [request.region_start, request.region_end]}
        return result
