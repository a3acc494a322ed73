"""Streamlit entry point: page setup, navigation and the jobs panel. Run with `songstudio serve`.

File pages (not function pages) so AppTest can switch between them. They live in `views/`, not
`pages/`: a `pages/` folder beside the entry script also switches on Streamlit's older automatic
page list, which then replaces this navigation in the sidebar. Navigation icons are Streamlit's
bundled Material Symbols font (emoji need a system emoji font). The favicon stays an emoji: a
Material icon as favicon would make the browser fetch it from a font CDN.

Every page has its own address (/create, /library, ...). Streamlit serves the default page at `/`
only, so the default is a hidden page that forwards to Create.
"""

import streamlit as st

from studio.ui import paths
from studio.ui.common import studio
from studio.ui.jobs_panel import sidebar_panel

# the tab icon: an emoji is drawn in the page; a Material page_icon (and, without one, the current
# page's Material icon) would be fetched from a CDN, and the studio works offline
st.set_page_config(page_title="Song Studio", page_icon="🎵", layout="wide")

navigation = st.navigation(
    [
        st.Page(paths.HOME, title="Song Studio", url_path="home", default=True, visibility="hidden"),
        st.Page(paths.WRITE, title="Write", icon=":material/edit_note:", url_path="write"),
        st.Page(paths.CREATE, title="Create", icon=":material/music_note:", url_path="create"),
        st.Page(paths.LIBRARY, title="Library", icon=":material/library_music:", url_path="library"),
        st.Page(paths.SONG, title="Song", icon=":material/headphones:", url_path="song"),
        st.Page(paths.JOBS, title="Jobs", icon=":material/list_alt:", url_path="jobs"),
        st.Page(paths.MINT, title="Mint", icon=":material/token:", url_path="mint"),
        st.Page(paths.TRAIN, title="Train", icon=":material/model_training:", url_path="train"),
        st.Page(paths.SETTINGS, title="Settings", icon=":material/settings:", url_path="settings"),
    ]
)
if navigation.url_path != "home":  # the forwarding page draws nothing
    sidebar_panel(studio())
navigation.run()
