"""`library export` on a bad destination: a clear error and no half-copied file."""

from __future__ import annotations

import errno
import os

import pytest

from studio import library as library_module
from studio.errors import EnvironmentProblem, NotFound
from tests.studio.test_jobs import make_worker


@pytest.fixture
def take(studio):
    studio.submit_music(prompt="export me", duration=0.5)
    make_worker(studio).run_next()
    return studio.library.takes_of_job(studio.jobs.list()[0].id)[0]


def test_unwritable_destination_is_named(studio, take, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(EnvironmentProblem, match="cannot create the export folder .*a-file/out"):
        studio.library.export(take.id, blocker / "out")


def test_full_disk_leaves_no_partial_copy(studio, take, tmp_path, monkeypatch):
    real_copy = library_module.shutil.copyfile

    def full_disk(src, dst):
        with open(src, "rb") as handle, open(dst, "wb") as out:
            out.write(handle.read(100))  # part of the copy reached the disk ...
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # ... then it filled

    monkeypatch.setattr(library_module.shutil, "copyfile", full_disk)
    dest = tmp_path / "out"
    with pytest.raises(EnvironmentProblem, match="disk full while writing .*export me take 1 - .*flac"):
        studio.library.export(take.id, dest)
    assert list(dest.iterdir()) == []
    monkeypatch.setattr(library_module.shutil, "copyfile", real_copy)
    assert [p.suffix for p in studio.library.export(take.id, dest)] == [".flac", ".c2pa", ".mp3", ".json"]


def test_the_master_travels_with_its_c2pa_sidecar(studio, take, tmp_path):
    from provenance.seal import verify_file

    exported = studio.library.export(take.id, tmp_path / "out", formats=("master",))
    assert [p.name for p in exported] == [f"export me take 1 - {take.id}.flac", f"export me take 1 - {take.id}.c2pa"]
    report = verify_file(exported[0])  # found beside the exported FLAC under its new name
    assert report.manifest.state == "untrusted" and report.manifest.sidecar == exported[1].name


def test_a_missing_library_file_is_named(studio, take, tmp_path):
    master = studio.library.path(take, "master")
    master.chmod(0o644)
    master.unlink()
    with pytest.raises(NotFound, match="master file .* is missing"):
        studio.library.export(take.id, tmp_path / "out")
