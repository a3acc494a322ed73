"""The Mint page's steps on top of `studio.minting` (shared with `songstudio sign|mint TAKE`):
passwords typed into the page are used for one unlock and never stored."""

from __future__ import annotations

from typing import TYPE_CHECKING

from studio.minting import chain_config, keystore_state, mint_signed, unlock_role
from studio.minting import record_signature as _record_signature
from studio.minting import sign_take as _sign_take

if TYPE_CHECKING:
    from provenance.authorization import SignedAuthorization
    from provenance.records import MintRecord
    from studio.ui.backend import Studio, TakeView

__all__ = ["chain_config", "keystore_state", "mint", "record_signature", "sign_take"]


def sign_take(s: "Studio", take: "TakeView", *, wallet: str, audio_url: str | None,
              signer_password: str | None) -> "SignedAuthorization":
    chain_config(s.settings)  # a missing chain is reported before any password is asked for
    signer = unlock_role(s.settings, "signer", password=signer_password)
    return _sign_take(s.settings, take, s.file_path(take, "master"), wallet=wallet, signer=signer,
                      audio_url=audio_url)


def record_signature(s: "Studio", take_id: int, signed: "SignedAuthorization") -> int:
    return _record_signature(s.db, take_id, signed)


def mint(s: "Studio", take_id: int, signed: "SignedAuthorization", *, row_id: int,
         owner_password: str | None) -> "MintRecord":
    sender = unlock_role(s.settings, "owner", password=owner_password)
    return mint_signed(s.settings, s.db, take_id, signed, row_id=row_id, sender=sender)
