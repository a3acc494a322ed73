"""Streamlit entry point: page setup and navigation. Run with `songstudio serve`.

File pages (not function pages) so AppTest can switch between them. They live in `views/`, not
`pages/`: a `pages/` folder beside the entry script also switches on Streamlit's older automatic
page list, which then replaces this navigation in the sidebar. The page icon is an emoji: a
Material icon as favicon would make the browser fetch it from a font CDN.
"""

from pathlib import Path

import streamlit as st

VIEWS = Path(__file__).parent / "views"

st.set_page_config(page_title="Song Studio", page_icon="🎵", layout="wide")

navigation = st.navigation(
    [
        st.Page(VIEWS / "write.py", title="Write", icon="✍️", url_path="write"),
        st.Page(VIEWS / "create.py", title="Create", icon="🎵", url_path="create", default=True),
        st.Page(VIEWS / "library.py", title="Library", icon="📚", url_path="library"),
        st.Page(VIEWS / "song.py", title="Song", icon="🎧", url_path="song"),
        st.Page(VIEWS / "mint.py", title="Mint", icon="🪙", url_path="mint"),
        st.Page(VIEWS / "settings.py", title="Settings", icon="⚙️", url_path="settings"),
    ]
)
navigation.run()
