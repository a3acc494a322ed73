"""`songstudio doctor`: what this machine can and cannot do, stated plainly."""

from __future__ import annotations

import platform
import shutil
import sys
from dataclasses import asdict, dataclass, field
from importlib import metadata

from lyrics.registry import backends
from music.registry import engines
from studio.db import Database
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
    level: str  # ok, warn, fail
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
            versions.append(f"{name} -")
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
        counts = {status: jobs.count(status) for status in ("queued", "running", "failed")}
        report.add("database", "ok", f"{db.display_url} at revision {db.current_revision()}; jobs {counts}")
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
    for status in list_models(settings):
        if status.present:
            report.add(f"model {status.info.name}", "ok", str(status.folder))
        else:
            report.add(
                f"model {status.info.name}",
                "warn",
                f"not in {status.folder} (missing {', '.join(status.missing[:3])}{'...' if len(status.missing) > 3 else ''}); "
                f"`songstudio models download {status.info.name}` or `models import`",
            )
