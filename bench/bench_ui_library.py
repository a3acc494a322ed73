"""Library page render with 10k takes (target: median < 300 ms per full page run).

Builds a throw-away library of synthetic takes (the foundation bench's generator), then runs
the app through Streamlit's AppTest on the Library page and times each full script run from
inside (app entry + navigation + the page: search, count, one page of cards, element
serialisation); that is the server's render time, without a browser. AppTest's own wall time per
run (it polls the script thread) is printed beside it. The baseline, measured in the same run,
is the same page over an empty library, so the ratio shows what 10k takes cost.

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


# The app, run inside a wrapper that times the whole script run and leaves the time in session state.
TIMED = f"""
import time
import streamlit as st
_start = time.perf_counter()
try:
    exec(compile(open({APP!r}).read(), {APP!r}, "exec"), {{"__name__": "__main__", "__file__": {APP!r}}})
finally:
    st.session_state["_bench_ms"] = (time.perf_counter() - _start) * 1000
"""


def page_runs(home: Path, *, repeat: int, search: str = "") -> tuple[list[float], list[float]]:
    """(script ms, AppTest wall ms) per full run of the Library page, after warm-up runs."""
    from streamlit.testing.v1 import AppTest

    from studio.ui import paths

    os.environ["SONGSTUDIO_HOME"] = str(home)
    app = AppTest.from_string(TIMED, default_timeout=120)
    app.run()
    app.switch_page(str(paths.LIBRARY)).run()
    if search:
        app.text_input(key="lib-search").set_value(search).run()
    assert not app.exception, [e.value for e in app.exception]
    assert [t.value for t in app.title] == ["Library"]
    script, wall = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        app.run()
        wall.append((time.perf_counter() - start) * 1000)
        script.append(app.session_state["_bench_ms"])
    return script, wall


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

        runs = {"empty library (baseline)": page_runs(Path(empty), repeat=args.repeat),
                f"{args.takes} takes, newest first": page_runs(Path(full), repeat=args.repeat),
                f"{args.takes} takes, search 'night'": page_runs(Path(full), repeat=args.repeat, search="night")}
    baseline = statistics.median(runs["empty library (baseline)"][0])
    for label, (script, wall) in runs.items():
        median = statistics.median(script)
        verdict = "" if label.startswith("empty") else \
            f"  ({median / baseline:.2f}x baseline)  target < 300 ms: {'met' if median < 300 else 'MISSED'}"
        print(f"library page, {label:32s} render median {median:6.1f} ms (AppTest wall "
              f"{statistics.median(wall):6.1f} ms){verdict}")


if __name__ == "__main__":
    main()
