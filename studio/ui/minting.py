"""The Mint page's steps, on top of the provenance package: sign an authorization for a take,
send the mint, keep the library's mint row in step with what the chain said.

Keys: the signer key signs authorizations (needs no ETH); the transaction is sent and paid for by
the owner key (the account that deployed the contract). Both live in encrypted keystores:
SONGSTUDIO_SIGNER_KEYSTORE / SONGSTUDIO_OWNER_KEYSTORE (as the provenance CLI reads them), by
default `<home>/keys/<role>.json`; passwords come from SONGSTUDIO_SIGNER_PASSWORD / SONGSTUDIO_OWNER_PASSWORD or
the page's password fields, and are never stored.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from studio.errors import BadInput
from studio.settings import Settings
from studio.tables import Mint, now_utc

if TYPE_CHECKING:
    from provenance.authorization import SignedAuthorization
    from provenance.records import MintRecord
    from studio.ui.backend import Studio, TakeView

ROLES = ("signer", "owner")


@dataclass(frozen=True)
class ChainConfig:
    rpc_url: str
    chain_id: int
    contract: str


def keystore_path(settings: Settings, role: str) -> Path:
    """SONGSTUDIO_<ROLE>_KEYSTORE (as the provenance CLI reads it), else `<home>/keys/<role>.json`."""
    configured = os.environ.get(f"SONGSTUDIO_{role.upper()}_KEYSTORE")
    return Path(configured).expanduser() if configured else settings.home / "keys" / f"{role}.json"


def _create_hint(role: str, path: Path) -> str:
    return f"create it with `songstudio keys new --role {role} --keystore {path}`"


def keystore_state(settings: Settings) -> dict[str, str]:
    """Role -> 'address (path)' or 'missing: how to make it'. Reads addresses only; decrypts nothing."""
    from provenance.keys import keystore_address

    out = {}
    for role in ROLES:
        path = keystore_path(settings, role)
        if not path.is_file():
            out[role] = f"missing ({path}); {_create_hint(role, path)}"
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
                       "`songstudio chain deploy --rpc URL`), then reload this page")
    return ChainConfig(rpc_url=settings.chain_rpc_url, chain_id=int(settings.chain_id),
                       contract=settings.chain_contract)


def _unlock(settings: Settings, role: str, password: str | None):
    from provenance.keys import password_env_var, unlock

    path = keystore_path(settings, role)
    if not path.is_file():
        raise BadInput(f"the {role} keystore {path} does not exist; {_create_hint(role, path)}")
    password = password or os.environ.get(password_env_var(role))
    if not password:
        raise BadInput(f"enter the {role} keystore password (or set {password_env_var(role)})")
    return unlock(path, password=password, role=role)


def sign_take(s: "Studio", take: "TakeView", *, wallet: str, audio_url: str,
              signer_password: str | None) -> "SignedAuthorization":
    """Check the master is the stored one, build its metadata URI and sign a fresh authorization."""
    from provenance.authorization import build_authorization, sign_authorization
    from provenance.hashing import audio_hash
    from provenance.metadata import build_metadata, metadata_uri

    config = chain_config(s.settings)
    if not audio_url.strip():
        raise BadInput("give the public address of the audio (ipfs://, ar:// or https://): the token points at it")
    digest = audio_hash(s.file_path(take, "master"))
    if digest.removeprefix("0x").lower() != take.audio_sha256.removeprefix("0x").lower():
        raise BadInput(f"the master file of take {take.id} no longer matches its stored hash; it was changed "
                       "after it was made, so it cannot be signed")
    signer = _unlock(s.settings, "signer", signer_password)
    metadata = build_metadata(
        name=take.title or f"Take {take.id}", description=take.prompt or "Made with Song Studio",
        audio_hash=digest, engine=take.engine, model=take.model_id or take.engine, seed=take.seed,
        signer=signer.address, generation_id=take.job_id, animation_url=audio_url.strip(),
        duration_s=take.duration)
    uri, _ = metadata_uri(metadata)
    authorization = build_authorization(to=wallet, uri=uri, audio_hash=digest, chain_id=config.chain_id,
                                        contract=config.contract)
    return sign_authorization(authorization, signer)


def save_record(s: "Studio", take_id: int, record: "MintRecord", *, row_id: int | None) -> int:
    """Insert or update the take's mint row from a provenance record; returns the row id."""
    values = dict(take_id=take_id, wallet=record.to, nonce=record.nonce, deadline=record.deadline,
                  signature=record.signature, chain_id=record.chain_id, contract=record.contract,
                  tx_hash=record.tx_hash, token_id=record.token_id, status=record.status, reason=record.reason,
                  updated_at=now_utc())
    with s.db.write() as session:
        if row_id is None:
            row = Mint(**values)
            session.add(row)
            session.flush()
            return int(row.id)
        session.exec(sa.update(Mint).where(Mint.id == row_id).values(**values))
        return row_id


def record_signature(s: "Studio", take_id: int, signed: "SignedAuthorization") -> int:
    from provenance.records import pending_record

    return save_record(s, take_id, pending_record(signed), row_id=None)


def mint(s: "Studio", take_id: int, signed: "SignedAuthorization", *, row_id: int,
         owner_password: str | None) -> "MintRecord":
    """Send the mint paid by the owner key; every state change lands in the mint row."""
    from provenance.chain import ChainClient
    from provenance.records import mint_with_record

    config = chain_config(s.settings)
    sender = _unlock(s.settings, "owner", owner_password)
    client = ChainClient.connect(config.rpc_url).with_contract(config.contract, chain_id=config.chain_id)
    return mint_with_record(client, signed, sender=sender,
                            save=lambda record: save_record(s, take_id, record, row_id=row_id))
