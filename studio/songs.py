"""Songs: the unit of a session. A song has a title, a lyric draft whose every saved edit is kept as
a numbered version (any one can be restored), notes, and the takes made for it.

Saving is idempotent: a save that changes nothing adds no version, so a page can save on every
run. Renaming a song renames its takes too ("<song> · <what made it>"), so the title names the
song everywhere. Search matches every word in the title, the draft's lyrics or the notes
(case-insensitive substring; songs are few next to takes, so no full-text index).
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlmodel import col, select

from lyrics.format import Lyrics, Section
from studio.db import Database
from studio.errors import BadInput, NotFound
from studio.records import Draft, DraftSection, SongVersionView, SongView, TakeView
from studio.tables import Song, SongVersion, Take, now_utc, utc

MAX_TITLE = 200
EMPTY_DRAFT = Draft(sections=(DraftSection(tag="verse", text=""),))
TITLE_SEPARATOR = " · "


def draft_lyrics(draft: Draft) -> str:
    """The draft as lyrics text (tags on their own lines, blank lines dropped), as Create sends it."""
    sections = tuple(Section(tag=s.tag, lines=tuple(line.strip() for line in s.text.splitlines() if line.strip()))
                     for s in draft.sections)
    return Lyrics(title="", sections=sections).render()


def draft_from_lyrics(text: str) -> Draft:
    """A draft for lyrics text: one section per tag, its lines as they are."""
    parsed = Lyrics.parse(text) if text.strip() else None
    if parsed is None or not parsed.sections:
        return EMPTY_DRAFT
    return Draft(sections=tuple(DraftSection(tag=s.tag, text="\n".join(s.lines)) for s in parsed.sections))


def take_title(song_title: str, made_by: str) -> str:
    return f"{song_title.strip() or 'Untitled'}{TITLE_SEPARATOR}{made_by}"


def _view(row: Song) -> SongView:
    return SongView(id=row.id, title=row.title, notes=row.notes, draft=Draft.from_json(row.draft), lyrics=row.lyrics,
                    version=row.version, created_at=utc(row.created_at), updated_at=utc(row.updated_at))


def _clean_title(title: str) -> str:
    """The title as typed (a reload shows exactly that), within the length limit."""
    if len(title) > MAX_TITLE:
        raise BadInput(f"a song title is at most {MAX_TITLE} characters; this one has {len(title)}")
    return title


class SongBook:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, *, title: str = "", draft: Draft | None = None, notes: str = "") -> SongView:
        """A new song; with a title, draft or notes its first version is saved too."""
        with self.db.write() as session:
            row = Song(title="", draft=EMPTY_DRAFT.to_json(""), lyrics="")
            session.add(row)
            session.flush()
            song_id = row.id
        if title or draft is not None or notes:
            return self.save(song_id, title=title, draft=draft, notes=notes)
        return self.get(song_id)

    def get(self, song_id: int) -> SongView:
        with self.db.read() as session:
            row = session.get(Song, song_id)
        if row is None:
            raise NotFound(f"no song {song_id}; the Library lists the songs")
        return _view(row)

    def find(self, song_id: int | None) -> SongView | None:
        """The song, or None for no id or an id this library does not have (a stale link)."""
        if song_id is None:
            return None
        try:
            return self.get(song_id)
        except NotFound:
            return None

    def latest(self) -> SongView | None:
        """The song edited last (what a new tab of Write opens)."""
        with self.db.read() as session:
            row = session.exec(select(Song).order_by(col(Song.updated_at).desc(), col(Song.id).desc()).limit(1)).first()
        return _view(row) if row is not None else None

    def save(self, song_id: int, *, title: str | None = None, draft: Draft | None = None,
             notes: str | None = None) -> SongView:
        """Store what changed as the song's next version; unchanged fields keep their value and a
        save that changes nothing adds no version."""
        with self.db.write() as session:
            row = session.get(Song, song_id)
            if row is None:
                raise NotFound(f"no song {song_id}; the Library lists the songs")
            new_title = row.title if title is None else _clean_title(title)
            new_draft = Draft.from_json(row.draft) if draft is None else draft
            new_notes = row.notes if notes is None else notes
            draft_json = new_draft.to_json(new_title)
            if (new_title, draft_json, new_notes) == (row.title, row.draft, row.notes) and row.version:
                return _view(row)
            renamed = new_title != row.title
            row.title, row.draft, row.notes = new_title, draft_json, new_notes
            row.lyrics = draft_lyrics(new_draft)
            row.version += 1
            row.updated_at = now_utc()
            session.add(row)
            session.add(SongVersion(song_id=song_id, number=row.version, title=new_title, notes=new_notes,
                                    draft=draft_json, lyrics=row.lyrics))
            if renamed:  # takes are named "<song> · <what made it>"
                session.exec(sa.update(Take).where(Take.song_id == song_id, Take.made_by != "")
                             .values(title=sa.literal(take_title(new_title, "")) + Take.made_by))
            session.flush()
            session.refresh(row)
            return _view(row)

    def versions(self, song_id: int) -> list[SongVersionView]:
        """Every saved version, newest first."""
        with self.db.read() as session:
            rows = session.exec(select(SongVersion).where(SongVersion.song_id == song_id)
                                .order_by(col(SongVersion.number).desc())).all()
        return [SongVersionView(number=r.number, title=r.title, notes=r.notes, draft=Draft.from_json(r.draft),
                                lyrics=r.lyrics, created_at=utc(r.created_at)) for r in rows]

    def restore(self, song_id: int, number: int) -> SongView:
        """Make version `number` the current draft again (as a new version: nothing is overwritten)."""
        with self.db.read() as session:
            old = session.exec(select(SongVersion).where(SongVersion.song_id == song_id,
                                                         SongVersion.number == number)).first()
        if old is None:
            raise NotFound(f"song {song_id} has no version {number}")
        return self.save(song_id, title=old.title, draft=Draft.from_json(old.draft), notes=old.notes)

    def search(self, text: str = "", *, offset: int = 0, limit: int = 20) -> tuple[list[SongView], int]:
        """Songs whose title, lyrics or notes contain every word of `text` (all songs when empty),
        last edited first; and how many match."""
        conditions = []
        for word in re.findall(r"\w+", text.lower(), flags=re.UNICODE):
            conditions.append(sa.or_(*(col(column).icontains(word, autoescape=True)
                                       for column in (Song.title, Song.lyrics, Song.notes))))
        with self.db.read() as session:
            total = session.exec(select(sa.func.count()).select_from(Song).where(*conditions)).one()
            rows = session.exec(select(Song).where(*conditions)
                                .order_by(col(Song.updated_at).desc(), col(Song.id).desc())
                                .offset(offset).limit(limit)).all()
        return [_view(r) for r in rows], int(total)

    def takes(self, song_ids: list[int], *, trashed: bool = False) -> dict[int, list[TakeView]]:
        """The takes of each song, oldest first (trashed ones only with `trashed`)."""
        if not song_ids:
            return {}
        query = select(Take).where(col(Take.song_id).in_(song_ids))
        if not trashed:
            query = query.where(col(Take.trashed_at).is_(None))
        with self.db.read() as session:
            rows = session.exec(query.order_by(col(Take.id))).all()
        out: dict[int, list[TakeView]] = {song_id: [] for song_id in song_ids}
        for row in rows:
            out[row.song_id].append(TakeView.of(row))
        return out
