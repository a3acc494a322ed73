"""Reading and curating the song library: search, filters, sort, paging, favourites, trash.

Search matches every word of the query as a prefix, over title, prompt, lyrics and tags:
SQLite through the FTS5 table `take_fts`, PostgreSQL through the `search` tsvector column
(both made by the first migration).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import col, select

from studio.db import Database
from studio.errors import BadInput, NotFound
from studio.tables import Take, now_utc

SORTS = {
    "newest": (col(Take.created_at).desc(), col(Take.id).desc()),
    "oldest": (col(Take.created_at).asc(), col(Take.id).asc()),
    "title": (col(Take.title).asc(), col(Take.id).asc()),
    "duration": (col(Take.duration).desc(), col(Take.id).desc()),
    "rating": (col(Take.rating).desc(), col(Take.created_at).desc(), col(Take.id).desc()),
}
TRASH_FILTERS = ("exclude", "only", "include")


@dataclass
class Page:
    items: list[Take]
    total: int
    offset: int
    limit: int


def search_words(text: str) -> list[str]:
    words = re.findall(r"\w+", text, flags=re.UNICODE)
    if not words:
        raise BadInput(f"search text {text!r} has no words to look for")
    return [w.lower() for w in words]


class Library:
    def __init__(self, db: Database, media_dir: Path) -> None:
        self.db = db
        self.media_dir = media_dir

    def search(
        self,
        text: str | None = None,
        *,
        engine: str | None = None,
        favourite: bool | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        min_duration: float | None = None,
        max_duration: float | None = None,
        trash: str = "exclude",
        sort: str = "newest",
        limit: int = 50,
        offset: int = 0,
    ) -> Page:
        if sort not in SORTS and not (sort == "relevance" and text):
            raise BadInput(f"unknown sort {sort!r}; use one of {', '.join(SORTS)}, or relevance with a search")
        if trash not in TRASH_FILTERS:
            raise BadInput(f"trash filter must be one of {', '.join(TRASH_FILTERS)}")
        if not (1 <= limit <= 1000) or offset < 0:
            raise BadInput("page size must be 1..1000 and the offset not negative")
        conditions = []
        rank = None
        if text:
            condition, rank = self._text_match(search_words(text))
            conditions.append(condition)
        if engine:
            conditions.append(Take.engine == engine)
        if favourite is not None:
            conditions.append(Take.favourite == favourite)
        if created_from is not None:
            conditions.append(col(Take.created_at) >= created_from)
        if created_to is not None:
            conditions.append(col(Take.created_at) < created_to)
        if min_duration is not None:
            conditions.append(col(Take.duration) >= min_duration)
        if max_duration is not None:
            conditions.append(col(Take.duration) <= max_duration)
        if trash == "exclude":
            conditions.append(col(Take.trashed_at).is_(None))
        elif trash == "only":
            conditions.append(col(Take.trashed_at).is_not(None))
        order = (rank, col(Take.id).desc()) if sort == "relevance" else SORTS[sort]
        with self.db.read() as session:
            total = session.exec(select(sa.func.count()).select_from(Take).where(*conditions)).one()
            items = session.exec(select(Take).where(*conditions).order_by(*order).offset(offset).limit(limit)).all()
        return Page(items=list(items), total=int(total), offset=offset, limit=limit)

    def _text_match(self, words: list[str]):
        if self.db.dialect == "sqlite":
            match = " ".join(f'"{w}"*' for w in words)  # quoted: no FTS5 syntax from users
            matched = sa.text("SELECT rowid FROM take_fts WHERE take_fts MATCH :match").bindparams(match=match)
            rank = sa.text(
                "(SELECT bm25(take_fts) FROM take_fts WHERE take_fts MATCH :rmatch AND take_fts.rowid = take.id)"
            ).bindparams(rmatch=match)
            return col(Take.id).in_(matched.columns(sa.column("rowid", sa.Integer))), rank
        if self.db.dialect == "postgresql":
            query = sa.func.to_tsquery("simple", " & ".join(f"{w}:*" for w in words))
            search = sa.literal_column("take.search")
            return search.op("@@")(query), sa.func.ts_rank(search, query).desc()
        # any other database: a plain substring match, slow but correct
        like = [sa.or_(*(sa.func.lower(c).contains(w) for c in (Take.title, Take.prompt, Take.lyrics, Take.tags)))
                for w in words]
        return sa.and_(*like), col(Take.created_at).desc()

    # -- single takes ------------------------------------------------------------------------

    def get(self, take_id: int) -> Take:
        with self.db.read() as session:
            take = session.get(Take, take_id)
        if take is None:
            raise NotFound(f"no take {take_id}; `songstudio library list` shows the takes")
        return take

    def takes_of_job(self, job_id: str) -> list[Take]:
        with self.db.read() as session:
            return list(session.exec(select(Take).where(Take.job_id == job_id).order_by(col(Take.take_index))).all())

    def children(self, take_id: int) -> list[Take]:
        with self.db.read() as session:
            return list(session.exec(select(Take).where(Take.parent_take_id == take_id).order_by(col(Take.id))).all())

    def path(self, take: Take, which: str = "master") -> Path:
        return self.media_dir / getattr(take, f"{which}_file")

    def update(self, take_id: int, *, title: str | None = None, favourite: bool | None = None,
               rating: int | None = None, tags: list[str] | None = None) -> Take:
        """Curate a take. The audio files never change; only these library fields do."""
        values: dict[str, object] = {}
        if title is not None:
            values["title"] = title
        if favourite is not None:
            values["favourite"] = favourite
        if rating is not None:
            if not 0 <= rating <= 5:
                raise BadInput("rating must be 0 (none) to 5")
            values["rating"] = rating
        if tags is not None:
            values["tags"] = ", ".join(t.strip() for t in tags if t.strip())
        return self._set(take_id, values)

    def trash(self, take_id: int) -> Take:
        return self._set(take_id, {"trashed_at": now_utc()})

    def restore(self, take_id: int) -> Take:
        return self._set(take_id, {"trashed_at": None})

    def _set(self, take_id: int, values: dict[str, object]) -> Take:
        if values:
            with self.db.write() as session:
                changed = session.exec(sa.update(Take).where(Take.id == take_id).values(**values)).rowcount
            if not changed:
                raise NotFound(f"no take {take_id}")
        return self.get(take_id)

    def export(self, take_id: int, dest: Path, *, formats: tuple[str, ...] = ("master", "mp3", "params")) -> list[Path]:
        """Copy a take's files out under readable names ("<title> - <id>.flac")."""
        take = self.get(take_id)
        dest.mkdir(parents=True, exist_ok=True)
        stem = re.sub(r"[^\w\- ]+", "", take.title).strip()[:60] or "take"
        out = []
        for which in formats:
            source = self.path(take, which)
            target = dest / f"{stem} - {take.id}{source.suffix}"
            shutil.copyfile(source, target)
            out.append(target)
        return out
