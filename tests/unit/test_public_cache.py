"""The in-process cache of public views (api/public_cache.py) and the HTTP validators of public reads.

- In the process that writes, a correction, a revocation or a lock change is visible at once.
- Another process (here: a second Context with its own cache on the same database, as a second server instance
  or the `admin` command line would have) may answer from its cache, but never longer than MAX_AGE_SECONDS.
- Lookup and search carry an ETag and Cache-Control; `If-None-Match` with the current tag gets 304 and no body;
  a changed record gets a new tag.
"""

from __future__ import annotations

import threading

import falcon.testing

from api import certificates
from api.context import Context
from api.public_cache import MAX_AGE_SECONDS, MAX_PAGES, PublicViews, View, not_modified, record_changed
from api.registry import Registry

from .support import assert_error, correct

ID = "GS-BC-H-26-1"


class Ticks:
    """A settable monotonic clock for a cache."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def lookup(client, raw=ID, **headers):
    return client.simulate_get("/api/cert/lookup", params={"id": raw}, headers=headers)


def other_process(ctx, ticks: Ticks):
    """A second instance of the registry: same database and keys, its own cache on its own clock."""
    context = Context.build(ctx.config, db=ctx.db, clock=ctx.clock)
    context.public_views = PublicViews(monotonic=ticks)
    context.search_pages = PublicViews(max_entries=MAX_PAGES, monotonic=ticks)
    return context, falcon.testing.TestClient(Registry(context=context).app)


# -- visibility -------------------------------------------------------------------------------------------------


def test_a_correction_is_visible_at_once_in_the_writing_process(client, issued):
    token, _ = issued(agent_name="First Name")
    assert lookup(client).json["agent_name"] == "First Name"
    assert correct(client, token, agent_name="Second Name").status_code == 200
    assert lookup(client).json["agent_name"] == "Second Name"
    found = client.simulate_get("/api/registry/search", params={"q": ID}).json["results"]
    assert [r["agent_name"] for r in found] == ["Second Name"]


def test_a_revocation_is_visible_at_once_in_the_writing_process(ctx, client, issued):
    issued()
    assert lookup(client).json["status"] == "active"
    certificates.revoke(ctx, ID, "Refunded")
    answer = lookup(client).json
    assert answer["status"] == "revoked" and "agent_name" not in answer
    assert lookup(client).headers["cache-control"] == "public, max-age=86400"


def test_another_process_sees_a_correction_within_the_bound(ctx, client, issued):
    token, _ = issued(agent_name="First Name")
    ticks = Ticks()
    _, elsewhere = other_process(ctx, ticks)
    assert lookup(elsewhere).json["agent_name"] == "First Name"
    assert correct(client, token, agent_name="Second Name").status_code == 200
    ticks.now += MAX_AGE_SECONDS / 2
    assert lookup(elsewhere).json["agent_name"] == "First Name"  # its cached view: not yet past the bound
    ticks.now += MAX_AGE_SECONDS / 2
    assert lookup(elsewhere).json["agent_name"] == "Second Name"
    assert lookup(client).json["agent_name"] == "Second Name"


def test_another_process_sees_a_revocation_within_the_bound(ctx, client, issued):
    issued()
    ticks = Ticks()
    _, elsewhere = other_process(ctx, ticks)
    assert lookup(elsewhere).json["status"] == "active"
    certificates.revoke(ctx, ID, "Refunded")
    ticks.now += MAX_AGE_SECONDS
    assert lookup(elsewhere).json["status"] == "revoked"


def test_a_search_page_refreshes_the_records_it_shows_within_the_bound(ctx, client, issued):
    token, _ = issued(agent_name="Alpha One", listed=True)
    ticks = Ticks()
    _, elsewhere = other_process(ctx, ticks)
    assert lookup(elsewhere).json["agent_name"] == "Alpha One"
    assert correct(client, token, agent_name="Alpha Two").status_code == 200
    ticks.now += MAX_AGE_SECONDS
    found = elsewhere.simulate_get("/api/registry/search", params={"q": "alpha"}).json["results"]
    assert [r["agent_name"] for r in found] == ["Alpha Two"]


def names(client, q: str) -> list[str]:
    answer = client.simulate_get("/api/registry/search", params={"q": q})
    assert answer.status_code == 200, answer.text
    return [record["agent_name"] for record in answer.json["results"]]


def test_search_pages_change_at_once_in_the_writing_process(ctx, client, issued):
    token, _ = issued(agent_name="Alpha One", listed=True)
    assert names(client, "alpha") == ["Alpha One"]
    assert ctx.search_pages.get(("alpha", 20, "")) is not None  # the page is kept
    issued(agent_name="Alpha Two", listed=True)  # a new record
    assert names(client, "alpha") == ["Alpha One", "Alpha Two"]
    assert correct(client, token, agent_name="Beta One").status_code == 200  # a rename moves it to another page
    assert names(client, "alpha") == ["Alpha Two"]
    assert names(client, "beta") == ["Beta One"]
    certificates.revoke(ctx, "GS-BC-H-26-2", "Refunded")
    assert names(client, "alpha") == []


def test_another_process_keeps_a_search_page_no_longer_than_the_bound(ctx, client, issued):
    token, _ = issued(agent_name="Alpha One", listed=True)
    ticks = Ticks()
    _, elsewhere = other_process(ctx, ticks)
    assert names(elsewhere, "alpha") == ["Alpha One"]
    assert correct(client, token, agent_name="Beta One").status_code == 200
    issued(agent_name="Alpha Two", listed=True)
    ticks.now += MAX_AGE_SECONDS / 2
    assert names(elsewhere, "alpha") == ["Alpha One"]  # its cached page: not yet past the bound
    ticks.now += MAX_AGE_SECONDS / 2
    assert names(elsewhere, "alpha") == ["Alpha Two"]


def test_a_search_page_expires_with_the_oldest_view_it_shows(ctx, client, issued):
    token, _ = issued(agent_name="Alpha One", listed=True)
    ticks = Ticks()
    _, elsewhere = other_process(ctx, ticks)
    assert lookup(elsewhere).json["agent_name"] == "Alpha One"  # the view is cached at 0 s
    ticks.now += MAX_AGE_SECONDS - 1
    assert names(elsewhere, "alpha") == ["Alpha One"]  # a page made at 4 s from that view
    assert correct(client, token, agent_name="Alpha Two").status_code == 200
    ticks.now += 1
    # 5 s after the view was read: the page goes with it, though it was made only 1 s ago.
    assert names(elsewhere, "alpha") == ["Alpha Two"]


def test_a_search_that_began_before_a_write_does_not_keep_its_page(ctx, client, issued):
    from api import search

    issued(agent_name="Alpha One", listed=True)
    started = ctx.search_pages.begin_read
    ctx.search_pages.begin_read = lambda: (started()[0] - 1, started()[1])  # as if a write committed meanwhile
    try:
        assert [r["agent_name"] for r in search.search(ctx, "alpha")["results"]] == ["Alpha One"]
    finally:
        del ctx.search_pages.begin_read
    assert ctx.search_pages.get(("alpha", 20, "")) is None


def test_an_unknown_id_is_not_cached_so_a_new_record_is_visible_at_once(ctx, client, issued):
    assert_error(lookup(client), 404, "not_found")
    ticks = Ticks()
    _, elsewhere = other_process(ctx, ticks)
    assert_error(lookup(elsewhere), 404, "not_found")
    issued()
    assert lookup(client).status_code == 200
    assert lookup(elsewhere).status_code == 200


def test_a_rolled_back_write_leaves_the_cached_view(ctx, client, issued):
    token, _ = issued(agent_name="First Name")
    assert lookup(client).json["agent_name"] == "First Name"
    before = ctx.public_views.generation
    with ctx.db.atomic() as transaction:
        record_changed(ctx, "GSBCH261")
        transaction.rollback()
    assert ctx.public_views.generation == before
    assert ctx.public_views.get("GSBCH261") is not None


def test_a_read_that_began_before_a_write_does_not_store_its_view():
    views = PublicViews(monotonic=Ticks())
    started = views.begin_read()
    views.invalidate("GSBCH261")  # a write commits while the read is in flight
    views.put("GSBCH261", View.of({"agent_name": "Old"}, None), started)
    assert views.get("GSBCH261") is None
    views.put("GSBCH261", View.of({"agent_name": "New"}, None), views.begin_read())
    assert views.get("GSBCH261").record == {"agent_name": "New"}


def test_the_cache_keeps_at_most_its_bound_of_entries():
    views = PublicViews(max_entries=3, monotonic=Ticks())
    for n in range(5):
        views.put(f"K{n}", View.of({"n": n}, None), views.begin_read())
    assert [views.get(f"K{n}") is not None for n in range(5)] == [False, False, True, True, True]


def test_concurrent_readers_and_a_writer_end_on_the_written_record(ctx, client, issued):
    token, _ = issued(agent_name="Name 0")
    stop = threading.Event()
    errors: list = []

    def read():
        ctx.db.connect(reuse_if_open=True)
        try:
            while not stop.is_set():
                if lookup(client).status_code != 200:
                    errors.append("lookup failed")
        finally:
            ctx.db.close()

    readers = [threading.Thread(target=read) for _ in range(3)]
    for thread in readers:
        thread.start()
    try:
        for n in range(1, 5):
            assert correct(client, token, agent_name=f"Name {n}").status_code == 200
    finally:
        stop.set()
        for thread in readers:
            thread.join(timeout=30)
    assert errors == []
    assert lookup(client).json["agent_name"] == "Name 4"


# -- ETag and 304 -----------------------------------------------------------------------------------------------


def test_lookup_answers_304_to_a_matching_if_none_match(client, issued):
    issued()
    first = lookup(client)
    tag = first.headers["etag"]
    assert tag.startswith('"') and tag.endswith('"') and len(tag) > 10
    again = lookup(client, **{"If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == tag
    assert again.headers["cache-control"] == "public, max-age=60"
    assert lookup(client, **{"If-None-Match": f'"other", W/{tag}'}).status_code == 304
    assert lookup(client, **{"If-None-Match": "*"}).status_code == 304
    assert lookup(client, **{"If-None-Match": '"stale"'}).status_code == 200


def test_the_etag_changes_when_the_record_does(client, issued):
    token, _ = issued()
    tag = lookup(client).headers["etag"]
    assert correct(client, token, agent_name="Renamed").status_code == 200
    changed = lookup(client, **{"If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.json["agent_name"] == "Renamed"
    assert changed.headers["etag"] != tag


def test_the_lookup_body_is_the_public_view_as_json(client, issued, ctx):
    _, cert = issued()
    answer = lookup(client)
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json == certificates.lookup(ctx, ID).record


def test_search_answers_304_to_a_matching_if_none_match(client, issued):
    issued(agent_name="Alpha One", listed=True)
    first = client.simulate_get("/api/registry/search", params={"q": "alpha"})
    assert first.json["results"][0]["agent_name"] == "Alpha One"
    assert first.headers["cache-control"] == "public, max-age=30"
    tag = first.headers["etag"]
    again = client.simulate_get("/api/registry/search", params={"q": "alpha"}, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    other = client.simulate_get("/api/registry/search", params={"q": "beta"}, headers={"If-None-Match": tag})
    assert other.status_code == 200 and other.json["results"] == []
    assert other.headers["etag"] != tag


def test_errors_carry_no_etag_and_are_not_cached(client):
    missing = lookup(client)
    assert missing.status_code == 404
    assert "etag" not in missing.headers
    assert missing.headers["cache-control"] == "no-store"


def test_if_none_match_parsing():
    assert not_modified('"a"', '"a"')
    assert not_modified('W/"a"', '"a"')
    assert not_modified(' "b" , "a" ', '"a"')
    assert not_modified("*", '"a"')
    assert not not_modified(None, '"a"')
    assert not not_modified("", '"a"')
    assert not not_modified('"ab"', '"a"')
