"""Signing and minting a take, with the library's mint row kept in step with the chain.

Keys: the signer key signs authorizations (it needs no ETH); the transaction is sent and paid
for by the owner key. Both are encrypted keystores in `<home>/keys/{signer,owner}.json`;
passwords come from SONGSTUDIO_SIGNER_PASSWORD / SONGSTUDIO_OWNER_PASSWORD, a prompt or a
page field, and are never stored. Used by the CLI (`songstudio sign|mint TAKE`) and the Mint page.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import sqlalchemy as sa

from studio.errors import BadInput
from studio.settings import Settings
from studio.tables import Mint, Take, now_utc

if TYPE_CHECKING:
    from provenance.authorization import SignedAuthorization
    from provenance.records import MintRecord
    from studio.db import Database

ROLES = ("signer", "owner")
RECORD_COLUMNS = ("nonce", "deadline", "signature", "chain_id", "contract", "uri", "audio_hash", "signer", "digest",
                  "tx_hash", "token_id", "block_number", "status", "reason")


@dataclass(frozen=True)
class ChainConfig:
    rpc_url: str
    chain_id: int
    contract: str


def keystore_path(settings: Settings, role: str) -> Path:
    return settings.keys_dir / f"{role}.json"


def keystore_state(settings: Settings) -> dict[str, str]:
    """Role -> 'address (path)' or 'missing: how to make it'. Reads addresses only; decrypts nothing."""
    from provenance.keys import keystore_address

    out = {}
    for role in ROLES:
        path = keystore_path(settings, role)
        if not path.is_file():
            out[role] = f"missing ({path}); create it with `songstudio keys new --role {role} --keystore {path}`"
            continue
        try:
            out[role] = f"{keystore_address(path)} ({path})"
        except Exception as exc:  # a damaged keystore: say so, never show its content
            out[role] = f"unreadable ({path}): {exc}"
    return out


def chain_config(settings: Settings) -> ChainConfig:
    missing = [name for name, value in (("SONGSTUDIO_CHAIN_RPC_URL", settings.chain_rpc_url),
                                        ("SONGSTUDIO_CHAIN_ID", settings.chain_id),
                                        ("SONGSTUDIO_CHAIN_CONTRACT", settings.chain_contract)) if not value]
    if missing:
        raise BadInput(f"no chain is configured: set {', '.join(missing)} (deploy the contract with "
                       "`songstudio chain deploy --rpc URL`)")
    return ChainConfig(rpc_url=settings.chain_rpc_url, chain_id=int(settings.chain_id),
                       contract=settings.chain_contract)


def unlock_role(settings: Settings, role: str, *, password: str | None = None,
                prompt: Callable[[str], str] | None = None):
    """The role's key, unlocked with the given password, else its environment variable, else `prompt`."""
    from provenance.keys import resolve_password, unlock

    path = keystore_path(settings, role)
    if not path.is_file():
        raise BadInput(f"the {role} keystore {path} does not exist; create it with "
                       f"`songstudio keys new --role {role} --keystore {path}`")
    if password:
        return unlock(path, password=password, role=role, password_from="the password that was entered")
    return unlock(path, password=resolve_password(role=role, prompt=prompt), role=role)


def default_audio_url(master: Path) -> str:
    """The content address of the master (`ipfs://` CIDv1 of its bytes): where the audio resolves once pinned."""
    from provenance.metadata import ipfs_cid

    return f"ipfs://{ipfs_cid(master.read_bytes())}"


def sign_take(settings: Settings, take: Take, master: Path, *, wallet: str, signer,
              audio_url: str | None = None) -> "SignedAuthorization":
    """Check the master is the stored one, build its metadata URI and sign a fresh authorization."""
    from provenance.authorization import build_authorization, sign_authorization
    from provenance.hashing import audio_hash
    from provenance.metadata import build_metadata, metadata_uri

    config = chain_config(settings)
    digest = audio_hash(master)
    if digest.removeprefix("0x").lower() != take.audio_sha256.removeprefix("0x").lower():
        raise BadInput(f"the master file of take {take.id} no longer matches its stored hash; it was changed "
                       "after it was made, so it cannot be signed")
    audio_url = (audio_url or "").strip() or default_audio_url(master)
    metadata = build_metadata(
        name=take.title or f"Take {take.id}", description=take.prompt or "Made with Song Studio",
        audio_hash=digest, engine=take.engine, model=take.model_id or take.engine, seed=take.seed,
        signer=signer.address, generation_id=take.job_id, animation_url=audio_url, duration_s=take.duration)
    uri, _ = metadata_uri(metadata)
    authorization = build_authorization(to=wallet, uri=uri, audio_hash=digest, chain_id=config.chain_id,
                                        contract=config.contract)
    return sign_authorization(authorization, signer)


def save_record(db: "Database", take_id: int, record: "MintRecord", *, row_id: int | None) -> int:
    """Insert or update the take's mint row from a provenance record; returns the row id."""
    values = {name: getattr(record, name) for name in RECORD_COLUMNS}
    values.update(take_id=take_id, wallet=record.to, updated_at=now_utc())
    with db.write() as session:
        if row_id is None:
            row = Mint(**values)
            session.add(row)
            session.flush()
            return int(row.id)
        session.exec(sa.update(Mint).where(Mint.id == row_id).values(**values))
        return row_id


def record_signature(db: "Database", take_id: int, signed: "SignedAuthorization") -> int:
    from provenance.records import pending_record

    return save_record(db, take_id, pending_record(signed), row_id=None)


def mint_signed(settings: Settings, db: "Database", take_id: int, signed: "SignedAuthorization", *, row_id: int,
                sender) -> "MintRecord":
    """Send the mint paid by `sender`; every state change lands in the mint row (minted only with a receipt)."""
    from provenance.chain import ChainClient
    from provenance.records import mint_with_record

    config = chain_config(settings)
    client = ChainClient.connect(config.rpc_url).with_contract(config.contract, chain_id=config.chain_id)
    return mint_with_record(client, signed, sender=sender,
                            save=lambda record: save_record(db, take_id, record, row_id=row_id))


def mints_of_take(db: "Database", take_id: int) -> list[Mint]:
    with db.read() as session:
        return list(session.exec(sa.select(Mint).where(Mint.take_id == take_id).order_by(Mint.id)).scalars())
