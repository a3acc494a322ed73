"""A second, independent UnixFS + CAR implementation for the tests, written from the specs
(UnixFS, DAG-PB, CARv1, IPIP-499 "unixfs-v1-2025"), sharing no code with the npm importer that
provenance.content runs: it checks that importer's CIDs and reads its CAR files back to bytes."""

from __future__ import annotations

import hashlib
from io import BytesIO

from multiformats import CID, multihash

CHUNK = 1024 * 1024
MAX_LINKS = 1024


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, wire: int) -> bytes:
    return _varint(number << 3 | wire)


def _bytes_field(number: int, data: bytes) -> bytes:
    return _field(number, 2) + _varint(len(data)) + data


def _cid(codec: str, block: bytes) -> CID:
    return CID("base32", 1, codec, multihash.digest(block, "sha2-256"))


def unixfs_cid(data: bytes) -> str:
    """CID of `data` imported as one file under unixfs-v1-2025 (balanced layout)."""
    # nodes: (cid, file bytes covered, total encoded size of the subtree)
    nodes = [(_cid("raw", chunk), len(chunk), len(chunk))
             for chunk in (data[i:i + CHUNK] for i in range(0, max(len(data), 1), CHUNK))]
    while len(nodes) > 1:
        parents = []
        for i in range(0, len(nodes), MAX_LINKS):
            group = nodes[i:i + MAX_LINKS]
            unixfs = _field(1, 0) + _varint(2)  # Type = File
            unixfs += _field(3, 0) + _varint(sum(n[1] for n in group))  # filesize
            for n in group:
                unixfs += _field(4, 0) + _varint(n[1])  # blocksizes
            block = b""
            for cid, _, tsize in group:  # PBNode: Links (field 2) before Data (field 1)
                link = _bytes_field(1, bytes(cid)) + _bytes_field(2, b"") + _field(3, 0) + _varint(tsize)
                block += _bytes_field(2, link)
            block += _bytes_field(1, unixfs)
            parents.append((_cid("dag-pb", block), sum(n[1] for n in group), len(block) + sum(n[2] for n in group)))
        nodes = parents
    return str(nodes[0][0])


# -- CARv1 reading -----------------------------------------------------------------------------

def _read_varint(stream: BytesIO) -> int | None:
    shift = value = 0
    while True:
        raw = stream.read(1)
        if not raw:
            return None if shift == 0 else _fail("truncated varint")
        value |= (raw[0] & 0x7F) << shift
        shift += 7
        if not raw[0] & 0x80:
            return value


def _fail(message: str):
    raise ValueError(message)


def _cbor(stream: BytesIO):
    """Just enough CBOR for a CAR header: maps, arrays, text, bytes, unsigned ints, tag 42."""
    head = stream.read(1)[0]
    major, info = head >> 5, head & 0x1F
    if info < 24:
        arg = info
    else:
        arg = int.from_bytes(stream.read(1 << (info - 24)), "big")
    if major == 0:
        return arg
    if major == 2:
        return stream.read(arg)
    if major == 3:
        return stream.read(arg).decode()
    if major == 4:
        return [_cbor(stream) for _ in range(arg)]
    if major == 5:
        return {_cbor(stream): _cbor(stream) for _ in range(arg)}
    if major == 6 and arg == 42:
        raw = _cbor(stream)
        return CID.decode(raw[1:])  # leading 0x00: the identity multibase prefix
    raise ValueError(f"unexpected CBOR item {head:#x}")


def read_car(data: bytes) -> tuple[list[str], dict[str, bytes]]:
    """(roots, {cid: block}) of a CARv1; each block's hash is checked against its CID."""
    stream = BytesIO(data)
    header_len = _read_varint(stream)
    header = _cbor(BytesIO(stream.read(header_len)))
    assert header["version"] == 1
    blocks: dict[str, bytes] = {}
    while (size := _read_varint(stream)) is not None:
        section = stream.read(size)
        cid_stream = BytesIO(section)
        version, codec = _read_varint(cid_stream), _read_varint(cid_stream)
        code, length = _read_varint(cid_stream), _read_varint(cid_stream)
        digest = cid_stream.read(length)
        assert version == 1 and code == 0x12, "sha2-256 CIDv1 blocks only"
        block = section[cid_stream.tell():]
        assert hashlib.sha256(block).digest() == digest, "a CAR block does not match its CID"
        blocks[str(CID("base32", 1, codec, ("sha2-256", digest)))] = block
    return [str(r.set(base="base32")) for r in header["roots"]], blocks


def _pb_links_and_data(block: bytes) -> tuple[list[str], bytes]:
    stream, links, data = BytesIO(block), [], b""
    while (key := _read_varint(stream)) is not None:
        value = stream.read(_read_varint(stream))
        if key >> 3 == 2:
            link = BytesIO(value)
            while (k := _read_varint(link)) is not None:
                if k & 7 == 2:
                    v = link.read(_read_varint(link))
                    if k >> 3 == 1:
                        links.append(str(CID.decode(v).set(base="base32")))
                else:
                    _read_varint(link)
        elif key >> 3 == 1:
            data = value
    return links, data


def unpack(root: str, blocks: dict[str, bytes]) -> bytes:
    """The file bytes under `root` (raw leaves and dag-pb file nodes)."""
    cid = CID.decode(root)
    block = blocks[root]
    if cid.codec.name == "raw":
        return block
    links, _ = _pb_links_and_data(block)
    return b"".join(unpack(link, blocks) for link in links)
