"""Mint: sign an authorization for a take's audio hash and mint it on the configured chain.

URL: ?take=<id>. Network calls here are short RPCs, not model work, so they run in the page.
"""

import streamlit as st

from provenance.errors import ProvenanceError
from studio.ui import minting
from studio.ui.common import query_int, shown_errors, studio
from studio.ui.plain import md_escape
from studio.ui.provenance_view import latest_mint, mint_state
from studio.ui.takes import take_label

s = studio()
st.title("Mint")

take_id = query_int("take")
chosen = st.number_input("Take id", min_value=1, value=take_id or 1, key="mint-take")
if chosen != take_id:
    st.query_params["take"] = str(int(chosen))
take = s.take(int(chosen))
if take is None:
    st.info(f"There is no take {int(chosen)}. Open one from the Library and choose “Sign and mint”.", icon="🪙")
    st.stop()

st.markdown(f"**{md_escape(take_label(take))}** · {md_escape(take.engine)} · seed {take.seed}")  # user text escaped
st.caption(f"Audio hash `{take.audio_sha256}`")

with shown_errors():
    config = minting.chain_config(s.settings)
    st.caption(f"Chain {config.chain_id} at {config.rpc_url} · contract `{config.contract}`")

outcome = st.session_state.pop("mint-outcome", None)  # what the last Mint click ended with
if outcome is not None:
    kind, text = outcome
    {"success": st.success, "error": st.error, "warning": st.warning}[kind](text)
previous = latest_mint(s, take.id)
if previous is not None:
    st.markdown(f"**Mint state:** {mint_state(previous)}")

wallet = st.text_input("Wallet address (receives the token)", placeholder="0x…", key="mint-wallet")
audio_url = st.text_input("Public address of the audio", placeholder="empty: the ipfs:// CID of the master",
                          key="mint-audio-url",
                          help="Where the audio is published; the token's metadata points at it. Left empty, "
                               "the master's own ipfs:// content address is used (it resolves once you pin it)")
with st.expander("Keystore passwords (when not set in the environment)"):
    signer_password = st.text_input("Signer keystore password", type="password", key="mint-signer-pw")
    owner_password = st.text_input("Owner keystore password (pays the gas)", type="password", key="mint-owner-pw")

signed_key = f"mint-signed-{take.id}"
if st.button("Sign authorization", icon="✍️"):
    with shown_errors():
        try:
            signed = minting.sign_take(s, take, wallet=wallet, audio_url=audio_url,
                                       signer_password=signer_password or None)
            row = minting.record_signature(s, take.id, signed)
            st.session_state[signed_key] = (signed, row)
        except ProvenanceError as exc:
            st.error(str(exc), icon="⚠️")

if signed_key in st.session_state:
    signed, row = st.session_state[signed_key]
    a = signed.authorization
    st.success(f"Signed by {signed.signer} for {a.to}; valid until unix time {a.deadline}.", icon="✅")
    st.caption(f"Metadata URI {a.uri}")
    if st.button("Mint", type="primary", icon="🪙"):
        with shown_errors(), st.spinner("Sending the transaction and waiting for its receipt…"):
            try:
                record = minting.mint(s, take.id, signed, row_id=row, owner_password=owner_password or None)
            except ProvenanceError as exc:
                st.error(str(exc), icon="⚠️")
            else:
                del st.session_state[signed_key]  # an authorization is single use
                if record.status == "minted":
                    outcome = ("success", f"Minted token {record.token_id} (transaction {record.tx_hash}).")
                elif record.status == "failed":
                    outcome = ("error", f"The mint failed: {record.reason}")
                else:
                    outcome = ("warning", f"Sent (transaction {record.tx_hash}), no receipt yet: "
                                          f"{record.reason or 'waiting'}.")
                st.session_state["mint-outcome"] = outcome
                st.rerun()  # redraw the mint state from the library row
