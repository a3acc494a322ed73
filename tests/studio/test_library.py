"""Search, filters, sort and paging over the library, on SQLite (FTS5) and PostgreSQL (tsvector)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from studio.db import Database
from studio.errors import BadInput, NotFound
from studio.library import TRASH_FILTERS, Library
from tests.studio.factories import add_takes, take_row

T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.network)])
def library(request, tmp_path):
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'lib.db'}")
    else:
        db = Database(request.getfixturevalue("pg_url"))
    db.migrate()
    yield Library(db, tmp_path / "media")
    db.dispose()


@pytest.fixture
def seeded(library):
    ids = add_takes(
        library.db,
        [
            take_row(1, title="Midnight Rain", prompt="lofi piano, rainy", engine="ace-step-v1",
                     created_at=T0, duration=30),
            take_row(2, title="Summer Drive", prompt="synthwave, upbeat", tags="roadtrip, retro",
                     engine="ace-step-1.5", created_at=T0 + timedelta(days=1), duration=95, favourite=True),
            take_row(3, title="Rain Dance", lyrics="[chorus]\ndancing in the rain tonight", engine="ace-step-v1",
                     created_at=T0 + timedelta(days=2), duration=180, rating=4),
            take_row(4, title="Café déjà vu", prompt="chanson, accordion", engine="ace-step-1.5",
                     created_at=T0 + timedelta(days=3), duration=60, trashed_at=T0 + timedelta(days=4)),
        ],
    )
    return library, ids


def titles(page):
    return [t.title for t in page.items]


def test_search_matches_every_word_as_prefix_across_fields(seeded):
    library, _ = seeded
    assert set(titles(library.search("rain"))) == {"Midnight Rain", "Rain Dance"}
    assert titles(library.search("rain danc")) == ["Rain Dance"]  # AND, last word a prefix, lyrics field
    assert titles(library.search("roadtrip")) == ["Summer Drive"]  # tags
    assert titles(library.search("synthwave")) == ["Summer Drive"]  # prompt
    assert titles(library.search("RAIN piano")) == ["Midnight Rain"]
    assert library.search("nothingmatches").total == 0


def test_search_ignores_query_syntax(seeded):
    library, _ = seeded
    assert titles(library.search('rain" OR NOT *')) == []  # words only: "rain", "or", "not"
    assert set(titles(library.search("rain)(-"))) == {"Midnight Rain", "Rain Dance"}
    with pytest.raises(BadInput):
        library.search("!!!")


def test_trash_is_hidden_unless_asked(seeded):
    library, ids = seeded
    # SQLite's tokenizer folds accents; PostgreSQL's 'simple' configuration does not.
    word = "cafe" if library.db.dialect == "sqlite" else "café"
    assert library.search(word).total == 0
    assert titles(library.search(word, trash="include")) == ["Café déjà vu"]
    assert titles(library.search(trash="only")) == ["Café déjà vu"]
    library.restore(ids[3])
    assert library.search(None).total == 4


def test_filters_sort_and_paging(seeded):
    library, _ = seeded
    assert titles(library.search(engine="ace-step-v1")) == ["Rain Dance", "Midnight Rain"]
    assert titles(library.search(favourite=True)) == ["Summer Drive"]
    assert titles(library.search(created_from=T0 + timedelta(days=1), created_to=T0 + timedelta(days=2))) == [
        "Summer Drive"
    ]
    assert titles(library.search(min_duration=60, max_duration=180)) == ["Rain Dance", "Summer Drive"]
    assert titles(library.search(sort="oldest")) == ["Midnight Rain", "Summer Drive", "Rain Dance"]
    assert titles(library.search(sort="title")) == ["Midnight Rain", "Rain Dance", "Summer Drive"]
    assert titles(library.search(sort="duration")) == ["Rain Dance", "Summer Drive", "Midnight Rain"]
    assert titles(library.search(sort="rating"))[0] == "Rain Dance"
    first = library.search(sort="oldest", limit=2)
    second = library.search(sort="oldest", limit=2, offset=2)
    assert (first.total, second.total) == (3, 3)
    assert titles(first) + titles(second) == ["Midnight Rain", "Summer Drive", "Rain Dance"]
    assert titles(library.search("rain", sort="relevance", limit=1)) in (["Midnight Rain"], ["Rain Dance"])
    with pytest.raises(BadInput):
        library.search(sort="loudness")
    with pytest.raises(BadInput):
        library.search(limit=0)


def test_index_follows_edits(seeded):
    library, ids = seeded
    library.update(ids[0], title="Neon Nights", tags=["night", "city"])
    assert library.search("midnight").total == 0
    assert titles(library.search("neon city")) == ["Neon Nights"]
    taken = library.update(ids[0], favourite=True, rating=5)
    assert taken.favourite and taken.rating == 5
    with pytest.raises(BadInput):
        library.update(ids[0], rating=9)
    with pytest.raises(NotFound):
        library.update(99999, title="x")


def test_lineage(library):
    parent_id = add_takes(library.db, [take_row(10)])[0]
    child_ids = add_takes(library.db, [take_row(11, parent_take_id=parent_id), take_row(12, parent_take_id=parent_id)])
    assert [t.id for t in library.children(parent_id)] == child_ids


def test_both_search_plans_and_the_count_cap_agree(seeded, monkeypatch):
    from studio import library as library_module

    library, _ = seeded
    few = [titles(library.search(q, sort=s)) for q in ("rain", "rain danc", "synth") for s in ("newest", "title")]
    monkeypatch.setattr(library_module, "FEW_HITS", 0)  # force the index walk with a membership test
    many = [titles(library.search(q, sort=s)) for q in ("rain", "rain danc", "synth") for s in ("newest", "title")]
    assert few == many and few[0] == ["Rain Dance", "Midnight Rain"]
    monkeypatch.setattr(library_module, "COUNT_CAP", 2)
    page = library.search(None, limit=1)
    assert (page.total, page.total_exact, len(page.items)) == (2, False, 1)
    page = library.search("summer")
    assert (page.total, page.total_exact) == (1, True)


def test_large_filtered_lists_sorted_by_another_column_are_exact(library):
    """Over MANY_ROWS matches SQLite walks the sort's index instead of the range's (a planner
    choice only): the page must be exactly the one a full sort gives, timestamps included."""
    from datetime import datetime, timedelta, timezone

    from studio.library import MANY_ROWS

    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    count = MANY_ROWS * 2 + 300
    plain = [(n, f"t{(n * 7919) % count:05d}", float(10 + (n * 37) % 200), start + timedelta(minutes=n))
             for n in range(1, count + 1)]  # (id, title, duration, created): ids follow insertion order
    add_takes(library.db, [take_row(n, title=title, duration=duration, created_at=created)
                           for n, title, duration, created in plain])
    expected = sorted((p for p in plain if 60 <= p[2] <= 150), key=lambda p: p[1])
    assert len(expected) > MANY_ROWS
    page = library.search(min_duration=60, max_duration=150, sort="title", limit=20, offset=40)
    assert [t.title for t in page.items] == [p[1] for p in expected[40:60]]
    assert page.total == len(expected)

    since = start + timedelta(minutes=500)
    expected = sorted((p for p in plain if p[3] >= since), key=lambda p: (-p[2], -p[0]))
    page = library.search(created_from=since, sort="duration", limit=10)
    assert [(t.id, t.duration) for t in page.items] == [(p[0], p[2]) for p in expected[:10]]
    assert page.total == len(expected)


def _relevance_oracle(library, word: str) -> list[tuple[int, str, bool]]:
    """Every take matching `word` (a prefix) as (id, engine, trashed), in the library's relevance
    order, ranked by the database's own function but sorted and filtered here, without the
    library's query plans."""
    import sqlalchemy as sa

    with library.db.engine.connect() as conn:
        if library.db.dialect == "sqlite":
            ranks = dict(conn.execute(sa.text("SELECT rowid, bm25(take_fts) FROM take_fts WHERE take_fts MATCH :m"),
                                      {"m": f'"{word}"*'}).all())
            key = lambda id_: (ranks[id_], -id_)  # noqa: E731  bm25: lower is better
        else:
            ranks = dict(conn.execute(sa.text("SELECT id, ts_rank(search, to_tsquery('simple', :q)) FROM take "
                                              "WHERE search @@ to_tsquery('simple', :q)"), {"q": f"{word}:*"}).all())
            key = lambda id_: (-ranks[id_], -id_)  # noqa: E731
        rows = conn.execute(sa.text("SELECT id, engine, trashed_at IS NOT NULL FROM take")).all()
    return sorted(((id_, engine, bool(trashed)) for id_, engine, trashed in rows if id_ in ranks),
                  key=lambda row: key(row[0]))


