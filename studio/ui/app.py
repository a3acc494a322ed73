"""Streamlit entry point: page setup and navigation. Run with `songstudio serve`.

File pages (not function pages) so AppTest can switch between them. They live in `views/`, not
`pages/`: a `pages/` folder beside the entry script also switches on Streamlit's older automatic
page list, which then replaces this navigation in the sidebar. The page icon is an emoji: a
Material icon as favicon would make the browser fetch it from a font CDN.
"""

import streamlit as st

from studio.ui import paths

st.set_page_config(page_title="Song Studio", page_icon="🎵", layout="wide")

navigation = st.navigation(
    [
        st.Page(paths.WRITE, title="Write", icon="✍️", url_path="write"),
        st.Page(paths.CREATE, title="Create", icon="🎵", url_path="create", default=True),
        st.Page(paths.LIBRARY, title="Library", icon="📚", url_path="library"),
        st.Page(paths.SONG, title="Song", icon="🎧", url_path="song"),
        st.Page(paths.MINT, title="Mint", icon="🪙", url_path="mint"),
        st.Page(paths.TRAIN, title="Train", icon="🎓", url_path="train"),
        st.Page(paths.SETTINGS, title="Settings", icon="⚙️", url_path="settings"),
    ]
)
navigation.run()
