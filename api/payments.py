"""Stripe Checkout through the official SDK, behind a small gateway the domain can use and tests can point
at the local Stripe double (`STRIPE_API_BASE`).

Only a non-secret purchase reference leaves for Stripe (`client_reference_id`, `metadata.purchase_ref`): never
the bearer token, never anything a Stripe dashboard user could use to open a record. Stripe's errors are
reduced to `PaymentProviderError`; their text is logged by type only and never returned to a browser.
"""

from __future__ import annotations

import json
import logging

import stripe

from . import rules

log = logging.getLogger("ghostshell.payments")


class PaymentProviderError(Exception):
    pass


class UnknownSession(Exception):
    pass


def make_stripe_client(secret_key: str, api_base: str | None) -> stripe.StripeClient:
    kwargs = {"max_network_retries": 2}
    if api_base:
        kwargs["base_addresses"] = {"api": api_base}
    return stripe.StripeClient(secret_key, **kwargs)


class StripeGateway:
    def __init__(self, client: stripe.StripeClient, *, base_url: str, price_id: str | None):
        self._client = client
        self._base_url = base_url
        self._price_id = price_id

    def _line_item(self) -> dict:
        if self._price_id:
            return {"price": self._price_id, "quantity": 1}
        return {
            "price_data": {
                "currency": rules.PRICE_CURRENCY,
                "unit_amount": rules.PRICE_CENTS,
                "product_data": {"name": rules.PRODUCT_NAME},
            },
            "quantity": 1,
        }

    def create_checkout_session(self, *, purchase_ref: str, email: str, expires_at: int) -> dict:
        params = {
            "mode": "payment",
            "line_items": [self._line_item()],
            "customer_email": email,
            "client_reference_id": purchase_ref,
            "metadata": {"purchase_ref": purchase_ref},
            "success_url": f"{self._base_url}/handoff/?session_id={{CHECKOUT_SESSION_ID}}",
            "cancel_url": f"{self._base_url}/issue/?cancelled=1",
            "allow_promotion_codes": True,
            "expires_at": expires_at,
        }
        try:
            session = self._client.v1.checkout.sessions.create(
                params=params, options={"idempotency_key": f"checkout:{purchase_ref}"}
            )
        except stripe.StripeError as exc:
            log.error("stripe checkout create failed: %s", type(exc).__name__)
            raise PaymentProviderError(type(exc).__name__) from exc
        return {"id": session.id, "url": session.url}

    def retrieve_session(self, session_id: str) -> dict:
        try:
            return self._client.v1.checkout.sessions.retrieve(session_id).to_dict()
        except stripe.InvalidRequestError as exc:
            if getattr(exc, "code", None) == "resource_missing":
                raise UnknownSession(session_id) from exc
            log.error("stripe session retrieve refused: %s", type(exc).__name__)
            raise PaymentProviderError(type(exc).__name__) from exc
        except stripe.StripeError as exc:
            log.error("stripe session retrieve failed: %s", type(exc).__name__)
            raise PaymentProviderError(type(exc).__name__) from exc

    def construct_event(self, payload: bytes, signature: str | None, secret: str):
        """Verify and parse a webhook delivery into plain dicts; raises stripe.SignatureVerificationError or
        ValueError. The SDK's own check (`verify_header`, its default 300 s tolerance) runs before anything parses
        the body; the body is then read as plain JSON, which is what `Webhook.construct_event(...).to_dict()` gave
        after building and unbuilding a tree of StripeObjects (half the webhook's time)."""
        text = payload.decode("utf-8")
        stripe.WebhookSignature.verify_header(text, signature, secret, stripe.Webhook.DEFAULT_TOLERANCE)
        event = json.loads(text)
        if not isinstance(event, dict):
            raise ValueError("a Stripe event is a JSON object")
        return event
