"""Dates as people read them, never unix times: '2026-12-06 02:49 UTC (in 59 min)'."""

from __future__ import annotations

import time
from datetime import datetime, timezone


def unix_date(seconds: int | float, *, now: float | None = None) -> str:
    """A unix timestamp (e.g. a mint authorization's deadline) as a UTC date and how far off it is."""
    when = datetime.fromtimestamp(float(seconds), tz=timezone.utc)
    left = float(seconds) - (time.time() if now is None else now)
    minutes = round(abs(left) / 60)
    span = f"{minutes} min" if minutes < 120 else f"{minutes / 60:.0f} h" if minutes < 2880 else f"{minutes / 1440:.0f} days"
    relative = f"in {span}" if left >= 0 else f"{span} ago"
    return f"{when:%Y-%m-%d %H:%M} UTC ({relative})"
