"""/api/stripe/webhook: verified with the raw body before anything parses it."""

from __future__ import annotations

import logging

import stripe

from .. import purchases
from ..errors import RegistryError
from ..payments import MalformedEvent
from .common import Resource

log = logging.getLogger("ghostshell.webhook")


class StripeWebhook(Resource):
    def on_post(self, req, resp):
        payload = req.bounded_stream.read()
        signature = req.get_header("Stripe-Signature")
        try:
            if not signature or not self._ctx.config.stripe_webhook_secret:
                raise stripe.SignatureVerificationError("missing signature", signature)
            event = self._ctx.stripe.construct_event(payload, signature, self._ctx.config.stripe_webhook_secret)
        except MalformedEvent:
            raise RegistryError("malformed_body", "The signed body is not a Stripe event.") from None
        except (stripe.SignatureVerificationError, ValueError):
            raise RegistryError("invalid_signature", "The Stripe signature is missing, invalid or too old.") from None
        outcome = purchases.handle_event(self._ctx, event)
        log.info("stripe event %s (%s): %s", event["id"], event["type"], outcome)
        resp.media = {"received": True, "outcome": outcome}