def test_relevance_pages_with_many_hits_ties_and_trash_are_exact(library, monkeypatch):
    """Relevance search over more hits than the count cap, with many tied ranks and trashed takes
    among the best hits: every page, total and total_exact are those of a plain sort of all
    hits, under each trash filter and combined with another filter."""
    from studio import library as library_module

    # 9 kinds of take (1-3 x "love", 0/2/5 other words): ranks tie within a kind
    rows = []
    for n in range(1, 271):
        kind = n % 10
        lyrics = "rain" if kind == 9 else " ".join(["love"] * (kind % 3 + 1) + ["glass"] * (0, 2, 5)[kind // 3])
        trashed = T0 if n % 4 == 0 or (kind == 2 and n > 150) else None  # kind 2 ranks best
        rows.append(take_row(n, lyrics=lyrics, engine=("ace-step-v1", "ace-step-1.5")[n % 2], trashed_at=trashed,
                             created_at=T0 + timedelta(minutes=n)))
    add_takes(library.db, rows)
    oracle = _relevance_oracle(library, "love")
    assert len(oracle) == 243 and oracle[0][2] and len({id_ for id_, _, _ in oracle}) == 243
    trashed_hits = sum(trashed for _, _, trashed in oracle)

    views = {
        "exclude": [id_ for id_, _, trashed in oracle if not trashed],
        "include": [id_ for id_, _, _ in oracle],
        "only": [id_ for id_, _, trashed in oracle if trashed],
    }
    # caps: below the hits less the trashed ones (total from the FTS index alone); exactly the
    # visible hits, fewer than all hits (must be counted); above every hit
    for cap in (60, 243 - trashed_hits, 1000):
        monkeypatch.setattr(library_module, "COUNT_CAP", cap)
        for trash, expected in views.items():
            for engine in (None, "ace-step-1.5"):
                wanted = [id_ for id_ in expected if engine is None or id_ % 2 == 1]
                got, offset = [], 0
                while offset <= len(wanted):
                    page = library.search("lov", sort="relevance", trash=trash, engine=engine, limit=7, offset=offset)
                    assert (page.total, page.total_exact) == (min(len(wanted), cap), len(wanted) <= cap)
                    got += [t.id for t in page.items]
                    offset += 7
                assert got == wanted, (cap, trash, engine)


@pytest.mark.parametrize("window", [1, 9, 26, 27, 100])
def test_relevance_ranks_the_newest_matches_of_its_window_then_the_rest_newest_first(library, window):
    """With a rank window, best match is: the `window` newest text matches (before filters) in
    relevance order, then every older match, newest first. Every page of every filter follows
    that one order; the total is unchanged; the page says when the window left matches unranked."""
    rows = []
    for n in range(1, 41):
        kind = n % 8
        lyrics = "rain" if kind == 7 else " ".join(["love"] * (kind % 4 + 1) + ["glass"] * (kind // 4) * 3)
        rows.append(take_row(n, lyrics=lyrics, engine=("ace-step-v1", "ace-step-1.5")[n % 2],
                             trashed_at=T0 if n % 5 == 0 else None, created_at=T0 + timedelta(minutes=n)))
    add_takes(library.db, rows)
    oracle = _relevance_oracle(library, "love")  # every hit, ranked
    assert len(oracle) == 35
    windowed = Library(library.db, library.media_dir, rank_window=window)
    newest = set(sorted(id_ for id_, _, _ in oracle)[-window:])
    order = [row for row in oracle if row[0] in newest] + sorted(
        (row for row in oracle if row[0] not in newest), key=lambda row: -row[0])
    for trash in TRASH_FILTERS:
        for engine in (None, "ace-step-1.5"):
            wanted = [id_ for id_, eng, trashed in order
                      if (engine is None or eng == engine)
                      and {"exclude": not trashed, "only": trashed, "include": True}[trash]]
            for limit in (4, 3):
                got, offset = [], 0
                while offset <= len(wanted):
                    page = windowed.search("lov", sort="relevance", trash=trash, engine=engine, limit=limit,
                                           offset=offset)
                    assert page.total == len(wanted) and page.rank_window == (window if window < 35 else None)
                    got += [t.id for t in page.items]
                    offset += limit
                assert got == wanted, (window, trash, engine, limit)
    # plain sorts and a search without matches past the window are not windowed
    assert windowed.search("lov", sort="newest").rank_window is None
    assert windowed.search("rain", sort="relevance").rank_window == (window if window < 5 else None)


def test_rank_window_comes_from_the_settings(settings, monkeypatch):
    from studio.service import Studio

    assert Studio.open(settings).library.rank_window == 25_000
    assert Studio.open(settings.model_copy(update={"search_rank_window": 0})).library.rank_window is None
    assert Studio.open(settings.model_copy(update={"search_rank_window": 7})).library.rank_window == 7
    with pytest.raises(BadInput, match="rank window"):
        Library(None, settings.home, rank_window=0)


def test_filtered_relevance_search_on_sqlite_is_driven_by_the_text_index(tmp_path):
    """With an index on a filtered column, SQLite could walk that index and run the full-text
    MATCH once per take (35 s at 100k takes): every statement that touches the FTS index must
    read it once, outermost, never by rowid."""
    import sqlalchemy as sa

    db = Database(f"sqlite:///{tmp_path / 'lib.db'}")
    db.migrate()
    add_takes(db, [take_row(n, lyrics="love " * (n % 3 + 1), engine=("a", "b")[n % 2], favourite=n % 5 == 0,
                            duration=float(n), created_at=T0 + timedelta(minutes=n),
                            trashed_at=T0 if n % 7 == 0 else None) for n in range(1, 60)])
    statements, ranked = [], []
    sa.event.listen(db.engine, "before_cursor_execute",
                    lambda conn, cursor, sql, params, *_: ranked and statements.append((sql, params)))
    for library in (Library(db, tmp_path / "media"), Library(db, tmp_path / "media", rank_window=5)):
        for filters in ({}, {"engine": "a"}, {"favourite": True}, {"min_duration": 10, "max_duration": 40},
                        {"created_from": T0 + timedelta(minutes=20)}):
            for trash in TRASH_FILTERS:
                expected = [t.id for t in library.search("love", sort="newest", trash=trash, limit=1000,
                                                         **filters).items]
                for offset, limit in ((0, 1000), (0, 3), (4, 3), (20, 3)):  # in, across and past the window
                    ranked.append(True)
                    page = library.search("love", sort="relevance", trash=trash, offset=offset, limit=limit,
                                          **filters)
                    ranked.clear()
                    assert set(t.id for t in page.items) <= set(expected) and expected, (filters, trash)
                    if limit == 1000:
                        assert sorted(t.id for t in page.items) == sorted(expected), (filters, trash)
    plans = []
    with db.engine.connect() as conn:
        for sql, params in statements:
            if "take_fts MATCH" in sql:
                plan = [row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all()]
                plans.append(plan)
                fts = [step for step in plan if "take_fts" in step]
                assert fts and all(":M" in step for step in fts), plan  # MATCH alone, no rowid lookups
                assert not any("USING INDEX" in step or "USING COVERING INDEX" in step for step in plan), plan
    assert len(plans) > 200
    db.dispose()
