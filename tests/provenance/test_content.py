"""#15 part 2: content addresses for any size, checked against an independent implementation,
and a CAR whose roots are exactly those CIDs and which unpacks to the exact bytes."""

from __future__ import annotations

import os
import shutil

import pytest

from provenance.content import ContentError, bytes_cids, file_cids
from provenance.metadata import ipfs_cid
from tests.provenance.unixfs_reference import CHUNK, read_car, unixfs_cid, unpack

pytestmark = pytest.mark.skipif(shutil.which("node") is None and not os.environ.get("CI"), reason="needs Node.js")

SIZES = [0, 5, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 12345]


def test_cids_match_the_independent_implementation_and_the_car_unpacks(tmp_path):
    contents = [os.urandom(size) for size in SIZES]
    contents[1] = b"hello"
    car = tmp_path / "take.car"
    cids = bytes_cids(contents, car=car)
    assert cids[1] == "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"  # `ipfs add --cid-version=1`
    assert cids == [unixfs_cid(data) for data in contents]
    assert cids[3] == ipfs_cid(contents[3])  # one chunk: the raw CID of the bytes
    assert cids[4].startswith("bafybei")  # over one chunk: a dag-pb root
    roots, blocks = read_car(car.read_bytes())
    assert roots == cids
    for cid, data in zip(cids, contents):
        assert unpack(cid, blocks) == data
    assert car.stat().st_mode & 0o777 == 0o600 and not list(tmp_path.glob("*.partial"))


@pytest.mark.slow
def test_a_four_minute_stereo_master_sized_file(tmp_path):
    data = os.urandom(240 * 44100 * 2 * 3)  # 4 minutes of 24-bit stereo at 44.1 kHz, ~63 MB
    path = tmp_path / "master.flac"
    path.write_bytes(data)
    car = tmp_path / "m.car"
    [cid] = file_cids([path], car=car)
    assert cid == unixfs_cid(data)
    roots, blocks = read_car(car.read_bytes())
    assert roots == [cid] and unpack(cid, blocks) == data


def test_missing_file_and_missing_node_are_clear(tmp_path, monkeypatch):
    with pytest.raises(ContentError, match="missing files"):
        file_cids([tmp_path / "nope.flac"])
    (tmp_path / "a").write_bytes(b"x")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ContentError, match="need Node.js"):
        file_cids([tmp_path / "a"])
