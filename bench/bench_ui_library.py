"""Library page render with 10k takes (target: median < 300 ms per full page run).

Builds a throw-away library of synthetic takes (the foundation bench's generator), then times
full script runs of the Library page through Streamlit's AppTest: the page's own work (search,
count, one page of cards) plus Streamlit's element serialisation, without a browser. The
baseline, measured in the same run, is the same page over an empty library, so the ratio shows
what 10k takes cost.

    python bench/bench_ui_library.py [--takes 10000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

APP = str(REPO / "studio" / "ui" / "app.py")


def page_runs(home: Path, *, repeat: int, search: str = "") -> list[float]:
    """Milliseconds per full run of the Library page, after one warm-up run."""
    from streamlit.testing.v1 import AppTest

    os.environ["SONGSTUDIO_HOME"] = str(home)
    app = AppTest.from_file(APP, default_timeout=120)
    app.switch_page("views/library.py").run()
    if search:
        app.text_input(key="lib-search").set_value(search).run()
    assert not app.exception, [e.value for e in app.exception]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        app.run()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--takes", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    from bench_library_search import build  # the foundation's synthetic library

    from studio.db import Database
    from studio.settings import load_settings

    with tempfile.TemporaryDirectory() as empty, tempfile.TemporaryDirectory() as full:
        for home in (empty, full):
            os.environ["SONGSTUDIO_HOME"] = home
            Database.open(load_settings()).dispose()
        t0 = time.perf_counter()
        db = Database.open(load_settings(home=full))
        build(db, args.takes)
        db.dispose()
        print(f"built {args.takes} takes in {time.perf_counter() - t0:.1f} s")

        baseline = statistics.median(page_runs(Path(empty), repeat=args.repeat))
        listed = statistics.median(page_runs(Path(full), repeat=args.repeat))
        searched = statistics.median(page_runs(Path(full), repeat=args.repeat, search="night"))
    print(f"library page, empty library (baseline): median {baseline:7.1f} ms")
    print(f"library page, {args.takes} takes, newest first: median {listed:7.1f} ms  "
          f"({listed / baseline:.2f}x baseline)  target < 300 ms: {'met' if listed < 300 else 'MISSED'}")
    print(f"library page, {args.takes} takes, search 'night': median {searched:7.1f} ms  "
          f"({searched / baseline:.2f}x baseline)  target < 300 ms: {'met' if searched < 300 else 'MISSED'}")


if __name__ == "__main__":
    main()
