"""The view files, by absolute path: links and page switches then work whatever the entry script
is (the app, or a benchmark's wrapper around it)."""

from pathlib import Path

VIEWS = Path(__file__).resolve().parent / "views"
WRITE, CREATE, LIBRARY, SONG, MINT, SETTINGS, JOBS, HOME = (
    VIEWS / f"{name}.py" for name in ("write", "create", "library", "song", "mint", "settings", "jobs", "home"))
