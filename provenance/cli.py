"""Click commands for keys, chain, signing, minting and verifying. The studio CLI mounts
`keys`, `chain` and `verify` as they are and wraps `sign_file_command` / `mint_command` logic
for takes (it maps a take to its file and metadata).

Configuration comes from options or SONGSTUDIO_* environment variables; passwords only from
SONGSTUDIO_<ROLE>_PASSWORD or an interactive prompt, never from an option.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import click

from provenance.errors import ProvenanceError


def errors_as_messages(fn):
    """ProvenanceErrors end the command with their message (exit 1), never a traceback."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ProvenanceError as exc:
            raise click.ClickException(str(exc)) from None
    return wrapper


def password_prompt(confirm: bool = False):
    if not sys.stdin.isatty():
        return None  # resolve_password then names the environment variable to set
    return lambda text: click.prompt(text, hide_input=True, confirmation_prompt=confirm)


def _unlock(path: str, role: str):
    from provenance.keys import resolve_password, unlock
    return unlock(path, password=resolve_password(role=role, prompt=password_prompt()), role=role)


def _echo_json(data) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True))


rpc_option = click.option("--rpc", "rpc_url", envvar=["SONGSTUDIO_CHAIN_RPC_URL", "SONGSTUDIO_RPC_URL"],
                          required=True, metavar="URL",
                          help="JSON-RPC endpoint (env SONGSTUDIO_CHAIN_RPC_URL, as the studio settings).")
contract_option = click.option("--contract", envvar=["SONGSTUDIO_CHAIN_CONTRACT", "SONGSTUDIO_CONTRACT"],
                               required=True, metavar="ADDRESS",
                               help="Deployed SongNFT address (env SONGSTUDIO_CHAIN_CONTRACT).")
chain_id_option = click.option("--chain-id", envvar="SONGSTUDIO_CHAIN_ID", type=int, required=True,
                               help="Chain the contract lives on (env SONGSTUDIO_CHAIN_ID).")
signer_keystore_option = click.option("--signer-keystore", envvar="SONGSTUDIO_SIGNER_KEYSTORE", required=True,
                                      type=click.Path(dir_okay=False), help="env SONGSTUDIO_SIGNER_KEYSTORE")
owner_keystore_option = click.option("--owner-keystore", envvar="SONGSTUDIO_OWNER_KEYSTORE", required=True,
                                     type=click.Path(dir_okay=False), help="env SONGSTUDIO_OWNER_KEYSTORE")


@click.group("keys")
def keys_group():
    """Encrypted keystores for the signer and the owner."""


@keys_group.command("new")
@click.option("--role", type=click.Choice(["signer", "owner"]), required=True)
@click.option("--keystore", type=click.Path(dir_okay=False), required=True,
              help="Where to write it (never overwritten).")
@errors_as_messages
def keys_new(role: str, keystore: str):
    """Create a new key, encrypted with SONGSTUDIO_<ROLE>_PASSWORD or a prompted password."""
    from provenance.keys import create_keystore, resolve_password
    password = resolve_password(role=role, prompt=password_prompt(confirm=True))
    address = create_keystore(keystore, password=password, role=role)
    click.echo(f"{role} key {address} written to {keystore}")


@keys_group.command("address")
@click.option("--keystore", type=click.Path(dir_okay=False), required=True)
@errors_as_messages
def keys_address(keystore: str):
    """Print a keystore's address (no password needed)."""
    from provenance.keys import keystore_address
    click.echo(keystore_address(keystore))


@click.group("chain")
def chain_group():
    """Deploy and inspect the SongNFT contract."""


@chain_group.command("deploy")
@rpc_option
@owner_keystore_option
@click.option("--signer", "signer_address", metavar="ADDRESS", help="Signer address (default: the signer keystore's).")
@click.option("--signer-keystore", envvar="SONGSTUDIO_SIGNER_KEYSTORE", type=click.Path(dir_okay=False))
@errors_as_messages
def chain_deploy(rpc_url: str, owner_keystore: str, signer_address: str | None, signer_keystore: str | None):
    """Deploy SongNFT owned by the owner key, trusting the signer."""
    from provenance.chain import ChainClient
    from provenance.keys import keystore_address
    if signer_address is None:
        if signer_keystore is None:
            raise click.UsageError("give --signer ADDRESS or --signer-keystore PATH")
        signer_address = keystore_address(signer_keystore)
    client = ChainClient.connect(rpc_url)
    deployment = client.deploy(owner=_unlock(owner_keystore, "owner"), signer=signer_address)
    _echo_json({"contract": deployment.address, "chain_id": deployment.chain_id, "tx_hash": deployment.tx_hash,
                "owner": deployment.owner, "signer": deployment.signer, "gas_used": deployment.gas_used})


