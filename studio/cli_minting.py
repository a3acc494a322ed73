"""The provenance commands: `keys`, `chain`, `sign TAKE`, `mint TAKE`, `verify FILE`.

All of them go through studio.minting / studio.local_chain / studio.verification (the Mint page
uses the same functions). Settings: SONGSTUDIO_CHAIN_RPC_URL, SONGSTUDIO_CHAIN_ID,
SONGSTUDIO_CHAIN_CONTRACT (else the settings file `chain up` writes), SONGSTUDIO_SIGNER_KEYSTORE
/ SONGSTUDIO_OWNER_KEYSTORE (else <home>/keys/<role>.json); passwords only from
SONGSTUDIO_<ROLE>_PASSWORD or a prompt, never from an option.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import click

from provenance.errors import ProvenanceError
from provenance.keys import create_keystore, keystore_address, resolve_password
from provenance.records import MINTED
from studio import local_chain, minting, verification
from studio.errors import StudioError
from studio.settings import update_settings_file

pass_state = click.pass_obj  # the CLI's State (studio.cli)


class ProvenanceFailure(StudioError):
    exit_code = 1


def errors_as_messages(fn):
    """ProvenanceErrors end the command with their one-line message (exit 1), never a traceback."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ProvenanceError as exc:
            raise ProvenanceFailure(str(exc)) from None
    return wrapper


def password_prompt(confirm: bool = False):
    if not sys.stdin.isatty():
        return None  # resolve_password then names the environment variable to set
    return lambda text: click.prompt(text, hide_input=True, confirmation_prompt=confirm)


def _echo_json(data) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True))


# -- keys -----------------------------------------------------------------------------------

@click.group("keys")
def keys_group():
    """Encrypted keystores for the signer and the owner."""


@keys_group.command("new")
@click.option("--role", type=click.Choice(["signer", "owner"]), required=True)
@click.option("--keystore", type=click.Path(dir_okay=False, path_type=Path),
              help="where to write it (default: SONGSTUDIO_<ROLE>_KEYSTORE, else <home>/keys/<role>.json); "
                   "never overwritten")
@pass_state
@errors_as_messages
def keys_new(state, role: str, keystore: Path | None):
    """Create a key, encrypted with SONGSTUDIO_<ROLE>_PASSWORD or a prompted password (8+ characters)."""
    path = keystore or state.settings.keystore(role)
    if keystore is None:
        state.settings.ensure_home()
    password = resolve_password(role=role, prompt=password_prompt(confirm=True))
    address = create_keystore(path, password=password, role=role)
    click.echo(f"{role} key {address} written to {path}")


@keys_group.command("address")
@click.option("--role", type=click.Choice(["signer", "owner"]), default="signer", show_default=True)
@click.option("--keystore", type=click.Path(dir_okay=False, path_type=Path), help="default: the role's keystore")
@pass_state
@errors_as_messages
def keys_address(state, role: str, keystore: Path | None):
    """Print a keystore's address (no password needed)."""
    click.echo(keystore_address(keystore or state.settings.keystore(role)))


# -- chain ----------------------------------------------------------------------------------

@click.group("chain")
def chain_group():
    """A local test chain (up/down), or deploy and inspect SongNFT on any chain."""


@chain_group.command("up")
@click.option("--port", type=int, help="port for a new anvil (default 8545, or a free one)")
@pass_state
@errors_as_messages
def chain_up(state, port: int | None):
    """Start a local anvil chain, create and fund the keys, deploy SongNFT, and save the settings."""
    chain = local_chain.chain_up(state.settings, prompt=password_prompt(), new_password_prompt=password_prompt(True),
                                 port=port)
    click.echo(f"anvil {'started' if chain.started else 'already running'} at {chain.rpc_url} "
               f"(chain {chain.chain_id}, pid {chain.pid})")
    click.echo(f"SongNFT {'deployed' if chain.deployed else 'found'} at {chain.contract}; "
               f"owner {chain.owner} (funded), signer {chain.signer}")
    click.echo(f"settings written to {state.settings.settings_file}: sign, mint and the Mint page use them now")
    overriding = [name for name, attr in minting.CHAIN_SETTINGS if getattr(state.settings, attr)]
    if overriding:
        click.echo(f"note: {', '.join(overriding)} set in the environment win over the settings file; unset them "
                   "to use this chain", err=True)


@chain_group.command("down")
@pass_state
def chain_down(state):
    """Stop the anvil that `chain up` started (its state is kept for the next `up`)."""
    stopped = local_chain.chain_down(state.settings)
    click.echo("anvil stopped" if stopped else "no anvil started by `chain up` is running")


@chain_group.command("deploy")
@click.option("--rpc", "rpc_url", required=True, metavar="URL", help="JSON-RPC endpoint of the chain")
@pass_state
@errors_as_messages
def chain_deploy(state, rpc_url: str):
    """Deploy SongNFT with the owner key (it pays the gas), trusting the signer key; saves the settings."""
    from provenance.chain import ChainClient  # noqa: PLC0415  (web3 is heavy; only for chain commands)

    settings = state.settings
    signer = keystore_address(settings.keystore("signer"))
    owner = minting.unlock_role(settings, "owner", prompt=password_prompt())
    client = ChainClient.connect(rpc_url)
    deployment = client.deploy(owner=owner, signer=signer)
    update_settings_file(settings, {"chain_rpc_url": rpc_url, "chain_id": deployment.chain_id,
                                    "chain_contract": deployment.address, "local_chain": None})
    _echo_json({"contract": deployment.address, "chain_id": deployment.chain_id, "tx_hash": deployment.tx_hash,
                "owner": deployment.owner, "signer": deployment.signer, "gas_used": deployment.gas_used,
                "settings_file": str(settings.settings_file)})


