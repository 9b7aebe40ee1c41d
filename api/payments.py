"""Stripe Checkout through the official SDK, behind a small gateway the domain can use and tests can point
at the local Stripe double (`STRIPE_API_BASE`).

Only a non-secret purchase reference leaves for Stripe (`client_reference_id`, `metadata.purchase_ref`; for a paid
amendment its own `amd_...` reference, `metadata.amendment_ref`): never
the bearer token, never anything a Stripe dashboard user could use to open a record. Stripe's errors are
reduced to `PaymentProviderError`; their text is logged by type only and never returned to a browser.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import stripe
from stripe.params.checkout import SessionCreateParams, SessionCreateParamsLineItem

from . import rules

log = logging.getLogger("ghostshell.payments")


class PaymentProviderError(Exception):
    pass


class UnknownSession(Exception):
    pass


class MalformedEvent(ValueError):
    """A correctly signed webhook body that is not a Stripe event."""


# Stripe ids (evt_..., cs_test_..., pi_...): printable ASCII, no spaces, bounded like the columns that keep them.
_STRIPE_ID = re.compile(r"[\x21-\x7e]{1,255}")


def make_stripe_client(secret_key: str, api_base: str | None) -> stripe.StripeClient:
    kwargs: dict[str, Any] = {"max_network_retries": 2}
    if api_base:
        kwargs["base_addresses"] = {"api": api_base}
    return stripe.StripeClient(secret_key, **kwargs)


class StripeGateway:
    def __init__(
        self,
        client: stripe.StripeClient,
        *,
        base_url: str,
        price_id: str | None,
        amendment_price_id: str | None = None,
    ):
        self._client = client
        self._base_url = base_url
        self._price_id = price_id
        self._amendment_price_id = amendment_price_id

    def _line_item(self) -> SessionCreateParamsLineItem:
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

    def _amendment_line_item(self) -> SessionCreateParamsLineItem:
        if self._amendment_price_id:
            return {"price": self._amendment_price_id, "quantity": 1}
        return {
            "price_data": {
                "currency": rules.PRICE_CURRENCY,
                "unit_amount": rules.AMENDMENT_PRICE_CENTS,
                "product_data": {"name": rules.AMENDMENT_PRODUCT_NAME},
            },
            "quantity": 1,
        }

    def create_amendment_session(self, *, amendment_ref: str, email: str | None, expires_at: int) -> dict:
        """A checkout for one paid amendment (api/amendments.py). Only the amendment's own reference leaves; the
        holder comes back to the private page, whose token never left the browser."""
        params: SessionCreateParams = {
            "mode": "payment",
            "line_items": [self._amendment_line_item()],
            "client_reference_id": amendment_ref,
            "metadata": {"amendment_ref": amendment_ref},
            "success_url": f"{self._base_url}/p/?amendment={{CHECKOUT_SESSION_ID}}",
            "cancel_url": f"{self._base_url}/p/?amendment=cancelled",
            "expires_at": expires_at,
        }
        if email:
            params["customer_email"] = email
        return self._create(params, f"checkout:{amendment_ref}")

    def create_checkout_session(self, *, purchase_ref: str, email: str, expires_at: int) -> dict:
        params: SessionCreateParams = {
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
        return self._create(params, f"checkout:{purchase_ref}")

    def _create(self, params: SessionCreateParams, idempotency_key: str) -> dict:
        try:
            session = self._client.v1.checkout.sessions.create(
                params=params, options={"idempotency_key": idempotency_key}
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

    def construct_event(self, payload: bytes, signature: str | None, secret: str) -> dict:
        """Verify a webhook delivery's signature, then parse it into a plain dict of the event shape the registry
        reads. Raises stripe.SignatureVerificationError, or MalformedEvent for a signed body that is not a Stripe
        event (Stripe never sends one; a leaked secret or a bug could). The SDK's own check (`verify_header`, its
        default 300 s tolerance) runs before anything parses the body, which is then read as plain JSON (no tree of
        StripeObjects: that was half the webhook's time)."""
        text = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else payload
        stripe.WebhookSignature.verify_header(text, signature, secret, stripe.Webhook.DEFAULT_TOLERANCE)
        try:
            event = json.loads(text)
        except (ValueError, RecursionError):
            raise MalformedEvent("not JSON, or nested too deeply") from None
        return checked_event(event)


def _stripe_id(value) -> bool:
    return isinstance(value, str) and bool(_STRIPE_ID.fullmatch(value))


def checked_event(event) -> dict:
    """The event if it has the shape the registry reads: a string `id` and `type`, and for checkout events a
    `data.object` with a Stripe id. Raises MalformedEvent otherwise."""
    if not isinstance(event, dict) or not _stripe_id(event.get("id")) or not isinstance(event.get("type"), str):
        raise MalformedEvent("an event needs a string id and type")
    if event["type"].startswith("checkout.session."):
        data = event.get("data")
        session = data.get("object") if isinstance(data, dict) else None
        if not isinstance(session, dict) or not _stripe_id(session.get("id")):
            raise MalformedEvent("a checkout event needs data.object with a session id")
        for name in ("client_reference_id", "payment_intent", "payment_status", "status"):
            if session.get(name) is not None and not isinstance(session[name], str):
                raise MalformedEvent(f"data.object.{name} must be a string")
    return event
