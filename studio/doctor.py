"""`songstudio doctor`: what this machine can and cannot do, stated plainly."""

from __future__ import annotations

import platform
import shutil
import sys
from dataclasses import asdict, dataclass, field
from importlib import metadata

from lyrics.registry import backends
from music.registry import engines
from studio import lyrics_model
from studio.db import Database
from studio.demo_models import is_demo_model
from studio.errors import StudioError
from studio.jobs import JobStore
from studio.model_store import list_models
from studio.queue import JobQueue
from studio.settings import Settings
from studio.worker import resolve_device

PACKAGES = ("torch", "transformers", "diffusers", "streamlit", "sqlmodel", "alembic", "huey", "soundfile",
            "lameenc", "mutagen", "llama_cpp_python", "web3", "eth-account")


@dataclass
class Check:
    name: str
    level: str  # ok, note (works, worth knowing), warn, fail
    detail: str


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)

    def add(self, name: str, level: str, detail: str) -> None:
        self.checks.append(Check(name, level, detail))

    @property
    def failed(self) -> bool:
        return any(c.level == "fail" for c in self.checks)

    def as_dict(self) -> dict:
        return {"ok": not self.failed, "checks": [asdict(c) for c in self.checks]}


def run_checks(settings: Settings) -> Report:
    report = Report()
    report.add("python", "ok", f"{sys.version.split()[0]} on {platform.platform()}")
    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} not installed")
    report.add("packages", "ok", ", ".join(versions))
    _check_registries(report, settings)
    _check_device(report, settings)
    _check_home(report, settings)
    _check_database(report, settings)
    _check_queue(report, settings)
    _check_models(report, settings)
    return report


def _check_registries(report: Report, settings: Settings) -> None:
    names = sorted(set(engines.names()) | set(settings.extra_engines))
    level = "ok" if settings.engine in names else "fail"
    report.add("engines", level, f"default {settings.engine}; known: {', '.join(names)}")
    report.add("lyrics", "ok", f"default backend {settings.lyrics_backend}; known: {', '.join(backends.names())}")
    model = lyrics_model.choose(settings)
    if model.kind == "missing":
        report.add("lyrics model", "warn", f"{model.label} {model.note}")
    else:
        report.add("lyrics model", "ok", f"lyrics are written by {model.describe()}")


def _check_device(report: Report, settings: Settings) -> None:
    try:
        import torch
    except ImportError:
        report.add("device", "warn", "torch is not installed: no music generation on this machine")
        return

    try:
        resolve_device(settings.device)
    except StudioError as exc:  # a device this machine does not have: the worker would refuse to start
        report.add("device", "fail", str(exc))
        return
    if torch.cuda.is_available():
        gpus = []
        for i in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(i)
            gpus.append(f"cuda:{i} {props.name} {props.total_memory / 2**30:.0f} GiB")
        report.add("device", "ok", f"configured {settings.device}; " + "; ".join(gpus))
        return
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        report.add("device", "ok", f"configured {settings.device}; Apple mps")
        return
    report.add("device", "warn", f"no GPU: cpu with {torch.get_num_threads()} threads; a song takes tens of minutes")


def _check_home(report: Report, settings: Settings) -> None:
    try:
        settings.ensure_home()
    except StudioError as exc:
        report.add("data home", "fail", str(exc))
        return
    free = shutil.disk_usage(settings.home).free / 2**30
    level = "ok" if free > 5 else "warn"
    report.add("data home", level, f"{settings.home} writable, {free:.1f} GiB free")


def _check_database(report: Report, settings: Settings) -> None:
    try:
        db = Database.open(settings)
        jobs = JobStore(db)
        counts = ", ".join(f"{jobs.count(status)} {status}" for status in ("queued", "running", "failed"))
        report.add("database", "ok", f"{db.display_url} at revision {db.current_revision()}; jobs: {counts}")
        db.dispose()
    except Exception as exc:
        report.add("database", "fail", f"{type(exc).__name__}: {exc}")


def _check_queue(report: Report, settings: Settings) -> None:
    try:
        queue = JobQueue(settings)
        queue.ping()
        report.add("queue", "ok", f"{queue.display}: {queue.pending()} wake-ups waiting")
        if settings.database_url and not settings.database_url.startswith("sqlite") and queue.backend == "sqlite":
            report.add("queue", "warn", "a shared database with a per-machine SQLite queue: workers on other "
                       "machines are only woken by their own re-sends; set SONGSTUDIO_QUEUE_BACKEND=redis")
    except Exception as exc:
        report.add("queue", "fail", str(exc))


def _check_models(report: Report, settings: Settings) -> None:
    demo_engines = demo_engines_in_use(settings)
    for status in list_models(settings):
        name = f"model {status.info.name}"
        missing = (f"not in {status.folder} (missing {', '.join(status.missing[:3])}"
                   f"{'...' if len(status.missing) > 3 else ''}); `songstudio models download {status.info.name}` "
                   "or `models import`")
        if status.present:
            report.add(name, "ok", str(status.folder))
        elif status.info.engine in demo_engines:
            report.add(name, "note", f"the demo model is in use instead (tiny, random weights: takes are noise); "
                       f"the real one is {missing}")
        elif status.info.kind == "lyrics" and settings.lyrics_backend != status.info.engine:
            report.add(name, "note", f"only the {status.info.engine} backend loads this folder; it is {missing}")
        else:
            report.add(name, "warn", missing)


def demo_engines_in_use(settings: Settings) -> set[str]:
    """Engines whose options point at a demo model (random weights)."""
    found = set()
    for engine, options in settings.engine_options.items():
        folder = options.get("model_dir") or options.get("model_id_or_dir")
        if folder and is_demo_model(folder):
            found.add(engine)
    return found


def render(report: Report) -> list[str]:
    """The report as lines of words, ending with a summary."""
    lines = [f"[{check.level:4}] {check.name:16} {check.detail}" for check in report.checks]
    problems = [c.name for c in report.checks if c.level == "fail"]
    warnings = [c.name for c in report.checks if c.level == "warn"]
    if problems:
        lines.append(f"{len(problems)} problem(s) to fix: {', '.join(problems)}")
    elif warnings:
        lines.append(f"Everything needed works; {len(warnings)} warning(s): {', '.join(warnings)}")
    else:
        lines.append("Everything works.")
    return lines
