"""Fixtures for the studio tests: a fresh data home per test, the fake engine, real worker
processes, and (for the several-machines tests) the local PostgreSQL and Redis servers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Callable

import pytest
from click.testing import CliRunner

from studio.cli import main
from studio.settings import Settings
from tests.studio.fake_engine import TARGET

REPO = Path(__file__).resolve().parents[2]
PG_URLS = ("postgresql+psycopg://postgres@127.0.0.1:5432/test", "postgresql+psycopg://root@127.0.0.1:5432/test")


def cli_invoker() -> Callable[..., object]:
    """`invoke(*args, code=0)`: the CLI in this process, its exit code asserted (the output shown
    when it differs)."""
    runner = CliRunner()

    def invoke(*args: str, code: int = 0):
        result = runner.invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == code, f"{args}: exit {result.exit_code}\n{result.output}"
        return result

    return invoke


def wait_for(predicate: Callable[[], object], *, timeout: float, what: str, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture
def studio_env(tmp_path, monkeypatch) -> dict[str, str]:
    env = {
        "SONGSTUDIO_HOME": str(tmp_path / "home"),
        "SONGSTUDIO_DEVICE": "cpu",
        "SONGSTUDIO_EXTRA_ENGINES": f'{{"fake": "{TARGET}"}}',
        "SONGSTUDIO_ENGINE": "fake",
        "SONGSTUDIO_JOB_LEASE_S": "30",
    }
    for key in [k for k in os.environ if k.startswith("SONGSTUDIO_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def settings(studio_env) -> Settings:
    return Settings()


@pytest.fixture
def studio(settings):
    from studio.service import Studio

    opened = Studio.open(settings)
    yield opened
    opened.db.dispose()


class WorkerProcess:
    """`python -m studio.cli worker` as a real child process, its log in a file."""

    def __init__(self, env: dict[str, str], log: Path, *args: str) -> None:
        self.log = log
        full_env = {**os.environ, **env, "PYTHONPATH": str(REPO)}
        self._log_handle = open(log, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "studio.cli", "worker", *args],
            cwd=REPO,
            env=full_env,
            stdout=self._log_handle,
            stderr=subprocess.STDOUT,
        )

    def stop(self, sig: int | None = None) -> None:
        if self.proc.poll() is None:
            if sig is None:
                self.proc.terminate()
            else:
                self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log_handle.close()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def spawn_worker(tmp_path):
    started: list[WorkerProcess] = []

    def spawn(env: dict[str, str], *args: str) -> WorkerProcess:
        worker = WorkerProcess(env, tmp_path / f"worker-{len(started)}.log", *args)
        started.append(worker)
        return worker

    yield spawn
    for worker in started:
        worker.stop()


@pytest.fixture
def pg_url():
    """A fresh schema on the local PostgreSQL server, dropped afterwards."""
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:10]}"
    for base in PG_URLS:
        engine = sa.create_engine(base)
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
            break
        except sa.exc.OperationalError:
            engine.dispose()
    else:
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432 (db `test`)")
    yield f"{base}?options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    engine.dispose()


@pytest.fixture
def redis_url():
    import redis

    db = 9
    url = f"redis://127.0.0.1:6379/{db}"
    try:
        redis.Redis.from_url(url).ping()
    except redis.ConnectionError:
        pytest.skip("no Redis server on 127.0.0.1:6379")
    yield url
