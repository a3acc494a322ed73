"""The Song page's provenance panel, as text: what is known about a take's hash, authorization,
C2PA manifest and mint. Pure formatting: the facts come from studio.minting (through the UI
backend), so this module queries nothing and imports no UI state."""

from __future__ import annotations

from studio.mint_state import MintState


def provenance_facts(*, audio_sha256: str, mint: MintState, c2pa: str, recipe_sha256: str | None) -> dict[str, str]:
    authorization = "none yet"
    if mint.wallet is not None:
        authorization = f"signed for {mint.wallet} on chain {mint.chain_id} (contract {mint.contract})"
    return {
        "Audio hash (sha256 of the master file)": f"`{audio_sha256}`",
        "Recipe hash (sha256 of how it was made)": f"`{recipe_sha256}`" if recipe_sha256 else "not recorded",
        "Authorization": authorization,
        "C2PA": c2pa,
        "Mint": mint.text,
    }
