"""Uploading a CAR to an IPFS node over its HTTP RPC API (Kubo's `/api/v0/dag/import`, which also
pins the roots), so the CIDs a token names resolve. Standard library only (urllib)."""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from provenance.errors import ProvenanceError


class PinError(ProvenanceError):
    """The IPFS node did not take or pin the CAR."""


def import_car(api_url: str, car: Path, *, timeout_s: float = 300.0) -> list[str]:
    """POSTs the CAR to `<api_url>/api/v0/dag/import?pin-roots=true`; returns the roots the node
    pinned, or raises PinError with the node's own words."""
    boundary = f"songstudio-{secrets.token_hex(12)}"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{car.name}\"\r\n"
            "Content-Type: application/vnd.ipld.car\r\n\r\n").encode()
    body = head + car.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    url = api_url.rstrip("/") + "/api/v0/dag/import?" + urllib.parse.urlencode({"pin-roots": "true"})
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    parts = urllib.parse.urlsplit(api_url)  # shown without any user:password
    shown = parts._replace(netloc=f"{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}").geturl()
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            text = response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        raise PinError(f"the IPFS node at {shown} refused the CAR (HTTP {exc.code}): "
                       f"{exc.read().decode('utf-8', 'replace')[:300]}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise PinError(f"the IPFS node at {shown} did not answer ({getattr(exc, 'reason', exc)}); is it running "
                       "and is SONGSTUDIO_IPFS_API_URL right?") from None
    pinned = []
    for line in filter(None, text.splitlines()):
        root = json.loads(line).get("Root")
        if root is None:
            continue
        if root.get("PinErrorMsg"):
            raise PinError(f"the IPFS node did not pin {root['Cid']['/']}: {root['PinErrorMsg']}")
        pinned.append(root["Cid"]["/"])
    return pinned
