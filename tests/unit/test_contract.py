"""The error shape on every kind of failure, and the OpenAPI document kept in step with the routes."""

from __future__ import annotations

import json

import falcon.inspect
import falcon.testing

from api.app import create_app
from api.context import Context
from api.openapi import build_document

from .support import assert_error


def test_unknown_routes_and_methods(client):
    assert_error(client.simulate_get("/api/no-such-thing"), 404, "not_found")
    assert_error(client.simulate_delete("/api/cert/checkout"), 405, "method_not_allowed")


def test_malformed_and_oversized_bodies(client):
    bad = client.simulate_post("/api/cert/checkout", body="{not json", headers={"Content-Type": "application/json"})
    assert_error(bad, 400, "malformed_body")
    not_object = client.simulate_post("/api/cert/checkout", json=["a"])
    assert_error(not_object, 400, "malformed_body")
    huge = client.simulate_post(
        "/api/cert/checkout",
        body=json.dumps({"recovery_email": "a" * 70000}),
        headers={"Content-Type": "application/json"},
    )
    assert_error(huge, 413, "body_too_large")
    wrong_type = client.simulate_post("/api/cert/checkout", body="x", headers={"Content-Type": "text/plain"})
    assert_error(wrong_type, 400, "bad_request")


class ExplodingGateway:
    def create_checkout_session(self, **kwargs):
        raise RuntimeError("secret internal detail sk_live_123")


def test_unexpected_failures_are_a_bare_500(ctx):
    broken = Context(config=ctx.config, db=ctx.db, keyring=ctx.keyring, stripe=ExplodingGateway(), clock=ctx.clock)
    client = falcon.testing.TestClient(create_app(context=broken))
    result = client.simulate_post("/api/cert/checkout", json={"recovery_email": "a@example.com"})
    body = assert_error(result, 500, "internal_error")
    assert "secret" not in result.text and "Traceback" not in result.text and body["message"]


def test_api_answers_carry_protective_headers(client):
    result = client.simulate_get("/api/health")
    assert result.json == {"status": "ok", "rate_limits": "off"}
    assert result.headers["cache-control"] == "no-store"
    assert result.headers["x-content-type-options"] == "nosniff"


def test_health_asks_the_database_at_most_once_per_interval(ctx, clock, tmp_path):
    from api.db import open_database
    from api.models import bind_models
    from api.resources.meta import HEALTH_PROBE_INTERVAL

    db = open_database(f"sqlite:///{tmp_path}/health.db")
    try:
        context = Context(config=ctx.config, db=db, keyring=ctx.keyring, stripe=ctx.stripe, clock=clock)
        client = falcon.testing.TestClient(create_app(context=context))
        assert client.simulate_get("/api/health").status_code == 200
        db.close()
        db.init(str(tmp_path))  # a directory: the database can no longer be opened
        clock.advance(seconds=HEALTH_PROBE_INTERVAL.total_seconds() / 2)
        assert client.simulate_get("/api/health").status_code == 200  # the probe of a moment ago stands
        clock.advance(seconds=HEALTH_PROBE_INTERVAL.total_seconds() / 2)
        assert_error(client.simulate_get("/api/health"), 503, "database_unavailable")
        assert_error(client.simulate_get("/api/health"), 503, "database_unavailable")  # a failure is not kept
    finally:
        bind_models(ctx.db)  # the models go back to the test's database


def test_openapi_document_matches_the_routes(make_client, ctx):
    app = create_app(context=Context.build(ctx.config.replace(test_checkout=True), db=ctx.db, clock=ctx.clock))
    routes = {}
    for route in falcon.inspect.inspect_routes(app):
        methods = {m.method.lower() for m in route.methods if m.internal is False and m.method != "OPTIONS"}
        routes[route.path] = methods
    document = make_client(test_checkout=True).simulate_get("/api/openapi.json").json
    assert document["openapi"].startswith("3.")
    documented = {path: set(operations) for path, operations in document["paths"].items()}
    assert documented == routes
    assert document == build_document()


def test_an_unreachable_database_is_a_503_on_health_and_elsewhere(ctx):
    from api.db import open_database

    down = open_database("postgresql://nobody@127.0.0.1:1/none?connect_timeout=1")
    try:
        broken = Context(config=ctx.config, db=down, keyring=ctx.keyring, stripe=ctx.stripe, clock=ctx.clock)
        client = falcon.testing.TestClient(create_app(context=broken))
        assert_error(client.simulate_get("/api/health"), 503, "database_unavailable")
        assert_error(
            client.simulate_get("/api/cert/lookup", params={"id": "GS-BC-H-26-1"}), 503, "database_unavailable"
        )
    finally:
        from api.models import bind_models

        bind_models(ctx.db)  # the models go back to the test's database
