"""Parsing of user-supplied values into the exact forms the contract takes, with errors that
say what to fix."""

from __future__ import annotations

import re

from eth_utils import is_checksum_address, is_hex_address, to_checksum_address

from provenance.errors import InvalidInput

_BYTES32 = re.compile(r"0x[0-9a-fA-F]{64}")
UINT256_MAX = 2**256 - 1


def parse_address(value: object, *, what: str = "address") -> str:
    """A 20-byte hex address as a checksummed string. Mixed-case input must carry a valid
    EIP-55 checksum (a wrong one usually means a typo)."""
    if not isinstance(value, str) or not is_hex_address(value):
        raise InvalidInput(f"{what} must be a 0x-prefixed 20-byte hex address (42 characters), got {value!r}")
    body = value[2:]
    if body != body.lower() and body != body.upper() and not is_checksum_address(value):
        raise InvalidInput(f"{what} {value} has a wrong EIP-55 checksum; check it for typos")
    if int(value, 16) == 0:
        raise InvalidInput(f"{what} must not be the zero address")
    return to_checksum_address(value)


def parse_bytes32(value: object, *, what: str = "hash") -> bytes:
    """A 32-byte value given as `0x` + 64 hex digits (or as 32 raw bytes)."""
    if isinstance(value, (bytes, bytearray)) and len(value) == 32:
        return bytes(value)
    if not isinstance(value, str) or not _BYTES32.fullmatch(value):
        raise InvalidInput(f"{what} must be 0x followed by 64 hex digits (a sha256), got {value!r}")
    return bytes.fromhex(value[2:])


def parse_uint256(value: object, *, what: str) -> int:
    """A uint256 given as an int or a decimal string (how nonces are stored)."""
    if isinstance(value, bool):
        raise InvalidInput(f"{what} must be an unsigned integer, got {value!r}")
    if isinstance(value, str) and value.isdecimal():
        value = int(value)
    if not isinstance(value, int) or not 0 <= value <= UINT256_MAX:
        raise InvalidInput(f"{what} must be an integer from 0 to 2**256-1, got {value!r}")
    return value


def hex32(value: bytes) -> str:
    return "0x" + value.hex()
