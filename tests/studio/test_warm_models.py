"""Issue #14 part 5: the worker keeps the lyrics model and the music model loaded between jobs
while the device has room (least recently used goes first when it has not), reuses the lyrics
backend, preloads at start, and loads nothing for a job whose model is warm."""

from __future__ import annotations

import json

from studio.warm_models import HEADROOM_BYTES, WarmModels
from studio.worker import Worker
from tests.studio.fake_engine import FakeEngine
from tests.studio.fake_lyrics import ScriptedBackend, lyrics_backend  # noqa: F401 (fixture)

GB = 10**9
SONG = "Title: Rain\n\n[verse]\nrain on the window\ngrey on the glass\n\n[chorus]\nwe wait it out\nwe let it pass"


class Device:
    """Injected memory figures: a device of `total` bytes holding what the cache holds."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.cache: WarmModels | None = None

    def free(self) -> int:
        return self.total - (self.cache.held_bytes() if self.cache else 0)


def _cache(total: int) -> tuple[WarmModels, list[str], list[str]]:
    device = Device(total)
    cache = WarmModels(free_bytes=device.free)
    device.cache = cache
    built: list[str] = []
    closed: list[str] = []
    return cache, built, closed


def _get(cache: WarmModels, name: str, size: int, built: list[str], closed: list[str]) -> str:
    return cache.get(name, build=lambda: built.append(name) or name, estimate=size,
                     on_evict=lambda model: closed.append(model))


def test_both_models_stay_warm_when_they_fit_write_create_write_reloads_nothing():
    cache, built, closed = _cache(10 * GB)
    for name, size in (("lyrics", 3 * GB), ("music", 6 * GB), ("lyrics", 3 * GB)):
        assert _get(cache, name, size, built, closed) == name
    assert built == ["lyrics", "music"] and closed == [] and cache.loads == 2


def test_the_least_recently_used_model_goes_first_when_memory_is_short():
    cache, built, closed = _cache(8 * GB)
    _get(cache, "lyrics", 3 * GB, built, closed)
    _get(cache, "music", 3.5 * GB, built, closed)  # 6.5 GB held: both fit
    _get(cache, "lyrics", 3 * GB, built, closed)  # touched: music is now the least recently used
    _get(cache, "other-music", 3.5 * GB, built, closed)  # needs room: music goes, lyrics stays
    assert closed == ["music"] and cache.keys() == ["lyrics", "other-music"]
    _get(cache, "music", 3.5 * GB, built, closed)  # now lyrics is the least recently used
    assert closed == ["music", "lyrics"] and cache.keys() == ["other-music", "music"]
    assert built == ["lyrics", "music", "other-music", "music"]


def test_eviction_stops_when_enough_is_free_and_never_drops_the_model_being_loaded():
    cache, built, closed = _cache(10 * GB)
    for name in ("a", "b", "c"):
        _get(cache, name, 3 * GB, built, closed)  # 9 GB held, 1 GB free
    _get(cache, "d", 3 * GB - HEADROOM_BYTES, built, closed)  # needs ~2 GB more: one eviction is enough
    assert closed == ["a"] and cache.keys() == ["b", "c", "d"]
    cache.make_room(100 * GB, keep="d")  # cannot be met: everything but "d" goes, then it stops
    assert cache.keys() == ["d"]


def _write_create_write(studio, worker, lyrics_backend):
    for submit in (lambda: studio.submit_lyrics(theme="rain", backend="scripted", structure=["verse", "chorus"]),
                   lambda: studio.submit_music(engine="fake", prompt="x", duration=1),
                   lambda: studio.submit_lyrics(action="rewrite", backend="scripted", lyrics=SONG, section=0,
                                                instruction="brighter")):
        lyrics_backend.backend.chunks = [
            "Title: Rain\n\n[verse]\nsun on the window\ngrey on the glass\n\n[chorus]\nwe wait it out\nwe let it pass"
        ]
        job = submit()
        done = worker.run_next()
        assert done.id == job.id and done.status == "done", done.error


def test_a_worker_keeps_the_lyrics_backend_and_the_engine_across_jobs(studio, lyrics_backend, monkeypatch):
    lyrics_backend.backend = ScriptedBackend([])
    created = []
    original = FakeEngine.from_settings.__func__
    monkeypatch.setattr(FakeEngine, "from_settings",
                        classmethod(lambda cls, **kw: created.append(kw) or original(cls, **kw)))
    stages = []
    worker = Worker(settings=studio.settings, db=studio.db, queue=studio.queue)
    worker.prepare()
    report = worker.jobs.report
    monkeypatch.setattr(worker.jobs, "report", lambda job_id, **kw: stages.append(kw["stage"]) or report(job_id, **kw))
    _write_create_write(studio, worker, lyrics_backend)
    _write_create_write(studio, worker, lyrics_backend)
    assert len(created) == 1  # the music engine was built once for two Create jobs
    assert stages.count("load") == 1  # and only the first music job had a load stage
    assert not lyrics_backend.backend.closed and len(lyrics_backend.backend.prompts) == 4  # one backend, 4 jobs
    assert worker.models.warm.loads == 2


def test_preload_at_start_leaves_nothing_to_load_for_the_first_job(studio, lyrics_backend, monkeypatch):
    monkeypatch.setattr(studio.settings, "lyrics_backend", "scripted")
    lyrics_backend.backend = ScriptedBackend([])
    worker = Worker(settings=studio.settings, db=studio.db, queue=studio.queue)
    worker.prepare()
    worker.models.preload()
    assert worker.models.warm.loads == 2  # the default engine (fake) and the default lyrics backend
    stages = []
    report = worker.jobs.report
    monkeypatch.setattr(worker.jobs, "report", lambda job_id, **kw: stages.append(kw["stage"]) or report(job_id, **kw))
    studio.submit_music(engine="fake", prompt="x", duration=1)
    assert worker.run_next().status == "done"
    assert "load" not in stages and worker.models.warm.loads == 2


def test_a_preload_that_fails_is_logged_and_the_worker_starts(studio, monkeypatch, caplog):
    monkeypatch.setattr(studio.settings, "engine", "ace-step-1.5")  # no weights here
    worker = Worker(settings=studio.settings, db=studio.db, queue=studio.queue)
    worker.models.preload()
    assert "not preloaded" in caplog.text
    assert worker.models.warm.keys() == [] or all(key[0] == "lyrics" for key in worker.models.warm.keys())


def test_evicting_a_lyrics_backend_closes_it_and_the_next_job_builds_a_new_one(studio, lyrics_backend):
    first = ScriptedBackend(["Title: A\n\n[verse]\nla la\n"])
    lyrics_backend.backend = first
    worker = Worker(settings=studio.settings, db=studio.db, queue=studio.queue, )
    worker.prepare()
    studio.submit_lyrics(theme="rain", backend="scripted")
    assert worker.run_next().status == "done"
    (key,) = worker.models.warm.keys()
    worker.models.warm.evict(key)
    assert first.closed
    lyrics_backend.backend = ScriptedBackend(["Title: B\n\n[verse]\nla la\n"])
    studio.submit_lyrics(theme="rain", backend="scripted")
    done = worker.run_next()
    assert json.loads(done.result)["title"] == "B" and worker.models.warm.loads == 2
