"""A local test chain in one step (`songstudio chain up` / `chain down`, and the Mint page).

`up` starts anvil (Foundry's local node, from the repo's npm packages) on 127.0.0.1, or reuses
the one it started before; creates the owner and signer keystores where none exist; funds the
owner on that chain (anvil_setBalance: the signer needs no ETH); deploys SongNFT trusting the
signer; and writes chain_rpc_url, chain_id and chain_contract to the studio's settings file,
which signing and minting read at every use, so a running studio needs no restart. anvil keeps
its state in `<home>/chain/state.json` (written when it stops, loaded when it starts), so a
second `up` finds the same contract and tokens again. `down` stops the anvil that `up` started.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from provenance.keys import create_keystore, keystore_address, resolve_password, unlock
from studio.errors import BadInput, EnvironmentProblem
from studio.settings import Settings, read_settings_file, update_settings_file

REPO = Path(__file__).resolve().parents[1]
DEFAULT_PORT = 8545
OWNER_FUNDS_WEI = 100 * 10**18
START_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class LocalChain:
    rpc_url: str
    chain_id: int
    contract: str
    owner: str
    signer: str
    pid: int
    started: bool  # False: an anvil from an earlier `up` was reused
    deployed: bool  # False: the contract from an earlier `up` was still there


def chain_dir(settings: Settings) -> Path:
    return settings.home / "chain"


def anvil_binary() -> str:
    found = shutil.which("anvil") or (REPO / "node_modules" / ".bin" / "anvil")
    if not Path(found).exists():
        raise EnvironmentProblem("anvil is not installed: run `npm ci` in the repository (it installs "
                                 "@foundry-rs/anvil-linux-amd64), or put Foundry's anvil on PATH")
    return str(found)


def _process_file(settings: Settings) -> Path:
    return chain_dir(settings) / "anvil.json"


def _running(settings: Settings) -> dict | None:
    """The anvil an earlier `up` started, if it still runs."""
    try:
        info = json.loads(_process_file(settings).read_text())
        cmdline = Path(f"/proc/{info['pid']}/cmdline").read_bytes()
    except (OSError, ValueError, KeyError):
        return None
    return info if b"anvil" in cmdline else None


def _free_port(preferred: int) -> int:
    for port in (preferred, 0):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise EnvironmentProblem("no free port on 127.0.0.1 for anvil")


def _start_anvil(settings: Settings, port: int | None) -> dict:
    folder = chain_dir(settings)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    port = _free_port(port or DEFAULT_PORT)
    log = (folder / "anvil.log").open("ab")
    process = subprocess.Popen(
        [anvil_binary(), "--host", "127.0.0.1", "--port", str(port), "--state", str(folder / "state.json"),
         "--silent"],
        stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)  # outlives this command
    info = {"pid": process.pid, "rpc_url": f"http://127.0.0.1:{port}"}
    _process_file(settings).write_text(json.dumps(info))
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EnvironmentProblem(f"anvil stopped at start (exit {process.returncode}); see {folder / 'anvil.log'}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return info
        except OSError:
            time.sleep(0.2)
    raise EnvironmentProblem(f"anvil did not answer on port {port} within {START_TIMEOUT_S:g} s")


def _password(role: str, passwords: dict[str, str | None], prompt: Callable[[str], str] | None) -> str:
    return passwords.get(role) or resolve_password(role=role, prompt=prompt)


def _ensure_keystore(settings: Settings, role: str, password: Callable[[], str]) -> str:
    path = settings.keystore(role)
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        create_keystore(path, password=password(), role=role)
    return keystore_address(path)


def chain_up(settings: Settings, *, prompt: Callable[[str], str] | None = None,
             new_password_prompt: Callable[[str], str] | None = None, port: int | None = None,
             passwords: dict[str, str | None] | None = None) -> LocalChain:
    """Start or reuse anvil, make the keys, fund the owner, deploy, and write the settings file.
    Passwords: `passwords[role]` (the Mint page), else SONGSTUDIO_<ROLE>_PASSWORD, else the prompt."""
    from provenance.chain import ChainClient  # noqa: PLC0415  (web3 is heavy; only here)

    passwords = passwords or {}
    settings.ensure_home()
    stored = read_settings_file(settings)
    if stored.get("chain_contract") and not stored.get("local_chain"):
        raise BadInput(f"{settings.settings_file} names a chain set up with `songstudio chain deploy` "
                       f"({stored.get('chain_rpc_url')}); remove its chain_* entries to use a local test chain")
    signer = _ensure_keystore(settings, "signer", lambda: _password("signer", passwords, new_password_prompt))
    owner = _ensure_keystore(settings, "owner", lambda: _password("owner", passwords, new_password_prompt))
    info = _running(settings)
    started = info is None
    if started:
        info = _start_anvil(settings, port)
    client = ChainClient.connect(info["rpc_url"])
    client.w3.provider.make_request("anvil_setBalance", [owner, hex(OWNER_FUNDS_WEI)])
    contract = stored.get("chain_contract")  # anvil reloads its state: an earlier deployment may be there
    deployed = not (contract and _usable(client, contract, signer))
    if deployed:
        owner_key = unlock(settings.keystore("owner"), password=_password("owner", passwords, prompt), role="owner")
        contract = client.deploy(owner=owner_key, signer=signer).address
    update_settings_file(settings, {"chain_rpc_url": info["rpc_url"], "chain_id": client.chain_id,
                                    "chain_contract": contract, "local_chain": True})
    return LocalChain(rpc_url=info["rpc_url"], chain_id=client.chain_id, contract=contract, owner=owner,
                      signer=signer, pid=info["pid"], started=started, deployed=deployed)


def _usable(client, contract: str, signer: str) -> bool:
    """The contract of an earlier `up` still exists on this node and trusts this signer."""
    if not client.w3.eth.get_code(contract):
        return False
    return client.with_contract(contract, chain_id=client.chain_id).signer() == signer


def chain_down(settings: Settings, *, timeout_s: float = 15.0) -> bool:
    """Stop the anvil that `up` started (it writes its state first). False: none was running."""
    info = _running(settings)
    if info is None:
        _process_file(settings).unlink(missing_ok=True)
        return False
    os.kill(info["pid"], signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and _running(settings) is not None:
        time.sleep(0.1)
    if _running(settings) is not None:
        raise EnvironmentProblem(f"anvil (pid {info['pid']}) did not stop within {timeout_s:g} s")
    _process_file(settings).unlink(missing_ok=True)
    return True

