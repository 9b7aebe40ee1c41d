"""GET /api/cert/lookup and GET /api/registry/search: matching, paging, errors, and the query plans."""

from __future__ import annotations

import json

import pytest

from api import certificates
from api.crypto import b64e
from api.db import is_sqlite
from api.models import Certificate
from api.public_id import key as public_id_key
from api.search import SEARCH_DEFAULT_LIMIT

from .support import BASE_URL, assert_error

pytestmark = pytest.mark.usefixtures("fixed_clock")


def search(client, q, **params):
    return client.simulate_get("/api/registry/search", params={"q": q, **params})


def walk(client, q, limit):
    """Every page of a search; returns the public ids in order and the number of pages."""
    ids, cursor, pages = [], None, 0
    while True:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        answer = search(client, q, **params)
        assert answer.status_code == 200, answer.text
        pages += 1
        ids += [r["public_id"] for r in answer.json["results"]]
        cursor = answer.json["next_cursor"]
        if cursor is None:
            return ids, pages
        assert pages < 50


# -- lookup -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["GS-BC-H-26-1", "gs-bc-h-26-1", "  GSBCH261 ", "gs bc h 26 1"])
def test_lookup_by_public_id_in_any_form(client, issued, raw):
    issued()
    answer = client.simulate_get("/api/cert/lookup", params={"id": raw})
    assert answer.status_code == 200, answer.text
    assert answer.json["public_id"] == "GS-BC-H-26-1"
    assert answer.json["public_url"] == f"{BASE_URL}/r/GS-BC-H-26-1"


def test_lookup_errors(client, issued):
    issued()
    missing = client.simulate_get("/api/cert/lookup", params={"id": "GS-BC-H-26-2"})
    assert_error(missing, 404, "not_found")
    assert missing.headers["cache-control"] == "no-store"
    assert_error(client.simulate_get("/api/cert/lookup"), 400, "missing_id")
    assert_error(client.simulate_get("/api/cert/lookup", params={"id": "  "}), 400, "missing_id")
    assert_error(client.simulate_get("/api/cert/lookup", params={"id": "G" * 500}), 404, "not_found")


def test_lookup_cache_headers_follow_the_correction_window(client, issued, clock):
    issued()
    open_window = client.simulate_get("/api/cert/lookup", params={"id": "GS-BC-H-26-1"})
    assert open_window.headers["cache-control"] == "public, max-age=60"
    clock.advance(hours=24, seconds=1)
    closed = client.simulate_get("/api/cert/lookup", params={"id": "GS-BC-H-26-1"})
    assert closed.headers["cache-control"] == "public, max-age=3600"  # a paid amendment can still change it


# -- search -----------------------------------------------------------------------------------------------------


@pytest.fixture
def registry(issued):
    """12 records, ids 26-1 .. 26-C: ten listed "Alpha n", one unlisted "Alpha hidden" registered by the agent
    (so A-26-B), one listed "GS Bot"."""
    made = [issued(agent_name=f"Alpha {n}", listed=True)[1] for n in range(10)]
    made.append(issued(agent_name="Alpha hidden", listed=False, edit_source="agent")[1])
    made.append(issued(agent_name="GS Bot", listed=True)[1])
    return made


def test_id_search_matches_exact_and_prefix_with_or_without_dashes(client, registry):
    for q in ("GS-BC-H-26-1", "gsbch261", "gs-bc-h-26-1 ", "H-26-1", "h 26 1"):
        assert [r["public_id"] for r in search(client, q).json["results"]] == ["GS-BC-H-26-1"], q
    assert [r["public_id"] for r in search(client, "gs-bc-a").json["results"]] == ["GS-BC-A-26-B"]
    human = [r["public_id"] for r in search(client, "GS-BC-H-2", limit=50).json["results"]]
    assert len(human) == 11 and "GS-BC-A-26-B" not in human
    assert search(client, "GS-BC-H-27").json == {"results": [], "next_cursor": None}


def test_id_search_covers_unlisted_records(client, registry):
    ids, _ = walk(client, "GS-BC", 5)
    assert len(ids) == 12 and len(set(ids)) == 12 and "GS-BC-A-26-B" in ids
    assert ids == sorted(ids, key=public_id_key)


def test_name_search_covers_listed_records_only_in_name_order(client, registry):
    results = search(client, "  ALPHA ").json["results"]
    assert [r["agent_name"] for r in results] == [f"Alpha {n}" for n in range(10)]
    assert search(client, "alpha hid").json == {"results": [], "next_cursor": None}
    assert [r["agent_name"] for r in search(client, "alpha   3").json["results"]] == ["Alpha 3"]


def test_search_pages_with_a_keyset_cursor(client, registry):
    ids, pages = walk(client, "alpha", 3)
    assert pages == 4 and len(ids) == 10 and len(set(ids)) == 10
    # A page that ends exactly where the results end still says whether more exist.
    ids, pages = walk(client, "alpha", 5)
    assert len(ids) == 10 and pages in (2, 3)


