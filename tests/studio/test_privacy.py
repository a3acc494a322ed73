"""#15 part 6: a new data home, its databases and its keys are readable by their owner only."""

from __future__ import annotations

import os

from studio.db import Database
from studio.queue import JobQueue
from studio.settings import load_settings


def _mode(path) -> int:
    return path.stat().st_mode & 0o777


def test_new_data_home_and_databases_are_owner_only(tmp_path, monkeypatch):
    monkeypatch.delenv("SONGSTUDIO_DATABASE_URL", raising=False)
    old_umask = os.umask(0o022)  # the usual umask, which made them 755 / 644 before
    try:
        settings = load_settings(home=tmp_path / "home")
        Database.open(settings)
        JobQueue(settings)
    finally:
        os.umask(old_umask)
    assert _mode(settings.home) == 0o700
    assert _mode(settings.home / "library.db") == 0o600
    assert _mode(settings.queue_file) == 0o600


def test_an_existing_open_home_is_tightened(tmp_path):
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    settings = load_settings(home=home)
    settings.ensure_home()
    assert _mode(home) == 0o700
