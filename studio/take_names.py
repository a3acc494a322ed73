"""Names of the takes of a song: the song's title and what made the take, e.g. "Dawn Road · take 3",
"Dawn Road · retake 2", "Dawn Road · repaint 0:12–0:20", "Dawn Road · extend -0:05–0:35"."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from studio.songs import take_title
from studio.tables import Song, Take

NUMBERED = {"text2music": "take", "retake": "retake", "edit": "edit", "audio2audio": "audio to audio"}


def clock(seconds: float) -> str:
    """m:ss, with a minus sign before the start of the source (an extend to the left)."""
    sign, whole = ("-" if seconds < 0 else ""), int(abs(seconds) + 0.5)
    return f"{sign}{whole // 60}:{whole % 60:02d}"


def made_by(request: dict[str, Any], *, number: int, index: int, count: int) -> str:
    """What made the take: "take 3" (numbered per kind within the song) or the region it redid."""
    task = str(request.get("task") or "text2music")
    start, end = request.get("region_start"), request.get("region_end")
    if task in ("repaint", "extend") and start is not None and end is not None:
        batch = f" ({index + 1})" if count > 1 else ""
        return f"{task} {clock(float(start))}–{clock(float(end))}{batch}"
    return f"{NUMBERED.get(task, task)} {number}"


def song_take_names(session: Session, song_id: int, request: dict[str, Any], count: int) -> list[tuple[str, str]]:
    """(title, made_by) for each of the `count` takes a job is about to store into the song."""
    song = session.get(Song, song_id)
    title = song.title if song is not None else ""
    task = str(request.get("task") or "text2music")
    earlier = session.exec(select(sa.func.count()).select_from(Take)
                           .where(Take.song_id == song_id, Take.task == task)).one()
    names = []
    for index in range(count):
        label = made_by(request, number=int(earlier) + index + 1, index=index, count=count)
        names.append((take_title(title, label), label))
    return names
