"""Job progress on a page: a polling fragment that reads the job row and never touches a model.

The fragment re-runs alone every half second while the job is active. When the job ends it
asks for one full-page rerun, so the result is drawn outside the fragment and polling stops.
Time estimates come from the stage times stored in the job rows (`studio.job_timeline`).
"""

from __future__ import annotations

import contextlib
import time

import streamlit as st

from studio.errors import BadInput
from studio.job_timeline import format_eta, parse_timeline, queue_wait, remaining_running, typical_seconds
from studio.jobs import ACTIVE
from studio.records import JobView
from studio.service import Studio
from studio.ui.job_rows import PanelJob, active_and_recent, finished_runs, panel_job
from studio.ui.plain import md_escape

POLL_SECONDS = 0.5


def describe(job: JobView | PanelJob, eta: float | None = None) -> str:
    """One line a person understands: where the job is, how far it got, the time left if known."""
    left = format_eta(eta)
    left = f" · {left} left" if left and left != "finishing" else (" · finishing" if left else "")
    if job.status == "queued":
        if job.position is None:
            return "Queued" + left
        where = "Queued: next to run" if job.position == 1 else f"Queued: #{job.position} in queue"
        return where + left
    if job.status == "running" and job.cancel_requested:
        return "Cancelling: stops at the next step"
    if job.status == "running":
        stage = job.stage or "working"
        if job.total:
            return f"Running: {stage}, step {job.step}/{job.total}" + left
        return f"Running: {stage}" + left
    if job.status == "done":
        return "Done"
    if job.status == "cancelled":
        return "Cancelled"
    return f"Failed: {job.error or 'no reason recorded'}"


def fraction(job: JobView | PanelJob) -> float:
    if job.status == "done":
        return 1.0
    if job.status == "running" and job.total:
        return min(1.0, max(0.0, job.step / job.total))
    return 0.0


def estimates(s: Studio, jobs: list[PanelJob], *, now: float | None = None) -> dict[str, float | None]:
    """Seconds until each active job is done. Running: its own measured step time for the rest of
    its stage plus the typical later stages; queued: the running jobs' time left, then the typical
    run time of every job ahead of it and its own (shared among as many workers as jobs run)."""
    now = time.time() if now is None else now
    history = {kind: finished_runs(s.jobs, kind) for kind in {j.kind for j in jobs if j.status in ACTIVE}}
    running = [j for j in jobs if j.status == "running"]
    out: dict[str, float | None] = {}
    for job in running:
        out[job.id] = remaining_running(parse_timeline(job.timeline), history[job.kind], now=now)
    ahead: list[float | None] = [out[j.id] for j in running]
    for job in sorted((j for j in jobs if j.status == "queued"), key=lambda j: j.position or 0):
        own = typical_seconds(history[job.kind])
        wait = queue_wait(ahead, workers=len(running))
        out[job.id] = None if wait is None or own is None else wait + own
        ahead.append(own)
    return out


def estimate(s: Studio, job_id: str) -> float | None:
    """The time left of one job; a queued one is placed among all active jobs."""
    job = panel_job(s.jobs, job_id)
    if job is None or job.status not in ACTIVE:
        return None
    if job.status == "running":
        return estimates(s, [job]).get(job.id)
    return estimates(s, active_and_recent(s.jobs, recent=0)).get(job.id)


def job_status_panel(s: Studio, job_id: str, *, key: str) -> JobView | None:
    """Show the job; while it is active, keep polling. Returns the job as read by the full run."""
    job = s.job(job_id)
    if job is None:
        st.warning(f"Job {job_id} is not in this library (it may belong to another data home).", icon=":material/warning:")
        return None
    if job.status in ACTIVE:
        _poll(s, job_id, key)
    elif job.status == "failed":
        st.error(md_escape(describe(job)), icon=":material/warning:")  # a failure quotes user text
    elif job.status == "cancelled":
        st.info("Cancelled. Nothing was added to the library.", icon=":material/stop_circle:")
    return job


def _poll(s: Studio, job_id: str, key: str) -> None:
    @st.fragment(run_every=POLL_SECONDS)
    def poll() -> None:
        job = s.job(job_id)
        if job is None or job.status not in ACTIVE:
            st.rerun(scope="app")
        # progress text is Markdown: only our own words go there, never user text
        st.progress(fraction(job), text=describe(job, estimate(s, job_id)))
        if job.partial:
            st.text(job.partial)  # what the lyrics model has written so far, as the worker streams it
        if st.button("Cancel", key=f"{key}-cancel", icon=":material/stop_circle:"):
            with contextlib.suppress(BadInput):  # it ended meanwhile: the panel shows how
                s.cancel(job_id)
            st.rerun(scope="app")

    poll()
