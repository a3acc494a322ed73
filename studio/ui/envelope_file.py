"""Read the waveform envelope JSON the worker writes beside each take."""

from __future__ import annotations

import json
from pathlib import Path

from studio.records import TakeView
from studio.service import Studio
from studio.ui.waveform import Envelope


def read_envelope(path: Path, *, duration: float) -> Envelope | None:
    """The stored min/max envelope, or None when the file is unreadable (the page says so)."""
    try:
        data = json.loads(path.read_text())
        return Envelope(mins=list(data["min"]), maxs=list(data["max"]),
                        duration=float(data.get("duration") or duration))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def take_envelope(s: Studio, take: TakeView) -> Envelope | None:
    """The take's stored envelope, or None when it has none (or it is unreadable)."""
    path = s.file_path(take, "waveform")
    return read_envelope(path, duration=take.duration) if path.is_file() else None
