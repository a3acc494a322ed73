"""Reading and curating the song library: search, filters, sort, paging, favourites, trash.

Search matches every word of the query (the last one as a prefix, as people type) over
title, prompt, lyrics and tags:
SQLite through the FTS5 table `take_fts`, PostgreSQL through the `search` tsvector column
(both made by the first migration). Best match (relevance) ranks the newest `rank_window`
matches and lists the older ones after them, newest first (docs/foundation.md, "Rank window").
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import col, select

from studio.audio_files import atomic_path
from studio.db import Database
from studio.errors import BadInput, EnvironmentProblem, NotFound
from studio.settings import DEFAULT_SEARCH_RANK_WINDOW
from studio.tables import Take, now_utc

SORTS = {  # column, descending?
    "newest": (("created_at", True), ("id", True)),
    "oldest": (("created_at", False), ("id", False)),
    "title": (("title", False), ("id", False)),
    "duration": (("duration", True), ("id", True)),
    "rating": (("rating", True), ("created_at", True), ("id", True)),
}
TRASH_FILTERS = ("exclude", "only", "include")
COUNT_CAP = 10_000  # totals above this are shown as "10000+": counting every row costs a full scan
MANY_ROWS = 1_000  # a filtered list with more matches than this walks its sort's index (SQLite)
FEW_HITS = 2_000  # a search with at most this many hits fetches them by id instead of walking an index


@dataclass
class Page:
    items: list[Take]
    total: int  # capped at COUNT_CAP
    offset: int
    limit: int
    total_exact: bool = True
    rank_window: int | None = None  # best match ranked only the newest this many text matches


def _column(name: str, *, indexable: bool):
    # SQLite's unary "+" keeps the planner from walking an index for this term: right when a
    # short list of search hits is cheaper to fetch by id and sort than the index is to walk.
    # The column's type is kept so that bound values are stored-format (timestamps).
    column = getattr(Take, name)
    return column if indexable else sa.literal_column(f"+take.{name}", type_=Take.__table__.c[name].type)


def _range_conditions(*, created_from, created_to, min_duration, max_duration, indexable: bool) -> list:
    created, duration = _column("created_at", indexable=indexable), _column("duration", indexable=indexable)
    bounds = [(created_from, lambda v: created >= v), (created_to, lambda v: created < v),
              (min_duration, lambda v: duration >= v), (max_duration, lambda v: duration <= v)]
    return [make(value) for value, make in bounds if value is not None]


def _order(sort: str, *, indexable: bool = True):
    return [(_column(n, indexable=indexable).desc() if desc else _column(n, indexable=indexable).asc())
            for n, desc in SORTS[sort]]


def _ranked(hit_ids):
    """The FTS hits with their bm25 `rank`, in the library's full relevance order (rank, then id
    descending), so that a LIMIT on it is exact even where ranks tie. SQLite only."""
    rowid, rank = sa.literal_column("rowid"), sa.literal_column("rank")
    return hit_ids.with_only_columns(rowid.label("rowid"), rank.label("rank")).order_by(rank.asc(), rowid.desc())


def search_words(text: str) -> list[str]:
    words = re.findall(r"\w+", text, flags=re.UNICODE)
    if not words:
        raise BadInput(f"search text {text!r} has no words to look for")
    return [w.lower() for w in words]


@dataclass
class _TextMatch:
    condition: object  # WHERE condition on `take`, or None (SQLite relevance joins `joined` instead)
    rank: object  # the relevance ORDER BY term, or None (SQLite relevance: Library._relevance_rows ranks)
    indexable: bool  # may the other conditions walk `take`'s indexes
    joined: object = None  # SQLite relevance: the FTS hits as a derived table (rowid), for counting
    fts_hits: object = None  # SQLite: the FTS rowid query, when the hits are many or ranked
    cutoff: int | None = None  # relevance: the rank window's oldest id; None when every match is ranked


class Library:
    """`rank_window`: best match ranks the newest this many text matches; None ranks them all."""

    def __init__(self, db: Database, media_dir: Path, *, rank_window: int | None = DEFAULT_SEARCH_RANK_WINDOW) -> None:
        if rank_window is not None and rank_window < 1:
            raise BadInput(f"the rank window must be at least 1 take (or None to rank every match), not {rank_window}")
        self.db = db
        self.media_dir = media_dir
        self.rank_window = rank_window

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
        words = search_words(text) if text else None
        with self.db.read() as session:  # one read transaction: window, counts and page see one snapshot
            return self._search(session, words, engine=engine, favourite=favourite, trash=trash, sort=sort,
                                limit=limit, offset=offset, ranges=dict(created_from=created_from,
                                created_to=created_to, min_duration=min_duration, max_duration=max_duration))

    def _search(self, session, words, *, engine, favourite, trash, sort, limit, offset, ranges) -> Page:
        text = bool(words)
        conditions = []
        joined = None  # SQLite relevance: the FTS hits as a derived table (rowid), for counting
        rank = None
        indexable = True
        fts_hits = None  # SQLite: the FTS rowid query, for counting without touching `take`
        match = None
        if words:
            match = self._text_match(session, words, ranked=sort == "relevance")
            joined, indexable, fts_hits = match.joined, match.indexable, match.fts_hits
            rank = match.rank
            conditions.append(match.condition)
        # SQLite relevance: the FTS hits must drive the join. Given an index on a filtered column,
        # SQLite would walk it and run the MATCH once per take (35 s for "love" + an engine at 100k).
        by_hits = joined is not None
        if engine:
            conditions.append(_column("engine", indexable=not by_hits) == engine)
        if favourite is not None:
            conditions.append(_column("favourite", indexable=not by_hits) == favourite)
        range_conditions = _range_conditions(**ranges, indexable=not by_hits)
        conditions += range_conditions
        trashed = _column("trashed_at", indexable=indexable)
        if trash == "exclude":
            conditions.append(trashed.is_(None))
        elif trash == "only":
            conditions.append(trashed.is_not(None))
        conditions = [c for c in conditions if c is not None]
        order = [rank, col(Take.id).desc()] if sort == "relevance" else _order(sort, indexable=indexable)
        matching = select(Take.id)
        rows = select(Take)
        if joined is not None:
            matching = matching.join(joined, joined.c.rowid == Take.id)
        filtered = bool(engine) or favourite is not None or bool(range_conditions)
        only_text = text and trash != "only" and not filtered
        total = None
        many = only_text and fts_hits is not None  # SQLite: many hits, or relevance
        hidden = self._trashed_count(session) if many and trash == "exclude" else 0
        if many:
            total = self._many_hits_total(session, fts_hits, hidden=hidden)
        if total is None:
            capped = matching.where(*conditions).limit(COUNT_CAP + 1).subquery()
            total = int(session.exec(select(sa.func.count()).select_from(capped)).one())
        if self._walk_sort_index(text=text, sort=sort, trash=trash, total=total, ranges=ranges):
            # many rows match a range on another column: SQLite would read them all through
            # the range's index and sort them; walking the sort's index stops after one page
            conditions = [c for c in conditions if not any(c is r for r in range_conditions)]
            conditions += _range_conditions(**ranges, indexable=False)
        if joined is not None:  # SQLite relevance
            items = self._relevance_rows(session, match, conditions, only_text=only_text, hidden=hidden,
                                         offset=offset, limit=limit)
        elif sort == "relevance" and match.cutoff is not None:  # PostgreSQL relevance past the window
            window, older = col(Take.id) >= match.cutoff, col(Take.id) < match.cutoff
            items = self._windowed_page(
                session, offset=offset, limit=limit,
                ranked=lambda o, n: list(session.exec(rows.where(*conditions, window).order_by(*order)
                                                      .offset(o).limit(n)).all()),
                shown_in_window=select(Take.id).where(*conditions, window),
                older=rows.where(*conditions, older).order_by(col(Take.id).desc()),
            )
        else:
            items = session.exec(rows.where(*conditions).order_by(*order).offset(offset).limit(limit)).all()
        windowed = match is not None and match.cutoff is not None
        return Page(items=list(items), total=min(total, COUNT_CAP), offset=offset, limit=limit,
                    total_exact=total <= COUNT_CAP, rank_window=self.rank_window if windowed else None)

    def _relevance_rows(self, session, match: _TextMatch, conditions, *, only_text: bool, hidden: int,
                        offset: int, limit: int) -> list[Take]:
        """One page in relevance order, SQLite: the rank window's hits by bm25 (every hit when there
        is no window), then the older hits, newest first. Each part reads only its rowid range of
        the FTS index, so bm25 runs for the window's hits alone."""
        rowid = sa.literal_column("rowid")
        if match.cutoff is None:
            return self._ranked_rows(session, match.fts_hits, conditions, only_text=only_text, hidden=hidden,
                                     offset=offset, limit=limit)
        window = match.fts_hits.where(rowid >= match.cutoff)
        in_window = window.subquery("window")
        older = match.fts_hits.where(rowid < match.cutoff).subquery("older")
        return self._windowed_page(
            session, offset=offset, limit=limit,
            ranked=lambda o, n: self._ranked_rows(session, window, conditions, only_text=only_text, hidden=hidden,
                                                  offset=o, limit=n),
            shown_in_window=select(Take.id).join(in_window, in_window.c.rowid == Take.id).where(*conditions),
            older=select(Take).join(older, older.c.rowid == Take.id).where(*conditions).order_by(older.c.rowid.desc()),
        )

    def _windowed_page(self, session, *, offset: int, limit: int, ranked, shown_in_window, older) -> list[Take]:
        """One page of the windowed relevance order: `ranked(offset, limit)` pages through the
        window's matches by rank, `shown_in_window` selects the ids of those that pass the filters,
        `older` is the other matches newest first."""
        items = []
        if offset < self.rank_window:  # the window holds exactly rank_window matches, some maybe filtered out
            items = ranked(offset, limit)
        if len(items) == limit:
            return items
        if items:
            before = offset + len(items)
        else:  # the page starts past the window: how many of its matches pass the filters
            before = int(session.exec(select(sa.func.count()).select_from(shown_in_window.subquery())).one())
        return items + list(session.exec(older.offset(max(0, offset - before)).limit(limit - len(items))).all())

    @staticmethod
    def _ranked_rows(session, hits, conditions, *, only_text: bool, hidden: int, offset: int,
                     limit: int) -> list[Take]:
        """One page of these FTS hits' takes by bm25 (then id descending). SQLite."""
        if only_text:
            # Rank the FTS hits alone and join `take` for the top ones only: at most `hidden` of
            # the hits are trashed, so the first offset + limit + hidden hold the whole page.
            ranked = _ranked(hits).limit(offset + limit + hidden).subquery("top")
        else:
            ranked = _ranked(hits).order_by(None).subquery("hits")
        query = (select(Take).join(ranked, ranked.c.rowid == Take.id).where(*conditions)
                 .order_by(ranked.c.rank.asc(), col(Take.id).desc()).offset(offset).limit(limit))
        return list(session.exec(query).all())

    def _walk_sort_index(self, *, text, sort: str, trash: str, total: int, ranges: dict) -> bool:
        if text or trash != "exclude" or sort not in SORTS or total <= MANY_ROWS:
            return False
        if self.db.engine.dialect.name != "sqlite":
            return False
        filtered = {"created_at": ranges["created_from"] is not None or ranges["created_to"] is not None,
                    "duration": ranges["min_duration"] is not None or ranges["max_duration"] is not None}
        return any(filtered.values()) and not filtered.get(SORTS[sort][0][0], False)

    @staticmethod
    def _trashed_count(session) -> int:
        return int(session.exec(
            select(sa.func.count()).select_from(Take).where(col(Take.trashed_at).is_not(None))
        ).one())

    @staticmethod
    def _many_hits_total(session, fts_hits, *, hidden: int) -> int | None:
        """The capped total of a plain search, from the FTS index alone when it is certainly
        above the cap: more hits than the cap plus every hidden (trashed) take. None: count exactly."""
        probe = fts_hits.limit(COUNT_CAP + hidden + 1).subquery()
        hits = int(session.exec(select(sa.func.count()).select_from(probe)).one())
        return COUNT_CAP + 1 if hits > COUNT_CAP + hidden else None

    def _text_match(self, session, words: list[str], *, ranked: bool) -> _TextMatch:
        if self.db.dialect == "sqlite":
            # Quoted terms, so no FTS5 syntax reaches the index from users; the last word is a
            # prefix (people search as they type), the others whole words (cheaper to look up).
            match = " ".join([f'"{w}"' for w in words[:-1]] + [f'"{words[-1]}"*'])
            fts = sa.text("take_fts MATCH :match").bindparams(match=match)
            rowid = sa.literal_column("rowid")
            hit_ids = sa.select(rowid).select_from(sa.text("take_fts")).where(fts)
            if ranked:
                cutoff = self._window_cutoff(session, hit_ids.order_by(rowid.desc()))
                return _TextMatch(None, None, False, hit_ids.subquery("hits"), hit_ids, cutoff)
            few = session.exec(hit_ids.limit(FEW_HITS + 1)).all()
            if len(few) <= FEW_HITS:  # fetch these by id and sort them
                return _TextMatch(col(Take.id).in_([row[0] for row in few]), None, False)
            return _TextMatch(col(Take.id).in_(hit_ids), None, True, fts_hits=hit_ids)  # walk the sort index
        if self.db.dialect == "postgresql":
            terms = [f"{w}" for w in words[:-1]] + [f"{words[-1]}:*"]
            query = sa.func.to_tsquery("simple", " & ".join(terms))
            search = sa.literal_column("take.search")
            condition = search.op("@@")(query)
            cutoff = None
            if ranked:
                newest_first = sa.select(col(Take.id)).where(condition).order_by(col(Take.id).desc())
                cutoff = self._window_cutoff(session, newest_first)
            return _TextMatch(condition, sa.func.ts_rank(search, query).desc(), True, cutoff=cutoff)
        # any other database: a plain substring match, slow but correct
        like = [sa.or_(*(sa.func.lower(c).contains(w) for c in (Take.title, Take.prompt, Take.lyrics, Take.tags)))
                for w in words]
        return _TextMatch(sa.and_(*like), col(Take.created_at).desc(), True)

    def _window_cutoff(self, session, newest_first) -> int | None:
        """The id of the rank window's oldest match (the `rank_window`-th newest), or None when
        every match fits in the window."""
        if self.rank_window is None:
            return None
        rows = session.exec(newest_first.offset(self.rank_window - 1).limit(2)).all()
        return int(rows[0][0]) if len(rows) == 2 else None

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

    def children_counts(self, take_ids: list[int]) -> dict[int, int]:
        """How many takes were made from each of `take_ids`, in one grouped query (for a list page)."""
        if not take_ids:
            return {}
        with self.db.read() as session:
            rows = session.exec(select(Take.parent_take_id, sa.func.count()).where(col(Take.parent_take_id).in_(take_ids))
                                .group_by(Take.parent_take_id)).all()
        return {parent: count for parent, count in rows}

    def path(self, take: Take, which: str = "master") -> Path:
        return self.media_dir / getattr(take, f"{which}_file")

    def manifest_path(self, take: Take) -> Path | None:
        """The master's C2PA sidecar manifest (`master.c2pa` beside `master.flac`), when it has one."""
        sidecar = self.path(take).with_suffix(".c2pa")
        return sidecar if sidecar.is_file() else None

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
        """Copy a take's files out under readable names ("<title> - <id>.flac"). The master travels
        with its C2PA sidecar manifest ("<title> - <id>.c2pa", the same name, as C2PA readers
        look for it), without which its signed provenance is lost."""

        take = self.get(take_id)
        try:
            dest.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise EnvironmentProblem(f"cannot create the export folder {dest}: {exc.strerror or exc}; "
                                     "give a writable folder") from None
        stem = " ".join(re.sub(r"[^\w\- ]+", " ", take.title).split())[:60] or "take"
        out = []
        for which in formats:
            source = self.path(take, which)
            if not source.is_file():
                raise NotFound(f"take {take.id}'s {which} file {source} is missing from the library folder")
            sources = [source]
            if which == "master" and self.manifest_path(take) is not None:
                sources.append(self.manifest_path(take))
            for source in sources:
                target = dest / f"{stem} - {take.id}{source.suffix}"
                with atomic_path(target) as tmp:  # a full disk leaves no half-copied file
                    shutil.copyfile(source, tmp)
                out.append(target)
        return out
