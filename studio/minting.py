"""Signing and minting a take: the one module behind `songstudio sign|mint TAKE` and the Mint page.

Keys: the signer key signs authorizations (it needs no ETH); the transaction is sent and paid
for by the owner key. Both are encrypted keystores (`Settings.keystore(role)`); passwords come
from SONGSTUDIO_SIGNER_PASSWORD / SONGSTUDIO_OWNER_PASSWORD, a prompt or a page field, and are
never stored. The chain comes from SONGSTUDIO_CHAIN_* or, unset, from the settings file that
`songstudio chain up` writes, read afresh at every call (no restart needed).

Content: the master, its C2PA sidecar manifest (`master.c2pa`, when sealed) and its ERC-721
metadata get UnixFS CIDv1 addresses (provenance.content); the metadata names the audio by
`ipfs://<cid>` (`animation_url`) and the manifest by `ipfs://<cid>` (`properties.c2pa_manifest`:
without it the minted FLAC would travel without its signed provenance), the authorization names
the metadata. All are written to `<home>/ipfs/take-<id>-<metadata cid>.car`, whose roots are
exactly those CIDs: audio, manifest (when there is one), metadata.

Mint state is read from all of a take's rows: a minted row wins forever; an unsent row past its
deadline reads as expired; when a take is minted, its other unsent rows become superseded.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from provenance.authorization import build_authorization, sign_authorization
from provenance.content import file_cids
from provenance.errors import ProvenanceError
from provenance.hashing import audio_hash
from provenance.keys import keystore_address, resolve_password, unlock
from provenance.metadata import build_metadata, canonical_json
from provenance.pinning import import_car
from provenance.records import MintRecord, mint_with_record, pending_record
from studio.errors import BadInput
from studio.mint_state import SUPERSEDED, mint_state, mints_of_take
from studio.settings import Settings, read_settings_file
from studio.tables import Mint, Take, now_utc

if TYPE_CHECKING:
    from provenance.authorization import SignedAuthorization
    from studio.db import Database
    from studio.library import Library

ROLES = ("signer", "owner")
RECORD_COLUMNS = ("nonce", "deadline", "signature", "chain_id", "contract", "uri", "audio_hash", "recipe_hash",
                  "signer", "digest", "tx_hash", "token_id", "block_number", "status", "reason")
CHAIN_SETTINGS = (("SONGSTUDIO_CHAIN_RPC_URL", "chain_rpc_url"), ("SONGSTUDIO_CHAIN_ID", "chain_id"),
                  ("SONGSTUDIO_CHAIN_CONTRACT", "chain_contract"))
NO_RECIPE = "0x" + "00" * 32  # takes made before recipes were recorded bind the zero hash


class AlreadyMinted(BadInput):
    """The take is minted already; nothing more to sign."""


@dataclass(frozen=True)
class ChainConfig:
    rpc_url: str
    chain_id: int
    contract: str


@dataclass(frozen=True)
class TakeContent:
    audio_cid: str
    metadata_cid: str
    metadata: dict
    car: Path
    manifest_cid: str | None = None  # the master's C2PA sidecar; None for a master sealed without one

    @property
    def roots(self) -> list[str]:
        """The CAR's roots, in order."""
        return [self.audio_cid, *([self.manifest_cid] if self.manifest_cid else []), self.metadata_cid]

    @property
    def uri(self) -> str:
        return f"ipfs://{self.metadata_cid}"


@dataclass(frozen=True)
class SignedTake:
    signed: "SignedAuthorization"
    row_id: int
    content: TakeContent


# -- settings and keys ------------------------------------------------------------------------

def chain_config(settings: Settings) -> ChainConfig:
    """The configured chain: SONGSTUDIO_CHAIN_* when set, else the settings file's values."""
    stored = read_settings_file(settings)
    values = {attr: getattr(settings, attr) or stored.get(attr) for _, attr in CHAIN_SETTINGS}
    missing = [name for name, attr in CHAIN_SETTINGS if not values[attr]]
    if missing:
        raise BadInput(f"no chain is configured ({', '.join(missing)} unset): run `songstudio chain up` for a "
                       "local test chain, or see docs/provenance.md for a real network")
    return ChainConfig(rpc_url=values["chain_rpc_url"], chain_id=int(values["chain_id"]),
                       contract=values["chain_contract"])


