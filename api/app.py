"""The Falcon application factory: the API's routes.

`create_app(config)` wires the routes to their resources with injected collaborators. It is the API part of a
running registry: `api.registry.Registry` builds it (with the mail sender, the optional site and local doubles),
and `serve`, the WSGI entry point and the tests all go through `Registry`. The schema is never touched here.
"""

from __future__ import annotations

from typing import Any

import falcon

from . import errors
from .config import Config
from .context import Context
from .db import ConnectionMiddleware
from .ratelimit import RateLimiter
from .resources import (
    agents,
    amendments,
    certificates,
    common,
    credentials,
    guidance,
    meta,
    ops,
    pages,
    purchases,
    resend,
    tokens,
    webhooks,
)
from .resources import log as log_resources  # the transparency log


def make_limiter(config: Config) -> RateLimiter:
    return RateLimiter(config.rate_limits, config.rate_limit_storage, enabled=config.rate_limit_enabled)


def create_app(
    config: Config | None = None,
    *,
    context: Context | None = None,
    limiter: RateLimiter | None = None,
    site_dir: str | None = None,
) -> falcon.App:
    if context is None:
        context = Context.build(config or Config.from_env())
    config = context.config
    limiter = limiter or make_limiter(config)

    middleware: list[Any] = [
        common.BodyLimitMiddleware(),
        ConnectionMiddleware(context.db),
        common.SecurityHeadersMiddleware(),
    ]
    app = falcon.App(middleware=middleware)
    app.resp_options.xml_error_serialization = False
    errors.install(app)

    app.add_route("/api/health", meta.Health(context, limiter))
    app.add_route("/api/config", meta.ClientConfig(context))
    app.add_route("/api/openapi.json", meta.OpenApi())
    app.add_route("/api/cert/checkout", purchases.Checkout(context, limiter))
    if config.test_checkout:
        app.add_route("/api/cert/test-checkout", purchases.TestCheckout(context, limiter))
    app.add_route("/api/cert/handoff-token", purchases.Handoff(context, limiter))
    app.add_route("/api/stripe/webhook", webhooks.StripeWebhook(context))
    app.add_route("/api/cert/token-status", tokens.TokenStatus(context, limiter))
    app.add_route("/api/cert/redeem-token", certificates.Redeem(context, limiter))
    app.add_route("/api/cert/lock-agent-edits", certificates.LockAgentEdits(context, limiter))
    app.add_route("/api/cert/agent-token", agents.AgentTokenResource(context, limiter))
    app.add_route("/api/cert/agent-card-extension", guidance.AgentCardExtension(context, limiter))
    app.add_route("/api/agent/instructions", guidance.Instructions(context))
    app.add_route("/api/catalogue", guidance.Catalogue(context))
    app.add_route("/llms.txt", guidance.LlmsTxt(context))
    app.add_route("/robots.txt", guidance.RobotsTxt(context))
    app.add_route("/api/cert/private", certificates.PrivateRecord(context, limiter))
    app.add_route("/api/cert/amendment", amendments.Amendment(context, limiter))
    app.add_route("/api/cert/lookup", certificates.Lookup(context, limiter))
    app.add_route("/api/registry/search", certificates.Search(context, limiter))
    app.add_route("/api/cert/record-page/{public_id}", pages.RecordPage(context, limiter, site_dir or config.site_dir))
    app.add_route("/api/ops/email-summary", ops.EmailSummary(context))
    app.add_route("/.well-known/did.json", credentials.DidDocument(context))
    app.add_route("/api/cert/credential", credentials.Credential(context, limiter))
    app.add_route("/api/cert/status/{purpose}", credentials.StatusList(context, limiter))
    app.add_route("/api/cert/verify", credentials.Verify(context, limiter))
    app.add_route("/api/cert/badge.svg", credentials.Badge(context, limiter))
    app.add_route("/api/cert/qr.svg", credentials.QrCode(context, limiter))
    add_log_routes(app, context, limiter)
    resend_resource = resend.Resend(context, limiter)
    app.add_route("/api/cert/resend", resend_resource)
    app.add_route("/api/cert/resend/confirm", resend_resource, suffix="confirm")
    return app


def add_log_routes(app: falcon.App, context: Context, limiter: RateLimiter) -> None:
    """The transparency log (api/transparency.py)."""
    app.add_route("/api/log/checkpoint", log_resources.Checkpoint(context, limiter))
    app.add_route("/api/log/key", log_resources.VerifierKey(context, limiter))
    app.add_route("/api/log/entries", log_resources.Entries(context, limiter))
    app.add_route("/api/log/proof/inclusion", log_resources.InclusionProof(context, limiter))
    app.add_route("/api/log/proof/consistency", log_resources.ConsistencyProof(context, limiter))
    app.add_route("/api/cert/log", log_resources.RecordLog(context, limiter))
