"""Jobs: every queued, running and recent job, with time left, cancel, retry and results."""

import streamlit as st

from studio.ui.common import studio
from studio.ui.jobs_panel import page_panel

s = studio()
st.title("Jobs")
st.caption("Queued jobs run one at a time per worker, oldest first. Times left are measured: the current "
           "step time of a running job, and the run times of recent finished jobs for the rest.")
page_panel(s)