def keystore_state(settings: Settings) -> dict[str, str]:
    """Role -> 'address (path)' or 'missing: how to make it'. Reads addresses only; decrypts nothing."""
    out = {}
    for role in ROLES:
        path = settings.keystore(role)
        if not path.is_file():
            out[role] = f"missing ({path}); `songstudio chain up` or `songstudio keys new --role {role}` creates it"
            continue
        try:
            out[role] = f"{keystore_address(path)} ({path})"
        except ProvenanceError as exc:  # a damaged keystore: say so, never show its content
            out[role] = f"unreadable ({path}): {exc}"
    return out


def signer_address(settings: Settings) -> str | None:
    path = settings.keystore("signer")
    return keystore_address(path) if path.is_file() else None


def unlock_role(settings: Settings, role: str, *, password: str | None = None,
                prompt: Callable[[str], str] | None = None):
    """The role's key, unlocked with the given password, else its environment variable, else `prompt`."""
    path = settings.keystore(role)
    if not path.is_file():
        raise BadInput(f"the {role} keystore {path} does not exist; create it with `songstudio chain up` "
                       f"(local test chain) or `songstudio keys new --role {role}`")
    if password:
        return unlock(path, password=password, role=role, password_from="the password that was entered")
    return unlock(path, password=resolve_password(role=role, prompt=prompt), role=role)


# -- state --------------------------------------------------------------------------------------

def refuse_if_minted(db: "Database", take: Take, client=None) -> None:
    """Signing a minted take is refused, naming its token (from the library, or the chain)."""
    state = mint_state(db, take.id)
    if state.status == "minted":
        raise AlreadyMinted(f"take {take.id} is already minted: token {state.token_id} (tx {state.tx_hash}); "
                            "a take is minted once")
    if client is not None:
        token = client.token_of_audio(_hex_hash(take.audio_sha256))
        if token is not None:
            raise AlreadyMinted(f"take {take.id} is already minted on chain {client.chain_id}: token {token} "
                                "(not through this library); a take is minted once")


# -- content ----------------------------------------------------------------------------------

def take_recipe_hash(take: Take) -> str:
    return take.recipe_sha256 or NO_RECIPE


def take_content(settings: Settings, take: Take, master: Path, *, signer: str) -> TakeContent:
    """CIDs of the master, its C2PA sidecar (when it has one) and its metadata, and the CAR holding them."""
    manifest = master.with_suffix(".c2pa")
    files = [master, manifest] if manifest.is_file() else [master]
    file_addresses = file_cids(files)
    audio_cid, manifest_cid = file_addresses[0], (file_addresses[1] if len(files) > 1 else None)
    metadata = build_metadata(
        name=take.title or f"Take {take.id}", description=take.prompt or "Made with Song Studio",
        audio_hash=_hex_hash(take.audio_sha256), engine=take.engine, model=_model_name(take), seed=take.seed,
        signer=signer, generation_id=f"{take.job_id}/{take.take_index}", animation_url=f"ipfs://{audio_cid}",
        duration_s=take.duration, recipe_hash=take_recipe_hash(take),
        recipe=json.loads(take.recipe) if take.recipe else None,
        c2pa_manifest=f"ipfs://{manifest_cid}" if manifest_cid else None)
    folder = settings.home / "ipfs"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    work = Path(tempfile.mkdtemp(prefix=f".take-{take.id}-", dir=folder))  # two pages may sign at once
    staging, partial = work / "metadata.json", work / "take.car"
    staging.write_bytes(canonical_json(metadata))
    try:
        cids = file_cids([*files, staging], car=partial)
        if cids[:-1] != file_addresses:
            raise BadInput(f"the master of take {take.id} or its manifest changed while its CAR was written; "
                           "try again")
        car = folder / f"take-{take.id}-{cids[-1]}.car"
        partial.replace(car)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return TakeContent(audio_cid=audio_cid, metadata_cid=cids[-1], metadata=metadata, car=car,
                       manifest_cid=manifest_cid)


def _model_name(take: Take) -> str:
    """The model by id, never a local folder path (older takes stored one)."""
    if take.recipe:
        return json.loads(take.recipe)["model"]["id"]
    return Path(take.model_id).name or take.engine


def _hex_hash(value: str) -> str:
    return "0x" + value.removeprefix("0x").lower()


# -- sign and mint ------------------------------------------------------------------------------

def load_take(library: "Library", take_id: int) -> tuple[Take, Path]:
    """The take's row and its master file."""
    take = library.get(take_id)
    return take, library.path(take)


