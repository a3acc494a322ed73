"""Delivery of wake-ups to workers through Huey.

Huey brings the durable broker (a SQLite file in the data home by default, Redis when workers
run on several machines), the consumer loop with signal handling (SIGINT: finish the current
job, SIGTERM: stop now) and worker-thread health checks. Each message says only "a job is
waiting": the worker that receives one claims the oldest queued job in the database. The jobs
table stays the single source of truth, so a lost message is repaired by re-sending
(`JobQueue.top_up`) and a duplicate one finds nothing left to claim.
"""

from __future__ import annotations

from typing import Callable
from urllib.parse import urlsplit

from huey import RedisHuey, SqliteHuey
from huey.api import Huey

from studio.errors import EnvironmentProblem
from studio.settings import Settings

WAKE_TASK = "songstudio.wake"


class JobQueue:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.backend = settings.queue_backend
        self.huey = _make_huey(settings)
        self.handler: Callable[[], None] | None = None
        self._wake = self.huey.task(name=WAKE_TASK, retries=0)(self._on_wake)

    @property
    def display(self) -> str:
        if self.backend == "redis":
            parts = urlsplit(self.settings.redis_url)
            host = parts.hostname or ""
            netloc = f"{host}:{parts.port}" if parts.port else host
            return f"{parts.scheme}://{netloc}{parts.path}"  # never the password
        return f"sqlite:{self.settings.queue_file}"

    def notify(self, count: int = 1) -> None:
        """Send `count` wake-ups. Raises EnvironmentProblem when the broker is unreachable."""
        try:
            for _ in range(count):
                self._wake()
        except Exception as exc:  # redis.ConnectionError, sqlite3.OperationalError, ...
            raise EnvironmentProblem(
                f"the job queue ({self.display}) is unreachable: {exc}; start it (or check "
                "SONGSTUDIO_QUEUE_BACKEND / SONGSTUDIO_REDIS_URL). Jobs already saved are not lost: "
                "a worker re-sends them when it starts"
            ) from None

    def pending(self) -> int:
        return self.huey.pending_count()

    def top_up(self, queued_jobs: int) -> int:
        """Make sure there are at least as many wake-ups waiting as queued jobs."""
        missing = queued_jobs - self.pending()
        if missing > 0:
            self.notify(missing)
        return max(missing, 0)

    def ping(self) -> None:
        try:
            self.huey.pending_count()
        except Exception as exc:
            raise EnvironmentProblem(f"the job queue ({self.display}) is unreachable: {exc}") from None

    def consumer(self):
        # Polling brokers (SQLite) check often: a wake-up is a tiny read, and a short delay keeps
        # submit-to-claim latency well under the 200 ms target. Redis blocks on BRPOP instead.
        return self.huey.create_consumer(
            workers=1,
            worker_type="thread",
            periodic=False,
            initial_delay=0.02,
            backoff=1.5,
            max_delay=0.1,
            check_worker_health=True,
            health_check_interval=5,
        )

    def _on_wake(self) -> None:
        if self.handler is None:
            raise RuntimeError("wake-up received in a process that runs no worker")
        self.handler()


def _make_huey(settings: Settings) -> Huey:
    if settings.queue_backend == "redis":
        return RedisHuey(settings.queue_name, url=settings.redis_url, results=False, blocking=True, read_timeout=1)
    settings.ensure_home()
    return SqliteHuey(settings.queue_name, filename=str(settings.queue_file), results=False, timeout=15)
