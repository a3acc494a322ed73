"""Mint records as plain data for the studio's library (it owns the table).

Life cycle: pending -> minted (tx hash, token id, from a successful receipt) or failed (reason).
A record only becomes "minted" from a MintReceipt, i.e. a mined receipt with status 1 and the
contract's SongMinted event for the same audio, nonce and recipient. A transaction that was sent
but whose receipt did not arrive stays pending with its tx hash; `settle` finishes it later.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

from provenance.authorization import SignedAuthorization
from provenance.errors import InvalidInput, ProvenanceError, ReceiptTimeout, RPCUnreachable
from provenance.keys import UnlockedKey

if TYPE_CHECKING:  # only for the signatures: records are plain data and need no web3
    from provenance.chain import ChainClient, MintReceipt

PENDING, MINTED, FAILED = "pending", "minted", "failed"


@dataclass(frozen=True)
class MintRecord:
    status: str
    to: str
    audio_hash: str
    recipe_hash: str
    uri: str
    nonce: str  # decimal text: uint256 does not fit SQL integers
    deadline: int
    chain_id: int
    contract: str
    signer: str
    signature: str
    digest: str
    tx_hash: str | None = None
    token_id: str | None = None  # decimal text, as the nonce
    block_number: int | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "MintRecord":
        required = [k for k, f in cls.__dataclass_fields__.items() if f.default is dataclasses.MISSING]
        missing = [k for k in required if data.get(k) is None]
        if missing:
            raise InvalidInput(f"mint record lacks {', '.join(missing)}")
        record = cls(**{k: data.get(k) for k in cls.__dataclass_fields__})
        if record.status not in (PENDING, MINTED, FAILED):
            raise InvalidInput(f"unknown mint record status {record.status!r}")
        return record

    def signed_authorization(self) -> SignedAuthorization:
        return SignedAuthorization.from_record(self.to_dict())


def pending_record(signed: SignedAuthorization) -> MintRecord:
    fields = signed.to_record()
    return MintRecord(status=PENDING, **fields)


def with_tx_hash(record: MintRecord, tx_hash: str) -> MintRecord:
    _require_pending(record)
    return replace(record, tx_hash=tx_hash)


def minted_record(record: MintRecord, receipt: MintReceipt) -> MintRecord:
    """The record marked minted; the receipt must be for exactly this authorization."""
    _require_pending(record)
    expected = {"audio_hash": record.audio_hash, "recipe_hash": record.recipe_hash, "nonce": record.nonce, "to": record.to,
                "contract": record.contract, "chain_id": record.chain_id, "uri": record.uri}
    for field, value in expected.items():
        if getattr(receipt, field) != value:
            raise InvalidInput(f"the mint receipt's {field} ({getattr(receipt, field)}) does not match the record "
                               f"({value}); not marking it minted")
    if record.tx_hash is not None and record.tx_hash != receipt.tx_hash:
        raise InvalidInput(f"the receipt is for transaction {receipt.tx_hash}, the record for {record.tx_hash}")
    return replace(record, status=MINTED, tx_hash=receipt.tx_hash, token_id=str(receipt.token_id),
                   block_number=receipt.block_number, reason=None)


def failed_record(record: MintRecord, reason: str) -> MintRecord:
    _require_pending(record)
    if not reason:
        raise InvalidInput("a failed mint record needs a reason")
    return replace(record, status=FAILED, reason=reason)


def mint_with_record(client: ChainClient, signed: SignedAuthorization, *, sender: UnlockedKey,
                     save: Callable[[MintRecord], None]) -> MintRecord:
    """Mints and calls `save` at every state change (pending, pending + tx hash, final).
    Returns the last record; errors end up in `reason`, never as a minted record."""
    record = pending_record(signed)
    save(record)
    try:
        tx_hash = client.send_mint(signed, sender=sender)
    except ProvenanceError as exc:
        record = failed_record(record, str(exc))
        save(record)
        return record
    record = with_tx_hash(record, tx_hash)
    save(record)
    return _finish(client, record, save)


def settle(client: ChainClient, record: MintRecord, *, save: Callable[[MintRecord], None]) -> MintRecord:
    """Finishes a pending record whose transaction was sent: minted, failed, or still pending."""
    _require_pending(record)
    if record.tx_hash is None:
        raise InvalidInput("this pending mint was never sent (no tx hash); mark it failed or send it")
    return _finish(client, record, save)


def _finish(client: ChainClient, record: MintRecord, save: Callable[[MintRecord], None]) -> MintRecord:
    try:
        receipt = client.wait_for_mint(record.tx_hash)
    except (ReceiptTimeout, RPCUnreachable) as exc:
        record = replace(record, reason=str(exc))  # may still be mined: stays pending
    except ProvenanceError as exc:
        record = failed_record(record, str(exc))
    else:
        record = minted_record(record, receipt)
    save(record)
    return record


def _require_pending(record: MintRecord) -> None:
    if record.status != PENDING:
        raise InvalidInput(f"mint record is already {record.status}; only pending records change")