def sign_take(settings: Settings, db: "Database", take: Take, master: Path, *, wallet: str, signer) -> SignedTake:
    """Check the master is the stored one and unminted, build its content, sign a fresh
    authorization and record it as a pending mint row."""
    config = chain_config(settings)
    refuse_if_minted(db, take)
    digest = audio_hash(master)
    if digest.removeprefix("0x").lower() != take.audio_sha256.removeprefix("0x").lower():
        raise BadInput(f"the master file of take {take.id} no longer matches its stored hash; it was changed "
                       "after it was made, so it cannot be signed")
    content = take_content(settings, take, master, signer=signer.address)
    authorization = build_authorization(to=wallet, uri=content.uri, audio_hash=digest,
                                        recipe_hash=take_recipe_hash(take), chain_id=config.chain_id,
                                        contract=config.contract)
    signed = sign_authorization(authorization, signer)
    return SignedTake(signed=signed, row_id=save_record(db, take.id, pending_record(signed), row_id=None),
                      content=content)


def connect(settings: Settings):
    from provenance.chain import ChainClient  # noqa: PLC0415  (web3 is heavy; only when talking to a chain)

    config = chain_config(settings)
    return ChainClient.connect(config.rpc_url).with_contract(config.contract, chain_id=config.chain_id)


def mint_take(settings: Settings, db: "Database", take: Take, master: Path, *, wallet: str, signer,
              sender) -> tuple[SignedTake, MintRecord]:
    """Sign and mint in one go. Both keys are unlocked by the caller first, and the chain is asked
    whether the audio is minted, so a mint that cannot start leaves no row behind."""
    client = connect(settings)
    refuse_if_minted(db, take, client)
    signed_take = sign_take(settings, db, take, master, wallet=wallet, signer=signer)
    return signed_take, mint_signed(settings, db, take.id, signed_take.signed, row_id=signed_take.row_id,
                                    sender=sender, client=client)


def mint_signed(settings: Settings, db: "Database", take_id: int, signed: "SignedAuthorization", *, row_id: int,
                sender, client=None) -> MintRecord:
    """Send the mint paid by `sender`; every state change lands in the mint row (minted only with a receipt)."""
    client = client or connect(settings)
    record = mint_with_record(client, signed, sender=sender,
                              save=lambda r: save_record(db, take_id, r, row_id=row_id))
    if record.status == "minted":
        supersede_unsent(db, take_id, minted_row=row_id)
    return record


def save_record(db: "Database", take_id: int, record: MintRecord, *, row_id: int | None) -> int:
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


def supersede_unsent(db: "Database", take_id: int, *, minted_row: int) -> None:
    """Once a take is minted, its unsent authorizations can never be used: say so in their rows."""
    with db.write() as session:
        session.exec(sa.update(Mint).where(Mint.take_id == take_id, Mint.id != minted_row, Mint.status == "pending",
                                           Mint.tx_hash.is_(None))
                     .values(status=SUPERSEDED, reason=f"the take was minted through mint row {minted_row}",
                             updated_at=now_utc()))


def pin_take(settings: Settings, db: "Database", take: Take, master: Path) -> tuple[Path, list[str]]:
    """Upload the take's CAR (the one its latest authorization names, else a fresh one) to the IPFS
    node at SONGSTUDIO_IPFS_API_URL, which pins its roots; returns (CAR, pinned roots)."""
    if not settings.ipfs_api_url:
        raise BadInput("no IPFS node is configured: set SONGSTUDIO_IPFS_API_URL to its RPC API (e.g. "
                       "http://127.0.0.1:5001), or upload the take's CAR file to your pinning service yourself")
    rows = [r for r in mints_of_take(db, take.id) if r.uri and r.uri.startswith("ipfs://")]
    car = settings.home / "ipfs" / f"take-{take.id}-{rows[-1].uri.removeprefix('ipfs://')}.car" if rows else None
    if car is None or not car.is_file():
        address = signer_address(settings)
        if address is None:
            raise BadInput("the take has no CAR yet and there is no signer key to describe it: sign or mint it first")
        content = take_content(settings, take, master, signer=address)
        car, expected = content.car, set(content.roots)
    else:
        expected = {car.stem.split("-", 2)[2]}
    pinned = import_car(settings.ipfs_api_url, car)
    if not expected <= set(pinned):
        raise BadInput(f"the IPFS node pinned {', '.join(pinned) or 'nothing'}, not {', '.join(sorted(expected))}")
    return car, pinned