def test_a_record_matching_both_phases_appears_once(client, registry):
    ids, _ = walk(client, "gs", 7)
    assert len(ids) == 12 and len(set(ids)) == 12


def test_revoked_records_leave_name_search_and_show_as_stubs_by_id(client, ctx, registry):
    certificates.revoke(ctx, "GS-BC-H-26-1", "refunded")
    assert "Alpha 0" not in [r["agent_name"] for r in search(client, "alpha").json["results"]]
    stub = search(client, "GS-BC-H-26-1").json["results"][0]
    assert stub == {
        "public_id": "GS-BC-H-26-1",
        "status": "revoked",
        "revoked_at": stub["revoked_at"],
        "public_url": f"{BASE_URL}/r/GS-BC-H-26-1",
    }


def test_an_empty_query_browses_the_directory_by_name(client, registry):
    for q in (None, "", "   "):
        params = {} if q is None else {"q": q}
        first = client.simulate_get("/api/registry/search", params={**params, "limit": 8})
        assert first.status_code == 200, first.text
        names = [r["agent_name"] for r in first.json["results"]]
        assert names == ["Alpha 0", "Alpha 1", "Alpha 2", "Alpha 3", "Alpha 4", "Alpha 5", "Alpha 6", "Alpha 7"]
    ids, _ = walk(client, "", 4)
    assert len(ids) == 11 and "GS-BC-A-26-B" not in ids  # every listed record once; never the unlisted one


def test_search_errors(client, registry):
    assert_error(search(client, "a" * 101), 400, "invalid_field", "q")
    assert_error(search(client, "bad\x00query"), 400, "invalid_field", "q")
    for limit in ("0", "51", "ten", "-1"):
        assert_error(search(client, "alpha", limit=limit), 400, "invalid_field", "limit")
    bad_cursors = [
        "not base64 !",
        b64e(b"[1,2]"),
        b64e(json.dumps({"p": 3, "a": None}).encode()),
        b64e(json.dumps({"p": 2, "a": ["x", True]}).encode()),
        "x" * 700,
    ]
    for cursor in bad_cursors:
        assert_error(search(client, "alpha", cursor=cursor), 400, "invalid_cursor")


def test_search_answers_cap_at_fifty(client, issued):
    for n in range(3):
        issued(agent_name=f"Zed {n}", listed=True)
    answer = search(client, "zed", limit="50").json
    assert len(answer["results"]) == 3 and answer["next_cursor"] is None
    assert len(search(client, "zed", limit="2").json["results"]) == 2


# -- query plans ------------------------------------------------------------------------------------------------


def plan(db, query) -> str:
    sql, params = query.sql()
    if is_sqlite(db):
        return "\n".join(row[-1] for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())
    # With a handful of rows PostgreSQL rightly prefers a sequential scan, or a bitmap scan plus a sort of the few
    # rows; turning those off for this transaction shows whether the index can serve the query, rows and order,
    # which is what matters at a million rows (a plan that needs them anyway would still show them).
    with db.atomic():
        db.execute_sql("SET LOCAL enable_seqscan = off")
        db.execute_sql("SET LOCAL enable_bitmapscan = off")
        db.execute_sql("SET LOCAL enable_sort = off")
        return "\n".join(row[0] for row in db.execute_sql("EXPLAIN " + sql, params).fetchall())


def assert_served_by(db, query, index: str) -> None:
    text = plan(db, query)
    if is_sqlite(db):
        assert f"USING INDEX {index}" in text or f"USING COVERING INDEX {index}" in text, text
        assert "SCAN certificate\n" not in text + "\n" and "TEMP B-TREE" not in text, text
    else:
        assert any(kind in text for kind in (f"Index Scan using {index}", f"Index Only Scan using {index}")), text
        assert "Seq Scan" not in text and "Sort" not in text, text


QUERIES = {
    "id prefix": (lambda: Certificate.with_id_prefix("GSBCH26"), "certificate_public_id_key"),
    "id prefix, next page": (lambda: Certificate.with_id_prefix("GSBCH26", "GSBCH265"), "certificate_public_id_key"),
    "name prefix": (lambda: Certificate.listed_with_name_prefix("alpha"), "certificate_listed_name_key_id"),
    "name prefix, next page": (
        lambda: Certificate.listed_with_name_prefix("alpha", ("alpha 4", 5)),
        "certificate_listed_name_key_id",
    ),
    "directory (empty query)": (lambda: Certificate.listed_with_name_prefix(""), "certificate_listed_name_key_id"),
    "name prefix after an id phase": (
        lambda: Certificate.listed_with_name_prefix("gs", None, exclude_id_key="GS"),
        "certificate_listed_name_key_id",
    ),
}


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_search_queries_are_served_by_indexes(ctx, registry, name):
    build, index = QUERIES[name]
    assert_served_by(ctx.db, build().limit(SEARCH_DEFAULT_LIMIT + 1), index)


def test_lookup_is_served_by_the_unique_index(ctx, registry):

    query = Certificate.select().where(Certificate.public_id_key == "GSBCH261")
    text = plan(ctx.db, query)
    assert "certificate_public_id_key" in text and "Seq Scan" not in text, text
