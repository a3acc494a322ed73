"""Settings: what this studio runs with. Read-only: settings come from SONGSTUDIO_* variables."""

import streamlit as st

from studio.doctor import demo_engines_in_use
from studio.errors import BadInput
from studio.lyrics_model import choose as choose_lyrics_model
from studio.minting import chain_config, keystore_state
from studio.ui.common import demo_notice, studio
from studio.ui.doctor import doctor_report
from studio.ui.models_info import music_models

s = studio()
cfg = s.settings
st.title("Settings")
st.caption("Settings come from SONGSTUDIO_* environment variables (see docs/foundation.md); restart to change them.")
demo_notice(s)

st.subheader("Engines")
st.write(f"Default engine: **{cfg.engine}** · available: {', '.join(s.engine_names())}")
st.write(f"Lyrics backend: **{cfg.lyrics_backend}**")
lyrics_model = choose_lyrics_model(cfg)
(st.warning if lyrics_model.kind == "missing" else st.text)(f"Lyrics model: {lyrics_model.describe()}")

st.subheader("Models")
st.write(f"Model folder: `{cfg.model_cache}`")
demo_engines = demo_engines_in_use(cfg)
for status in music_models(cfg):
    if status.info.engine in demo_engines and not status.present:
        st.info(f"{status.info.name}: the demo model is in use (tiny, random weights: takes are noise). "
                f"For real songs, `songstudio models download {status.info.name}` ({status.info.size_hint}).",
                icon=":material/science:")
    elif status.present:
        st.success(f"{status.info.name}: present in `{status.folder}`", icon=":material/check_circle:")
    else:
        st.warning(f"{status.info.name} ({status.info.size_hint}): not present. Download with "
                   f"`songstudio models download {status.info.name}` or import a folder with "
                   f"`songstudio models import {status.info.name} PATH`. Missing: {', '.join(status.missing[:3])}"
                   + ("…" if len(status.missing) > 3 else ""), icon=":material/warning:")

st.subheader("Device and storage")
st.write(f"Device: **{cfg.device}** · dtype: {cfg.dtype or 'engine default'}")
st.write(f"Database: `{s.db.display_url}`")
st.write(f"Data home: `{cfg.home}` · audio: `{cfg.library_dir}`")
st.write(f"Queue: {cfg.queue_backend}")

st.subheader("Chain")
try:
    chain = chain_config(cfg)
    st.write(f"RPC: `{chain.rpc_url}` · chain id: {chain.chain_id} · contract: `{chain.contract}`")
except BadInput as exc:
    st.write(str(exc))
st.markdown("**Keystores**")
for role, state in keystore_state(cfg).items():
    st.write(f"{role}: {state}")

st.subheader("Doctor")
if st.button("Run `songstudio doctor`", icon=":material/health_and_safety:"):
    with st.spinner("Checking…"):
        st.code(doctor_report(cfg), language=None)
