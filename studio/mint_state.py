"""A take's mint state, read from all of its mint rows: plain library data, no chain and no keys
(the CLI's `library show`, the Song and Mint pages, and studio.minting read it).

A minted row wins forever (a later failed or refused attempt never hides the token); an unsent
authorization past its deadline reads as expired; rows made moot when the take was minted
through another authorization are superseded and ignored.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlmodel import col, select

from studio.tables import Mint

if TYPE_CHECKING:
    from studio.db import Database

SUPERSEDED = "superseded"  # an unsent authorization made moot by another one that minted the take


@dataclass(frozen=True)
class MintState:
    """What the library knows about a take's mint, in one line for people and fields for tools."""

    status: str  # not minted | signed | pending | minted | expired | failed
    token_id: str | None = None
    tx_hash: str | None = None
    wallet: str | None = None
    chain_id: int | None = None
    contract: str | None = None
    reason: str | None = None

    @property
    def text(self) -> str:
        if self.status == "minted":
            return f"minted: token {self.token_id} (tx {self.tx_hash})"
        if self.status == "pending":
            return f"pending (tx {self.tx_hash})"
        if self.status == "signed":
            return "signed, not sent yet"
        if self.status == "expired":
            return "authorization expired unsent; sign again to mint"
        if self.status == "failed":
            return f"failed: {self.reason or 'no reason recorded'}"
        return "not minted"

    def to_dict(self) -> dict:
        return {"status": self.status, "token_id": self.token_id, "tx_hash": self.tx_hash, "text": self.text}


def mints_of_take(db: "Database", take_id: int) -> list[Mint]:
    with db.read() as session:
        return list(session.exec(select(Mint).where(Mint.take_id == take_id).order_by(col(Mint.id))).all())


def mint_state(db: "Database", take_id: int, *, now: int | None = None) -> MintState:
    rows = mints_of_take(db, take_id)
    minted = next((r for r in rows if r.status == "minted"), None)
    if minted is not None:  # a later failure or a second attempt never hides the token
        return _state("minted", minted)
    live = [r for r in rows if r.status != SUPERSEDED]
    if not live:
        return MintState(status="not minted")
    last = live[-1]
    now = int(time.time()) if now is None else now
    if last.status == "pending":
        if last.tx_hash:
            return _state("pending", last)
        return _state("expired" if last.deadline < now else "signed", last)
    return _state(last.status, last)


def _state(status: str, row: Mint) -> MintState:
    return MintState(status=status, token_id=row.token_id, tx_hash=row.tx_hash, wallet=row.wallet,
                     chain_id=row.chain_id, contract=row.contract, reason=row.reason)
