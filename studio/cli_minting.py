"""`songstudio sign TAKE` and `songstudio mint TAKE`: the provenance commands that know the library.

Keys, chain deployment and file verification come from `provenance.cli` as they are; these two map
a take to its sealed master and metadata, and record every authorization and mint in the library.
"""

from __future__ import annotations

import json

import click

from provenance.cli import errors_as_messages, password_prompt
from studio.errors import StudioError


def _take_and_master(studio, take_id: int):
    take = studio.library.get(take_id)
    return take, studio.library.path(take)


def _sign(state, take_id: int, to: str, audio_url: str | None):
    from studio.minting import record_signature, sign_take, unlock_role

    studio = state.studio()
    take, master = _take_and_master(studio, take_id)
    signer = unlock_role(state.settings, "signer", prompt=password_prompt())
    signed = sign_take(state.settings, take, master, wallet=to, signer=signer, audio_url=audio_url)
    return studio, take, signed, record_signature(studio.db, take.id, signed)


audio_url_option = click.option(
    "--audio-url", help="public address of the audio for the token metadata (default: ipfs:// CID of the master)")


def register(main: click.Group, pass_state) -> None:
    @main.command("sign")
    @click.argument("take_id", type=int)
    @click.option("--to", "to", required=True, metavar="ADDRESS", help="wallet that will receive the token")
    @audio_url_option
    @pass_state
    @errors_as_messages
    def sign(state, take_id: int, to: str, audio_url: str | None) -> None:
        """Sign a mint authorization for a take (signer key); records it as a pending mint and prints it."""
        _, _, signed, row_id = _sign(state, take_id, to, audio_url)
        click.echo(json.dumps({"mint_id": row_id, **signed.to_record()}, indent=2, sort_keys=True))

    @main.command("mint")
    @click.argument("take_id", type=int)
    @click.option("--to", "to", required=True, metavar="ADDRESS", help="wallet that receives the token")
    @audio_url_option
    @pass_state
    @errors_as_messages
    def mint(state, take_id: int, to: str, audio_url: str | None) -> None:
        """Sign and mint a take on the configured chain (gas paid by the owner key); prints the mint record."""
        from provenance.records import MINTED
        from studio.minting import mint_signed, unlock_role

        studio, take, signed, row_id = _sign(state, take_id, to, audio_url)
        sender = unlock_role(state.settings, "owner", prompt=password_prompt())
        record = mint_signed(state.settings, studio.db, take.id, signed, row_id=row_id, sender=sender)
        click.echo(json.dumps({"mint_id": row_id, **record.to_dict()}, indent=2, sort_keys=True))
        if record.status != MINTED:
            raise StudioError(f"take {take.id} was not minted ({record.status}): {record.reason}")