@chain_group.command("info")
@rpc_option
@contract_option
@chain_id_option
@errors_as_messages
def chain_info(rpc_url: str, contract: str, chain_id: int):
    """Check the node and contract; print owner and signer."""
    from provenance.chain import ChainClient
    client = ChainClient.connect(rpc_url, contract_address=contract, expected_chain_id=chain_id)
    _echo_json({"contract": client.address, "chain_id": client.chain_id, "owner": client.owner(),
                "signer": client.signer()})


@chain_group.command("set-signer")
@rpc_option
@contract_option
@chain_id_option
@owner_keystore_option
@click.argument("new_signer")
@errors_as_messages
def chain_set_signer(rpc_url: str, contract: str, chain_id: int, owner_keystore: str, new_signer: str):
    """Rotate the signer (owner only); outstanding authorizations stop working."""
    from provenance.chain import ChainClient
    client = ChainClient.connect(rpc_url, contract_address=contract, expected_chain_id=chain_id)
    click.echo(client.set_signer(new_signer, owner=_unlock(owner_keystore, "owner")))


@click.command("sign")
@click.argument("audio_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--to", "to", required=True, metavar="ADDRESS", help="Wallet that receives the token.")
@click.option("--uri", required=True, help="Token URI (ipfs:// of the metadata JSON).")
@contract_option
@chain_id_option
@signer_keystore_option
@click.option("--ttl", type=int, default=30 * 60, show_default=True, help="Seconds the authorization stays valid.")
@errors_as_messages
def sign_command(audio_file: str, to: str, uri: str, contract: str, chain_id: int, signer_keystore: str, ttl: int):
    """Sign a mint authorization for a sealed audio file; prints it as JSON."""
    from provenance.authorization import build_authorization, sign_authorization
    from provenance.hashing import audio_hash
    auth = build_authorization(to=to, uri=uri, audio_hash=audio_hash(audio_file), chain_id=chain_id,
                               contract=contract, ttl_seconds=ttl)
    _echo_json(sign_authorization(auth, _unlock(signer_keystore, "signer")).to_record())


@click.command("mint")
@click.argument("authorization_json", type=click.File("r"))
@rpc_option
@click.option("--sender-keystore", envvar="SONGSTUDIO_OWNER_KEYSTORE", required=True, type=click.Path(dir_okay=False),
              help="Funded key that pays for gas (default env SONGSTUDIO_OWNER_KEYSTORE).")
@errors_as_messages
def mint_command(authorization_json, rpc_url: str, sender_keystore: str):
    """Submit a signed authorization (JSON from `sign`); prints the final mint record."""
    from provenance.authorization import SignedAuthorization
    from provenance.chain import ChainClient
    from provenance.records import MINTED, mint_with_record
    try:
        signed = SignedAuthorization.from_record(json.load(authorization_json))
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"the authorization is not JSON: {exc}") from None
    a = signed.authorization
    client = ChainClient.connect(rpc_url, contract_address=a.contract, expected_chain_id=a.chain_id)
    record = mint_with_record(client, signed, sender=_unlock(sender_keystore, "owner"), save=lambda r: None)
    _echo_json(record.to_dict())
    if record.status != MINTED:
        raise click.ClickException(f"not minted ({record.status}): {record.reason}")


@click.command("verify")
@click.argument("audio_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--trust-anchors", type=click.Path(exists=True, dir_okay=False),
              help="PEM CA certificates to trust (e.g. the studio's development CA).")
@click.option("--expected-hash", metavar="0xSHA256", help="Audio hash the file should have (e.g. from the token).")
@errors_as_messages
def verify_command(audio_file: str, trust_anchors: str | None, expected_hash: str | None):
    """Report a file's hash, tags and C2PA manifest state; exit 1 if invalid or mismatched."""
    from provenance.seal import verify_file
    from provenance.validate import hex32, parse_bytes32
    if expected_hash is not None:
        expected_hash = hex32(parse_bytes32(expected_hash, what="expected hash"))
    anchors = Path(trust_anchors).read_bytes() if trust_anchors else None
    report = verify_file(audio_file, trust_anchors_pem=anchors, expected_hash=expected_hash)
    for line in report.lines():
        click.echo(line)
    if report.manifest.state == "invalid" or report.hash_matches is False:
        raise SystemExit(1)


@click.group("provenance")
def provenance_cli():
    """Provenance and minting commands (standalone; the studio CLI mounts the parts it wants)."""


for _command in (keys_group, chain_group, sign_command, mint_command, verify_command):
    provenance_cli.add_command(_command)
