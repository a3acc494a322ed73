"""C2PA manifest state of a take's master, as the provenance package reads it."""

from __future__ import annotations

from pathlib import Path

STATE_WORDS = {
    "trusted": "signed, and the signer is trusted here",
    "untrusted": "signed and intact; the signer is not in this machine's trust list",
    "invalid": "the file does not match its manifest (changed after signing)",
    "absent": "no manifest (none in the file, no .c2pa sidecar beside it)",
}


def c2pa_state(path: Path) -> str:
    try:
        from provenance.c2pa_manifest import read_manifest  # noqa: PLC0415  (needs the c2pa extra)
    except ImportError:
        return "not checked (install the c2pa extra)"
    if not path.is_file():
        return f"not checked: {path} is missing"
    report = read_manifest(path)
    words = STATE_WORDS.get(report.state, report.state)
    return f"{report.state}: {words}" + (f" ({', '.join(report.codes)})" if report.codes else "")
