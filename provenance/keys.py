"""Encrypted keystores for the two studio keys, and a key holder that never shows its key.

Roles: the *signer* signs mint authorizations (it needs no ETH and never sends transactions);
the *owner* deploys the contract and rotates the signer. They must be different keys.
Passwords come from an environment variable (SONGSTUDIO_<ROLE>_PASSWORD) or a prompt.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from provenance.errors import InvalidInput, KeystoreError, WrongPassword
from provenance.validate import parse_address

ROLES = ("signer", "owner")
MIN_PASSWORD_LENGTH = 8  # scrypt slows guessing, but a 1-character password is still guessed at once


def password_env_var(role: str) -> str:
    _check_role(role)
    return f"SONGSTUDIO_{role.upper()}_PASSWORD"


class UnlockedKey:
    """A decrypted key and its role. It signs but never reveals the key: no attribute holds
    it in plain view, repr shows only role and address, and it cannot be pickled."""

    __slots__ = ("_account", "role")

    def __init__(self, account: LocalAccount, *, role: str):
        _check_role(role)
        self._account = account
        self.role = role

    @property
    def address(self) -> str:
        return self._account.address

    def sign_typed_data(self, *, domain: dict, types: dict, message: dict) -> bytes:
        return bytes(self._account.sign_typed_data(domain, types, message).signature)

    def sign_transaction(self, transaction: dict) -> bytes:
        return bytes(self._account.sign_transaction(transaction).raw_transaction)

    def __repr__(self) -> str:
        return f"<UnlockedKey role={self.role} address={self.address}>"

    __str__ = __repr__

    def __reduce__(self):
        raise TypeError("an unlocked key cannot be pickled or copied out of the process")


def resolve_password(*, role: str, env: Mapping[str, str] | None = None,
                     prompt: Callable[[str], str] | None = None) -> str:
    """The keystore password for `role`: its environment variable if set, else `prompt`.
    With neither, a clear error naming the variable."""
    env = os.environ if env is None else env
    var = password_env_var(role)
    password = env.get(var)
    if password is None and prompt is not None:
        password = prompt(f"Password for the {role} keystore")
    if password is None:
        raise KeystoreError(f"no password for the {role} keystore: set {var} or run interactively to be prompted")
    if not password:
        raise KeystoreError(f"the password for the {role} keystore is empty ({var} or the prompt)")
    return password


def create_keystore(path: str | Path, *, password: str, role: str, kdf: str = "scrypt",
                    iterations: int | None = None) -> str:
    """Generates a new key, writes it encrypted to `path` (mode 0600, never overwriting an
    existing file) and returns its address."""
    _check_role(role)
    check_new_password(password, role=role)
    path = Path(path)
    if path.exists():
        raise KeystoreError(f"keystore {path} already exists; remove it first or choose another path")
    account = Account.create()
    keystore = Account.encrypt(account.key, password, kdf=kdf, iterations=iterations)
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)  # a keys folder made here is owner-only
        path.parent.chmod(0o700)  # whatever the umask
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mkstemp files are 0600
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(keystore, f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return account.address


def check_new_password(password: str, *, role: str) -> None:
    """A new keystore's password: at least MIN_PASSWORD_LENGTH characters."""
    if not password:
        raise KeystoreError(f"refusing to write the {role} keystore with an empty password")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise KeystoreError(f"the password for the new {role} keystore is too short: use at least "
                            f"{MIN_PASSWORD_LENGTH} characters ({password_env_var(role)} or the prompt)")


def keystore_address(path: str | Path) -> str:
    """The address of a keystore, read without decrypting it."""
    data = _read_keystore(Path(path))
    try:
        return parse_address("0x" + str(data["address"]).removeprefix("0x"), what=f"address in keystore {path}")
    except (KeyError, InvalidInput):
        raise KeystoreError(f"keystore {path} has no valid 'address' field") from None


def unlock(path: str | Path, *, password: str, role: str, password_from: str | None = None) -> UnlockedKey:
    """Decrypts the keystore at `path` for `role`. `password_from` says where the password came
    from, for the wrong-password message (default: the role's variable or the prompt)."""
    _check_role(role)
    path = Path(path)
    data = _read_keystore(path)
    try:
        key = Account.decrypt(data, password)
    except ValueError as exc:
        if "MAC mismatch" in str(exc):
            raise WrongPassword(f"wrong password for the {role} keystore {path} "
                                f"({password_from or 'from ' + password_env_var(role) + ' or the prompt'})") from None
        raise KeystoreError(f"keystore {path} cannot be decrypted: {exc}") from None
    return UnlockedKey(Account.from_key(key), role=role)


def ensure_distinct(signer: str, owner: str) -> None:
    """The signer and the owner must be different keys (a leaked signer must not own the contract)."""
    if parse_address(signer, what="signer address") == parse_address(owner, what="owner address"):
        raise KeystoreError("the signer key and the owner key are the same; create a separate signer keystore")


def _read_keystore(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise KeystoreError(f"keystore not found: {path} (create one with `songstudio keys new`)") from None
    except (OSError, ValueError) as exc:
        raise KeystoreError(f"keystore {path} is not readable JSON: {exc}") from None
    if not isinstance(data, dict) or "crypto" not in data and "Crypto" not in data:
        raise KeystoreError(f"{path} is not an encrypted keystore (no 'crypto' section)")
    return data


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidInput(f"key role must be one of {', '.join(ROLES)}, got {role!r}")
