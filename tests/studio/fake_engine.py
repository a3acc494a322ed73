"""A test-only music engine: a few sine tones, with real steps, progress and an optional delay.

Registered in worker processes through `SONGSTUDIO_EXTRA_ENGINES={"fake": "tests.studio.fake_engine:FakeEngine.from_settings"}`.
`options.step_delay` (seconds per step) makes a run long enough to cancel or SIGKILL it;
`options.fail_at_step` raises mid-run; `options.fail_once_file` fails only the first attempt; `options.nan` returns broken audio.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from music.engine import CheckedRequest, MusicEngine, MusicResult, ProgressCallback, RenderedTake, no_progress

TARGET = "tests.studio.fake_engine:FakeEngine.from_settings"


class FakeEngine(MusicEngine):
    name = "fake"
    sample_rate = 24000
    max_duration = 60.0

    def __init__(self, **settings: Any) -> None:
        self.settings = settings

    @classmethod
    def from_settings(cls, **kwargs: Any) -> "FakeEngine":
        return cls(**kwargs)

    @classmethod
    def tasks_for(cls, model_dir: str | None) -> tuple[str, ...]:
        return ("text2music", "retake")

    def run(self, checked: CheckedRequest, progress: ProgressCallback = no_progress) -> MusicResult:
        request = checked.request
        steps = request.steps or 8
        delay = float(request.options.get("step_delay", 0.0))
        seeds = request.seeds or [1234]
        if len(seeds) == 1 and request.batch_size > 1:
            seeds = [seeds[0] + i for i in range(request.batch_size)]
        for step in range(steps):
            progress("diffusion", step, steps)
            if request.options.get("fail_at_step") == step:
                raise RuntimeError(f"fake failure at step {step}")
            marker = request.options.get("fail_once_file")
            if marker and step == 1 and not os.path.exists(marker):
                open(marker, "w").close()
                raise RuntimeError("fake transient failure (first attempt only)")
            time.sleep(delay)
        progress("diffusion", steps, steps)
        n = int(request.duration * self.sample_rate)
        t = np.arange(n, dtype=np.float32) / self.sample_rate
        takes = []
        for seed in seeds:
            freq = 220.0 + (seed % 200)
            tone = 0.3 * np.sin(2 * np.pi * freq * t, dtype=np.float32)
            audio = np.stack([tone, 0.5 * tone]).astype(np.float32)
            if request.options.get("nan"):
                audio[0, 0] = np.nan
            takes.append(RenderedTake(audio=audio, seed=int(seed)))
        return MusicResult(
            takes=takes,
            sample_rate=self.sample_rate,
            engine="fake",
            model_id="fake-sine",
            revision="1",
            parameters={"steps": steps, "seeds": seeds},
            timings={"diffusion": steps * delay},
        )
