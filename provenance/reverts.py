"""Turns contract reverts into plain messages: the 4-byte selector is looked up among the
ABI's custom errors (SongNFT's and OpenZeppelin's), its arguments decoded and explained."""

from __future__ import annotations

import ast
from collections.abc import Callable

from eth_abi import decode as abi_decode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

from provenance.errors import ContractRevert

_ERROR_STRING = bytes.fromhex("08c379a0")  # Error(string)
_PANIC = bytes.fromhex("4e487b71")  # Panic(uint256)

# Plain explanations for the errors a studio user can hit; others fall back to "Name(args)".
_EXPLAIN: dict[str, Callable[..., str]] = {
    "InvalidSignature": lambda: (
        "the signature does not match this authorization and the contract's current signer "
        "(a changed to/uri/audio hash, another signer, another chain or contract, or a rotated signer)"),
    "AuthorizationExpired": lambda deadline, now: (
        f"the authorization expired (deadline {deadline}, block time {now}); request a new one"),
    "AudioAlreadyMinted": lambda audio_hash, token_id: (
        f"this audio (0x{audio_hash.hex()}) is already minted as token {token_id}"),
    "NonceAlreadyUsed": lambda nonce: f"nonce {nonce} was already used; request a new authorization",
    "ZeroSigner": lambda: "the signer must not be the zero address",
    "OwnableUnauthorizedAccount": lambda account: f"{account} is not the contract owner",
    "OwnableInvalidOwner": lambda owner: f"{owner} cannot be the owner",
    "ERC721InvalidReceiver": lambda receiver: (
        f"{receiver} cannot receive ERC-721 tokens (a contract without onERC721Received)"),
    "ERC721NonexistentToken": lambda token_id: f"token {token_id} does not exist",
}


class RevertDecoder:
    def __init__(self, abi: list[dict]):
        self._errors: dict[bytes, tuple[str, list[str]]] = {}
        for item in abi:
            if item.get("type") == "error":
                types = [_abi_type(i) for i in item["inputs"]]
                selector = function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})")
                self._errors[selector] = (item["name"], types)

    def decode(self, data: bytes, *, context: str) -> ContractRevert:
        """`context` says what was being done, e.g. "minting"; it starts the message."""
        error, args, detail = self._explain(data)
        return ContractRevert(f"{context}: {detail}", error=error, args=args)

    def _explain(self, data: bytes) -> tuple[str | None, tuple, str]:
        selector, payload = data[:4], data[4:]
        if selector == _ERROR_STRING:
            (reason,) = abi_decode(["string"], payload)
            return "Error", (reason,), f"the contract reverted: {reason}"
        if selector == _PANIC:
            (code,) = abi_decode(["uint256"], payload)
            return "Panic", (code,), f"the contract panicked (code 0x{code:x})"
        if selector not in self._errors:
            shown = "0x" + data.hex() if data else "no data"
            return None, (), f"the contract reverted ({shown})"
        name, types = self._errors[selector]
        args = tuple(to_checksum_address(v) if t == "address" else v
                     for t, v in zip(types, abi_decode(types, payload), strict=True))
        explain = _EXPLAIN.get(name)
        detail = explain(*args) if explain else f"{name}({', '.join(map(str, args))})"
        return name, args, f"{detail} [{name}]"


def revert_data(exc: BaseException) -> bytes | None:
    """The raw revert bytes carried by a web3 (HTTP nodes) or eth-tester exception, if any."""
    data = getattr(exc, "data", None)
    if isinstance(data, str) and data.startswith("0x"):
        return bytes.fromhex(data[2:])
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    message = str(exc.args[0]) if exc.args else ""
    # eth-tester reports `execution reverted: b'\x8b\xaaW\x9f'`: the bytes literal is the data.
    marker = "execution reverted: "
    if type(exc).__name__ == "TransactionFailed" and message.startswith(marker):
        literal = message[len(marker):]
        if literal.startswith(("b'", 'b"')):
            try:
                value = ast.literal_eval(literal)
            except (ValueError, SyntaxError):
                return None
            return value if isinstance(value, bytes) else None
    return None


def _abi_type(param: dict) -> str:
    if param["type"].startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in param["components"])
        return f"({inner}){param['type'][5:]}"
    return param["type"]
