"""Mint: sign an authorization for a take's audio and recipe hashes and mint it on the chain.

URL: ?take=<id>. Everything goes through studio.minting and studio.local_chain (the same
functions as `songstudio sign|mint|chain up`). Network calls here are short RPCs, not model
work, so they run in the page. Passwords typed here are used for one unlock and never stored.
"""

import streamlit as st

from provenance.errors import ProvenanceError
from studio import local_chain, minting
from studio.dates import unix_date
from studio.errors import StudioError
from studio.ui.common import query_int, shown_errors, studio
from studio.ui.plain import md_escape
from studio.ui.takes import take_label

REAL_NETWORK_STEPS = """\
1. Pick an RPC endpoint for the network (e.g. from your node provider) and set
   `SONGSTUDIO_CHAIN_RPC_URL`.
2. Create the keys: `songstudio keys new --role owner` and `songstudio keys new --role signer`
   (passwords of 8 or more characters). Send ETH for gas to the owner's address; the signer needs none.
3. Deploy: `songstudio chain deploy --rpc URL`. It saves the chain id and contract address in the
   studio's settings file; this page uses them at once.
"""

s = studio()
st.title("Mint")

take_id = query_int("take")
chosen = st.number_input("Take id", min_value=1, value=take_id or 1, key="mint-take")
if chosen != take_id:
    st.query_params["take"] = str(int(chosen))
take = s.take(int(chosen))
if take is None:
    st.info(f"There is no take {int(chosen)}. Open one from the Library and choose “Sign and mint”.", icon=":material/token:")
    st.stop()

st.text(f"{take_label(take)} · {take.engine} · seed {take.seed}")
st.caption(f"Audio hash `{take.audio_sha256}`")

outcome = st.session_state.pop("mint-outcome", None)  # what the last click ended with
if outcome is not None:
    kind, text = outcome
    {"success": st.success, "error": st.error, "warning": st.warning}[kind](text)

state = s.mint_state(take.id)
st.markdown(f"**Mint state:** {state.text}")
if state.status == "minted":
    st.success(f"This take is minted as token {state.token_id} (transaction {state.tx_hash}). "
               "A take is minted once.", icon=":material/token:")
    st.stop()

with st.expander("Keystore passwords (when not set in the environment)"):
    signer_password = st.text_input("Signer keystore password", type="password", key="mint-signer-pw")
    owner_password = st.text_input("Owner keystore password (pays the gas)", type="password", key="mint-owner-pw")

try:
    config = minting.chain_config(s.settings)
except StudioError as exc:
    config = None
    st.error(md_escape(str(exc)), icon=":material/warning:")
    st.subheader("Set up a local test chain")
    st.write("Starts anvil on this computer (127.0.0.1), creates the owner and signer keys if there are none "
             "(with the passwords above, 8 or more characters), funds the owner, deploys the SongNFT contract "
             "and saves the settings. Tokens on it are for trying things out only.")
    if st.button("Set up a local test chain", icon=":material/link:"):
        with shown_errors(), st.spinner("Starting anvil and deploying the contract…"):
            try:
                chain = local_chain.chain_up(s.settings, passwords={"signer": signer_password or None,
                                                                    "owner": owner_password or None})
            except ProvenanceError as exc:
                st.error(md_escape(str(exc)), icon=":material/warning:")
            else:
                st.session_state["mint-outcome"] = (
                    "success", f"Local chain {chain.chain_id} at {chain.rpc_url}, contract {chain.contract}.")
                st.rerun()
    st.subheader("Or use a real network")
    st.markdown(REAL_NETWORK_STEPS)
    st.stop()

st.caption(f"Chain {config.chain_id} at {config.rpc_url} · contract `{config.contract}`")
wallet = st.text_input("Wallet address (receives the token)", placeholder="0x…", key="mint-wallet")
st.caption("The token's metadata names the audio by its IPFS content address; both are written to a CAR "
           "file you can upload to any pinning service.")

signed_key = f"mint-signed-{take.id}"
if st.button("Sign authorization", icon=":material/edit:"):
    with shown_errors():
        try:
            row, master = minting.load_take(s.library, take.id)
            minting.refuse_if_minted(s.db, row)
            signer = minting.unlock_role(s.settings, "signer", password=signer_password or None)
            st.session_state[signed_key] = minting.sign_take(s.settings, s.db, row, master, wallet=wallet,
                                                             signer=signer)
        except ProvenanceError as exc:
            st.error(md_escape(str(exc)), icon=":material/warning:")

if signed_key in st.session_state:
    signed_take = st.session_state[signed_key]
    a = signed_take.signed.authorization
    st.success(f"Signed by {signed_take.signed.signer} for {a.to}; valid until {unix_date(a.deadline)}.", icon=":material/check_circle:")
    st.caption(f"Metadata URI {a.uri} · recipe hash {a.recipe_hash} · CAR {signed_take.content.car}")
    if st.button("Mint", type="primary", icon=":material/token:"):
        with shown_errors(), st.spinner("Sending the transaction and waiting for its receipt…"):
            try:
                sender = minting.unlock_role(s.settings, "owner", password=owner_password or None)
                record = minting.mint_signed(s.settings, s.db, take.id, signed_take.signed,
                                             row_id=signed_take.row_id, sender=sender)
            except ProvenanceError as exc:
                st.error(md_escape(str(exc)), icon=":material/warning:")
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
                st.rerun()  # redraw the mint state from the library rows
