"""Submit-to-claimed latency of the job queue (target: median < 200 ms).

Starts a real `songstudio worker` process on a throw-away data home, waits until it is idle,
then submits tiny jobs one at a time (each after the previous one finished, so every
submission has to wake an idle worker) and reads the claim time the worker wrote into the
job row. The baseline, measured in the same run, is an in-process insert + claim with no
broker and no process hop: the floor set by the database itself.

    python bench/bench_queue_latency.py [--jobs 30] [--queue sqlite|redis] [--redis-url URL]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from studio.jobs import JobStore  # noqa: E402
from studio.service import Studio  # noqa: E402
from studio.settings import Settings  # noqa: E402
from studio.specs import MusicJobSpec  # noqa: E402
from studio.tables import utc  # noqa: E402

FAKE = "tests.studio.fake_engine:FakeEngine.from_settings"


def wait(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit("timed out: is the worker running? see its log above")
        time.sleep(0.01)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=30)
    parser.add_argument("--queue", choices=["sqlite", "redis"], default="sqlite")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as home:
        env = {
            "SONGSTUDIO_HOME": home,
            "SONGSTUDIO_DEVICE": "cpu",
            "SONGSTUDIO_EXTRA_ENGINES": f'{{"fake": "{FAKE}"}}',
            "SONGSTUDIO_QUEUE_BACKEND": args.queue,
            "SONGSTUDIO_REDIS_URL": args.redis_url,
            "SONGSTUDIO_QUEUE_NAME": f"bench-{uuid.uuid4().hex[:8]}",
        }
        os.environ.update(env)
        studio = Studio.open(Settings())
        log = open(Path(home) / "worker.log", "wb")
        worker = subprocess.Popen([sys.executable, "-m", "studio.cli", "worker"], cwd=REPO,
                                  env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=log, stderr=subprocess.STDOUT)
        try:
            warm = studio.submit_music(engine="fake", prompt="warm-up", duration=0.1, steps=1)
            wait(lambda: studio.jobs.get(warm.id).status == "done", 120)
            latencies = []
            for n in range(args.jobs):
                time.sleep(0.3)  # let the worker go idle (its polling backs off) before each submit
                before = datetime.now(timezone.utc)
                job = studio.submit_music(engine="fake", prompt=f"job {n}", duration=0.1, steps=1)
                wait(lambda: studio.jobs.get(job.id).started_at is not None, 30)
                claimed = utc(studio.jobs.get(job.id).started_at)
                latencies.append((claimed - before).total_seconds() * 1000)
                wait(lambda: studio.jobs.get(job.id).status == "done", 30)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            log.close()
            if args.queue == "redis":
                studio.queue.huey.flush()

        store = JobStore(studio.db)
        floor = []
        for n in range(args.jobs):
            t0 = time.perf_counter()
            store.insert(MusicJobSpec(engine="fake", request={"prompt": f"floor {n}", "duration": 0.1}))
            store.claim_next(worker="bench:0:x", device="cpu")
            floor.append((time.perf_counter() - t0) * 1000)

    median = statistics.median(latencies)
    p90 = statistics.quantiles(latencies, n=10)[-1]
    base = statistics.median(floor)
    print(f"queue backend: {args.queue}, {args.jobs} jobs, each submitted to an idle worker process")
    print(f"submit-to-claimed median {median:.1f} ms, p90 {p90:.1f} ms, max {max(latencies):.1f} ms")
    print(f"baseline (in-process insert + claim, no broker): median {base:.1f} ms; ratio {median / base:.1f}x")
    print(f"target < 200 ms: {'met' if median < 200 else 'NOT met'}")


if __name__ == "__main__":
    main()
