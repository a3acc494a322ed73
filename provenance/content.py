"""IPFS content addresses (UnixFS CIDv1) for files of any size, and the CAR file that carries them.

The DAG is built by ipfs-unixfs-importer (npm, the IPFS project's own importer) under the IPIP-499
profile "unixfs-v1-2025": CIDv1, sha2-256, raw leaves, fixed 1 MiB chunks, a balanced tree of at
most 1024 links per node; a file of one chunk is a single raw block (so a small file's CID is
the raw CID of its bytes). `js/unixfs_car.mjs` runs it in Node, which the repo's package.json
installs (`npm ci`). The CAR's roots are exactly the returned CIDs, in order, so uploading it to
any IPFS node or pinning service that imports CARs serves those CIDs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from provenance.errors import ProvenanceError

PACKER = Path(__file__).with_name("js") / "unixfs_car.mjs"
LAYOUT = "unixfs-v1-2025 (CIDv1, sha2-256, raw leaves, 1 MiB chunks, balanced, 1024 links per node)"


class ContentError(ProvenanceError):
    """Content addresses could not be computed or the CAR not written."""


def file_cids(paths: list[Path], *, car: Path | None = None, timeout_s: float = 600.0) -> list[str]:
    """The UnixFS CIDv1 of each file, in order; with `car`, also a CARv1 holding all their blocks
    whose roots are exactly these CIDs (written to a temporary name, then renamed)."""
    node = shutil.which("node")
    if node is None:
        raise ContentError("content addresses need Node.js (`node` on PATH) and the repo's npm packages "
                           "(`npm ci` in the repository)")
    missing = [str(p) for p in paths if not Path(p).is_file()]
    if missing:
        raise ContentError(f"cannot address missing files: {', '.join(missing)}")
    request = {"files": [str(Path(p).resolve()) for p in paths], "car": str(Path(car).resolve()) if car else None}
    try:
        done = subprocess.run([node, str(PACKER)], input=json.dumps(request), capture_output=True, text=True,
                              timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise ContentError(f"computing content addresses took over {timeout_s:g} s") from None
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
        if "Cannot find package" in detail or "ERR_MODULE_NOT_FOUND" in detail:
            detail = "the npm packages are not installed; run `npm ci` in the repository"
        raise ContentError(f"computing content addresses failed: {detail}")
    cids = json.loads(done.stdout)["cids"]
    if len(cids) != len(paths):
        raise ContentError(f"the packer returned {len(cids)} addresses for {len(paths)} files")
    return cids


def bytes_cids(items: list[bytes], *, car: Path | None = None) -> list[str]:
    """`file_cids` for in-memory contents (e.g. metadata JSON)."""
    with tempfile.TemporaryDirectory(prefix="songstudio-cid-") as tmp:
        paths = []
        for i, data in enumerate(items):
            path = Path(tmp) / f"{i}.bin"
            path.write_bytes(data)
            paths.append(path)
        return file_cids(paths, car=car)