@chain_group.command("info")
@pass_state
@errors_as_messages
def chain_info(state):
    """Check the configured node and contract; print owner and signer."""
    client = minting.connect(state.settings)
    _echo_json({"rpc_url": minting.chain_config(state.settings).rpc_url, "contract": client.address,
                "chain_id": client.chain_id, "owner": client.owner(), "signer": client.signer()})


@chain_group.command("set-signer")
@click.argument("new_signer")
@pass_state
@errors_as_messages
def chain_set_signer(state, new_signer: str):
    """Rotate the signer (owner only); outstanding authorizations stop working."""
    client = minting.connect(state.settings)
    owner = minting.unlock_role(state.settings, "owner", prompt=password_prompt())
    click.echo(client.set_signer(new_signer, owner=owner))


# -- takes ----------------------------------------------------------------------------------

def _take(state, take_id: int):
    studio = state.studio()
    take = studio.library.get(take_id)
    return studio, take, studio.library.path(take)


@click.command("sign")
@click.argument("take_id", type=int)
@click.option("--to", "to", required=True, metavar="ADDRESS", help="wallet that will receive the token")
@pass_state
@errors_as_messages
def sign_command(state, take_id: int, to: str) -> None:
    """Sign a mint authorization for a take (signer key); records it as a pending mint and prints it."""
    studio, take, master = _take(state, take_id)
    minting.chain_config(state.settings)  # a missing chain is reported before any password is asked for
    minting.refuse_if_minted(studio.db, take)
    signer = minting.unlock_role(state.settings, "signer", prompt=password_prompt())
    signed = minting.sign_take(state.settings, studio.db, take, master, wallet=to, signer=signer)
    _echo_json({"mint_id": signed.row_id, "car": str(signed.content.car), **signed.signed.to_record()})


@click.command("mint")
@click.argument("take_id", type=int)
@click.option("--to", "to", required=True, metavar="ADDRESS", help="wallet that receives the token")
@pass_state
@errors_as_messages
def mint_command(state, take_id: int, to: str) -> None:
    """Sign and mint a take on the configured chain (gas paid by the owner key); prints the mint record."""
    studio, take, master = _take(state, take_id)
    minting.chain_config(state.settings)
    minting.refuse_if_minted(studio.db, take)
    signer = minting.unlock_role(state.settings, "signer", prompt=password_prompt())
    sender = minting.unlock_role(state.settings, "owner", prompt=password_prompt())
    signed, record = minting.mint_take(state.settings, studio.db, take, master, wallet=to, signer=signer,
                                       sender=sender)
    _echo_json({"mint_id": signed.row_id, "car": str(signed.content.car), "audio_cid": signed.content.audio_cid,
                "manifest_cid": signed.content.manifest_cid, **record.to_dict()})
    if record.status != MINTED:
        raise ProvenanceFailure(f"take {take.id} was not minted ({record.status}): {record.reason}")


@click.command("pin")
@click.argument("take_id", type=int)
@pass_state
@errors_as_messages
def pin_command(state, take_id: int) -> None:
    """Upload a take's CAR (audio + metadata) to the IPFS node at SONGSTUDIO_IPFS_API_URL, which pins it."""
    studio, take, master = _take(state, take_id)
    car, pinned = minting.pin_take(state.settings, studio.db, take, master)
    click.echo(f"pinned {', '.join(pinned)} from {car}")


@click.command("verify")
@click.argument("audio_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--trust-anchors", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="PEM CA certificates to trust (e.g. the studio's development CA)")
@click.option("--expected-hash", metavar="0xSHA256", help="audio hash the file should have (e.g. from the token)")
@click.option("--recipe", "recipe_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="check this recipe JSON instead of the one sealed in the file")
@click.option("--rerender", is_flag=True, help="re-run the recipe with the named weights and compare the audio")
@click.option("--manifest", "manifest_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="the file's C2PA sidecar manifest (default: the .c2pa file of the same name beside a FLAC)")
@pass_state
@errors_as_messages
def verify_command(state, audio_file: Path, trust_anchors: Path | None, expected_hash: str | None,
                   recipe_file: Path | None, rerender: bool, manifest_file: Path | None):
    """Report a file's hash, tags, C2PA manifest, recipe (against the chain) and, with --rerender,
    whether the recipe makes the same audio; exit 1 when anything disagrees."""
    ok = verification.verify(state.settings, audio_file, trust_anchors=trust_anchors, expected_hash=expected_hash,
                             recipe_file=recipe_file, rerender=rerender, echo=click.echo, manifest_file=manifest_file)
    if not ok:
        raise SystemExit(1)


COMMANDS = {command.name: command for command in (keys_group, chain_group, sign_command, mint_command, pin_command,
                                                    verify_command)}
