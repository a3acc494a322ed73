"""Job progress on a page: a polling fragment that reads the job row and never touches a model.

The fragment re-runs alone every half second while the job is active. When the job ends it
asks for one full-page rerun, so the result is drawn outside the fragment and polling stops.
"""

from __future__ import annotations

import contextlib

import streamlit as st

from studio.errors import BadInput
from studio.jobs import ACTIVE
from studio.records import JobView
from studio.service import Studio

POLL_SECONDS = 0.5


def describe(job: JobView) -> str:
    """One line a person understands: where the job is and how far it got."""
    if job.status == "queued":
        if job.position is None:
            return "Queued"
        return "Queued: next to run" if job.position == 1 else f"Queued: #{job.position} in queue"
    if job.status == "running" and job.cancel_requested:
        return "Cancelling: stops at the next step"
    if job.status == "running":
        stage = job.stage or "working"
        if job.total:
            return f"Running: {stage}, step {job.step}/{job.total}"
        return f"Running: {stage}"
    if job.status == "done":
        return "Done"
    if job.status == "cancelled":
        return "Cancelled"
    return f"Failed: {job.error or 'no reason recorded'}"


def fraction(job: JobView) -> float:
    if job.status == "done":
        return 1.0
    if job.status == "running" and job.total:
        return min(1.0, max(0.0, job.step / job.total))
    return 0.0


def job_status_panel(s: Studio, job_id: str, *, key: str) -> JobView | None:
    """Show the job; while it is active, keep polling. Returns the job as read by the full run."""
    job = s.job(job_id)
    if job is None:
        st.warning(f"Job {job_id} is not in this library (it may belong to another data home).", icon="⚠️")
        return None
    if job.status in ACTIVE:
        _poll(s, job_id, key)
    elif job.status == "failed":
        st.error(describe(job), icon="⚠️")
    elif job.status == "cancelled":
        st.info("Cancelled. Nothing was added to the library.", icon="⏹️")
    return job


def _poll(s: Studio, job_id: str, key: str) -> None:
    @st.fragment(run_every=POLL_SECONDS)
    def poll() -> None:
        job = s.job(job_id)
        if job is None or job.status not in ACTIVE:
            st.rerun(scope="app")
        st.progress(fraction(job), text=describe(job))
        if job.partial:
            st.text(job.partial)  # what the lyrics model has written so far, as the worker streams it
        if st.button("Cancel", key=f"{key}-cancel", icon="⏹️"):
            with contextlib.suppress(BadInput):  # it ended meanwhile: the panel shows how
                s.cancel(job_id)
            st.rerun(scope="app")

    poll()
