"""The address `/`: sends the browser on to Create, keeping any query (?job=...).

Streamlit serves its default page at `/` only, never at the page's own path; a hidden default
page that forwards lets Create live at `/create` like every other page.
"""

import streamlit as st

from studio.ui import paths

st.switch_page(paths.CREATE, query_params={key: st.query_params.get_all(key) for key in st.query_params})
