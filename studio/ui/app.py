"""Streamlit entry point: page setup and navigation. Run with `songstudio serve`.

File pages (not function pages) so AppTest can switch between them. The page icon is an
emoji: a Material icon as favicon would make the browser fetch it from a font CDN.
"""

from pathlib import Path

import streamlit as st

PAGES = Path(__file__).parent / "pages"

st.set_page_config(page_title="Song Studio", page_icon="🎵", layout="wide")

navigation = st.navigation(
    [
        st.Page(PAGES / "write.py", title="Write", icon="✍️", url_path="write"),
        st.Page(PAGES / "create.py", title="Create", icon="🎵", url_path="create", default=True),
        st.Page(PAGES / "library.py", title="Library", icon="📚", url_path="library"),
        st.Page(PAGES / "song.py", title="Song", icon="🎧", url_path="song"),
        st.Page(PAGES / "mint.py", title="Mint", icon="🪙", url_path="mint"),
        st.Page(PAGES / "settings.py", title="Settings", icon="⚙️", url_path="settings"),
    ]
)
navigation.run()
