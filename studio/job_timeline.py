"""When each stage of a job ran, and the time left that follows from it.

The worker records, per stage, when it began, the last step reported and when; the record is
stored as JSON in the job row (`job.timeline`) with every progress write, so the database stays
the one source of truth and any page or CLI can estimate from it. Estimates are measured, never
assumed: the current stage's step time comes from the job's own steps, stages still to come and
queued jobs from the median of recent finished jobs of the same kind. With nothing measured yet
there is no estimate (None), not a guess.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Iterable, Sequence


@dataclass(kw_only=True)
class StageTime:
    stage: str
    start: float  # epoch seconds: when the previous stage's last report came (or the claim)
    at: float  # epoch seconds of the last report in this stage
    step: int
    total: int

    @property
    def seconds(self) -> float:
        return max(0.0, self.at - self.start)

    @property
    def step_seconds(self) -> float | None:
        """Measured time per step in this stage; None before the first step."""
        return self.seconds / self.step if self.step > 0 else None


class Timeline:
    """The worker's side: one call per progress report."""

    def __init__(self, *, started: float) -> None:
        self.stages: list[StageTime] = []
        self._last = started

    def record(self, stage: str, step: int, total: int, *, now: float) -> None:
        current = self.stages[-1] if self.stages else None
        if current is None or current.stage != stage:
            current = StageTime(stage=stage, start=self._last, at=now, step=step, total=total)
            self.stages.append(current)
        current.at, current.step, current.total = now, step, total
        self._last = now

    def to_json(self) -> str:
        return json.dumps([asdict(s) for s in self.stages], separators=(",", ":"))


def parse_timeline(text: str | None) -> list[StageTime]:
    """The stored record; an unreadable one reads as empty (no estimate rather than an error)."""
    if not text:
        return []
    try:
        return [StageTime(**item) for item in json.loads(text)]
    except (ValueError, TypeError):
        return []


@dataclass(frozen=True, kw_only=True)
class FinishedRun:
    """A recent finished job of one kind: how long it ran and its stages."""

    seconds: float
    stages: list[StageTime]


def run_of(started_at: datetime | None, finished_at: datetime | None, timeline: str | None) -> FinishedRun | None:
    if started_at is None or finished_at is None:
        return None
    return FinishedRun(seconds=max(0.0, (finished_at - started_at).total_seconds()), stages=parse_timeline(timeline))


def typical_seconds(history: Sequence[FinishedRun]) -> float | None:
    """The median run time of the recent finished jobs, None without any."""
    return statistics.median(r.seconds for r in history) if history else None


def _typical_stage(history: Sequence[FinishedRun], stage: str) -> float | None:
    seconds = [s.seconds for r in history for s in r.stages if s.stage == stage]
    return statistics.median(seconds) if seconds else None


def _later_stages(history: Sequence[FinishedRun], stage: str) -> list[str]:
    """Stages that followed `stage` in the most recent finished run that had it."""
    for run in history:
        names = [s.stage for s in run.stages]
        if stage in names:
            return names[names.index(stage) + 1:]
    return []


def remaining_running(stages: Sequence[StageTime], history: Sequence[FinishedRun], *, now: float) -> float | None:
    """Seconds left for a running job: the rest of its current stage at its own measured step
    time, plus the typical length of the stages that come after it. None when nothing measured
    says how long the current stage takes."""
    if not stages:
        typical = typical_seconds(history)
        return typical
    current = stages[-1]
    per_step = current.step_seconds
    if per_step is not None and current.total:
        left = current.at + per_step * max(0, current.total - current.step) - now
    else:
        typical = _typical_stage(history, current.stage)
        if typical is None:
            return None
        left = current.start + typical - now
    later = 0.0
    for name in _later_stages(history, current.stage):
        later += _typical_stage(history, name) or 0.0
    return max(0.0, left) + later


def queue_wait(ahead: Iterable[float | None], *, workers: int) -> float | None:
    """Seconds until a queued job starts: the time left of the running jobs plus the jobs ahead,
    shared by the workers. None when any of them has no estimate."""
    total = 0.0
    for seconds in ahead:
        if seconds is None:
            return None
        total += seconds
    return total / max(1, workers)


def format_eta(seconds: float | None) -> str:
    """'about 1 min 20 s left' style text; '' without an estimate."""
    if seconds is None:
        return ""
    seconds = round(seconds)
    if seconds < 1:
        return "finishing"
    minutes, rest = divmod(seconds, 60)
    if minutes == 0:
        return f"about {rest} s"
    return f"about {minutes} min {rest:02d} s"
