"""The one jobs panel: every queued, running and recent job, on every page (the sidebar) and in
full on the Jobs page. Each row: what the job is, queue position or stage and step i/N, the time
left measured from step times, cancel or retry, and links to what it made.

The rows poll in a fragment (a few small reads a second), also when nothing runs: a job queued
from the Create form (which reruns only its own panel), another tab or the CLI shows up within a
second. When a job it saw active ends, the whole page reruns once, so a page showing that job's
result draws it.
"""

from __future__ import annotations

import streamlit as st

from studio.jobs import ACTIVE
from studio.service import Studio
from studio.ui import job_rows, paths
from studio.ui.job_rows import PanelJob
from studio.ui.plain import md_escape
from studio.ui.progress import describe, estimates, fraction

SIDEBAR_POLL_SECONDS = 1.0
SIDEBAR_FRAGMENT = "sidebar-jobs-panel"  # a page that queues a job reruns it with its own panel
SIDEBAR_DRAWN = "sidebar-jobs-drawn"  # set once the sidebar panel exists in this session
PAGE_POLL_SECONDS = 0.5
SIDEBAR_RECENT = 3
PAGE_RECENT = 25


def what(job: PanelJob) -> str:
    """Our words for the job (safe for Markdown labels): kind, task, length."""
    if job.kind == "music":
        request = job.spec.get("request") or {}
        task = request.get("task") or "text2music"
        takes = int(request.get("batch_size") or 1)
        duration = request.get("duration")
        length = f" · {float(duration):g} s" if isinstance(duration, (int, float)) else ""
        return f"Music · {task}{length} · {takes} take{'s' if takes != 1 else ''}"
    if job.kind == "lyrics":
        return f"Lyrics · {job.spec.get('action') or 'draft'}"
    return job.kind.capitalize()


def user_words(job: PanelJob) -> str:
    """The person's own words that name the job (title, prompt or theme); shown with st.text only."""
    if job.kind == "music":
        request = job.spec.get("request") or {}
        return str(job.spec.get("title") or request.get("prompt") or request.get("lyrics") or "")[:120]
    return str(job.spec.get("theme") or job.spec.get("instruction") or "")[:120]


def job_row(s: Studio, job: PanelJob, eta: float | None, *, key: str, compact: bool) -> None:
    """One job: label, words, progress, actions, result links."""
    st.caption(f"{what(job)} · `{job.id}` · {job.created_at:%H:%M:%S}")
    words = user_words(job)
    if words:
        st.text(words)
    if job.status in ACTIVE:
        st.progress(fraction(job), text=describe(job, eta))
    elif job.status == "failed":
        st.error("Failed", icon=":material/error:")
        if not compact and job.error:
            st.text(job.error)  # it may quote the person's own words: text, never Markdown
    else:
        st.caption(md_escape(describe(job)))  # a failure quotes user text
    if job.status in ACTIVE and not job.cancel_requested:
        if st.button("Cancel", key=f"{key}-cancel-{job.id}", icon=":material/stop_circle:"):
            s.cancel(job.id)
            st.rerun(scope="app")
    if job.status in ("failed", "cancelled"):
        if st.button("Retry", key=f"{key}-retry-{job.id}", icon=":material/replay:",
                     help="Queue it again with exactly what was asked"):
            s.retry(job.id)
            st.rerun(scope="app")
    if job.status == "done":
        ids = job.take_ids[: 2 if compact else 8]
        for column, take_id in zip(st.columns(max(1, len(ids))), ids):
            column.page_link(paths.SONG, label=f"Take {take_id}", icon=":material/headphones:",
                             query_params={"take": str(take_id)})
        if job.kind == "lyrics" and not compact and job.result.get("lyrics"):
            with st.expander("Lyrics it wrote"):
                st.text(str(job.result["lyrics"]))


def _rows(s: Studio, *, recent: int, key: str, compact: bool) -> list[PanelJob]:
    jobs = job_rows.active_and_recent(s.jobs, recent=recent)
    times = estimates(s, jobs)
    for job in jobs:
        with st.container(border=True):
            job_row(s, job, times.get(job.id), key=key, compact=compact)
    return jobs


def _some_ended(jobs: list[PanelJob], key: str) -> bool:
    """Whether a job this panel last saw active has ended since (a new job appearing needs no
    page redraw: the panel itself shows it)."""
    active = {j.id for j in jobs if j.status in ACTIVE}
    before = st.session_state.get(key, active)
    st.session_state[key] = active
    return bool(before - active)


def sidebar_panel(s: Studio) -> None:
    """The compact panel under the page list: polls while something runs."""
    with st.sidebar:
        st.subheader("Jobs", divider="gray")
        st.page_link(paths.JOBS, label="All jobs", icon=":material/list_alt:")

        @st.fragment(run_every=SIDEBAR_POLL_SECONDS, key=SIDEBAR_FRAGMENT)
        def panel() -> None:
            jobs = _rows(s, recent=SIDEBAR_RECENT, key="sidebar-jobs", compact=True)
            if _some_ended(jobs, "sidebar-jobs-active"):
                st.rerun(scope="app")  # the page may have a result to draw
            if not jobs:
                st.caption("No jobs yet.")

        panel()
        st.session_state[SIDEBAR_DRAWN] = True


def fragments_to_rerun_after_submit(*own: str) -> list[str]:
    """A page's own fragments plus the sidebar panel, for `st.rerun` in a submit callback. Seen in
    Chromium: after a rerun scoped to the page's panel alone, the sidebar's polling did not redraw
    it until the next full run (13 s later), so the new job was missing there."""
    return [*own, SIDEBAR_FRAGMENT] if st.session_state.get(SIDEBAR_DRAWN) else list(own)


def page_panel(s: Studio) -> None:
    """The Jobs page: every active job and the newest finished ones."""

    @st.fragment(run_every=PAGE_POLL_SECONDS)
    def panel() -> None:
        jobs = _rows(s, recent=PAGE_RECENT, key="page-jobs", compact=False)
        if _some_ended(jobs, "page-jobs-active"):
            st.rerun(scope="app")
        if not jobs:
            st.info("No jobs yet. Generate on Create or draft lyrics on Write.", icon=":material/info:")

    panel()
