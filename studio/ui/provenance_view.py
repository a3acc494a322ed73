"""The Song page's provenance panel: what is known about a take's hash, signature, C2PA and mint."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel import col, select

from studio.tables import Mint

if TYPE_CHECKING:
    from studio.ui.backend import Studio, TakeView


def latest_mint(s: "Studio", take_id: int) -> Mint | None:
    with s.db.read() as session:
        return session.exec(select(Mint).where(Mint.take_id == take_id).order_by(col(Mint.id).desc())).first()


def mint_state(mint: Mint | None) -> str:
    if mint is None:
        return "not minted"
    if mint.status == "minted":
        return f"minted: token {mint.token_id} (tx {mint.tx_hash})"
    if mint.status == "failed":
        return f"failed: {mint.reason or 'no reason recorded'}"
    return f"pending (tx {mint.tx_hash})" if mint.tx_hash else "signed, not sent yet"


def provenance_facts(s: "Studio", take: "TakeView") -> dict[str, str]:
    from studio.ui.c2pa_state import c2pa_state

    mint = latest_mint(s, take.id)
    authorization = "none yet"
    if mint is not None:
        authorization = f"signed for {mint.wallet} on chain {mint.chain_id} (contract {mint.contract})"
    return {
        "Audio hash (sha256 of the master file)": f"`{take.audio_sha256}`",
        "Authorization": authorization,
        "C2PA": c2pa_state(s.file_path(take, "master")),
        "Mint": mint_state(mint),
    }
