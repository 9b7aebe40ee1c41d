"""A local double of the slice of Stripe the registry uses: Checkout Sessions and their webhooks.

Contract (the wire format is Stripe's; the official `stripe` SDK talks to it unchanged):

- `POST /v1/checkout/sessions`, `GET /v1/checkout/sessions/{id}`, `POST /v1/checkout/sessions/{id}/expire`,
  `GET /v1/checkout/sessions/{id}/line_items`. Form-encoded requests with Stripe's nested keys, `Authorization:
  Bearer sk_test_...` (401 `authentication_error` otherwise), `Idempotency-Key` replay (same key and params replay
  the first response with `Idempotent-Replayed: true`; different params give 400 `idempotency_error`), unknown
  parameters rejected, errors always `{"error": {"type", "code"?, "message", "param"?}}` with Stripe's statuses.
  `expand[]=line_items` and `expand[]=payment_intent` are supported.
- Hosted page `GET /pay/{id}` ("Test mode"), with `POST /pay/{id}/pay` (session complete and paid, signed
  `checkout.session.completed` delivered, 303 to `success_url`) and `POST /pay/{id}/cancel` (303 to `cancel_url`, the
  session stays open). A session that is not open answers 409 with a page saying why.
- Sessions expire by themselves once `expires_at` has passed (checked lazily whenever one is read).
- Webhooks: every state change makes an event signed with `stripe.WebhookSignature.generate_signature_header` and
  POSTed to `webhook_url`. The Pay button delivers synchronously first, so the webhook has normally been processed
  when the browser reaches `success_url`; API calls deliver from a background thread, as Stripe does. A failed
  attempt (connection error or non-2xx) is retried after each of `retry_delays` seconds, then marked failed.
- `/_control/` (JSON, for tests): `POST sessions/{id}/complete` (paid, event withheld), `POST sessions/{id}/expire`,
  `POST sessions/{id}/redeliver`, `POST delivery {"enabled": bool}`, `GET events` (the delivery log), `GET
  sessions`, `POST settle {"timeout": s}` (wait for pending deliveries), `POST reset`.

In-process access: `create_app(...)` returns a Falcon app whose `.double` is the `StripeDouble` holding the state.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import html
import json
import secrets
import string
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from typing import Any

import falcon
import requests
import stripe
from stripe.params.checkout import SessionCreateParams

from .pages import send_page

API_VERSION = "2026-10-28.endive"  # what stripe 16.1 sends; events carry the endpoint's version
DEFAULT_PRODUCT_NAME = "GhostShell birth certificate"
DEFAULT_PRICE_AMOUNT = 999
DEFAULT_PRICE_CURRENCY = "usd"
MIN_EXPIRY_SECONDS = 30 * 60
MAX_EXPIRY_SECONDS = 24 * 60 * 60
DEFAULT_RETRY_DELAYS = (1.0, 2.0, 4.0)

# SDK request options that appear in the TypedDict but never on the wire.
_REQUEST_OPTIONS = {
    "api_key",
    "content_type",
    "headers",
    "idempotency_key",
    "max_network_retries",
    "stripe_account",
    "stripe_context",
    "stripe_version",
}
# Older integrations still send `payment_method_types`; the API accepts it though 16.1's types dropped it.
_CREATE_PARAMS = (frozenset(SessionCreateParams.__annotations__) - _REQUEST_OPTIONS) | {"payment_method_types"}
_EXPANDABLE = {"line_items", "payment_intent"}
_ZERO_DECIMAL = {
    "bif",
    "clp",
    "djf",
    "gnf",
    "jpy",
    "kmf",
    "krw",
    "mga",
    "pyg",
    "rwf",
    "ugx",
    "vnd",
    "vuv",
    "xaf",
    "xof",
    "xpf",
}
_CURRENCY_PREFIX = {"usd": "US$", "eur": "€", "gbp": "£", "cad": "CA$", "aud": "A$", "jpy": "¥"}
_ID_ALPHABET = string.ascii_letters + string.digits


def _new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


class StripeError(Exception):
    """An error answered in Stripe's JSON shape."""

    def __init__(
        self,
        status: int,
        type_: str,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"type": type_, "message": message}
        if code:
            self.body["code"] = code
        if param:
            self.body["param"] = param
        self.headers = headers or {}

    @classmethod
    def invalid(cls, message: str, *, param: str | None = None, code: str | None = None) -> StripeError:
        return cls(400, "invalid_request_error", message, param=param, code=code)

    @classmethod
    def missing(cls, kind: str, object_id: str) -> StripeError:
        return cls(404, "invalid_request_error", f"No such {kind}: '{object_id}'", code="resource_missing", param="id")


# ---------------------------------------------------------------------------------------------------------------
# Form decoding: `line_items[0][price_data][unit_amount]=999` -> {"line_items": [{"price_data": {...}}]}


def parse_stripe_form(pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Decode Stripe's bracketed form keys into nested dicts and lists (metadata keys stay strings)."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        head, _, rest = key.partition("[")
        parts = [head] + (rest[:-1].split("][") if rest.endswith("]") else ([rest] if rest else []))
        node = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "":  # `expand[]=x`
                part = str(sum(1 for k in node if k.isdigit()))
            if last:
                node[part] = value
            else:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise StripeError.invalid(f"Invalid parameter: {key}", param=key)
                node = child
    return _listify(root, under_metadata=False)


def _listify(node: Any, *, under_metadata: bool) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v, under_metadata=(k == "metadata")) for k, v in node.items()}
    if not under_metadata and converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def _int(value: Any, param: str, *, minimum: int | None = None) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise StripeError.invalid(f"Invalid integer: {value}", param=param) from None
    if minimum is not None and number < minimum:
        raise StripeError.invalid(f"This value must be greater than or equal to {minimum}.", param=param)
    return number


def _bool(value: Any, param: str) -> bool:
    if value in ("true", True):
        return True
    if value in ("false", False):
        return False
    raise StripeError.invalid(f"Invalid boolean: {value}", param=param)


def _required(mapping: dict[str, Any], key: str, param: str) -> Any:
    if mapping.get(key) in (None, ""):
        raise StripeError.invalid(f"Missing required param: {param}.", param=param, code="parameter_missing")
    return mapping[key]


def format_amount(amount: int, currency: str) -> str:
    """`999, "usd"` -> `US$9.99`, as the hosted page shows it."""
    prefix = _CURRENCY_PREFIX.get(currency, currency.upper() + " ")
    if currency in _ZERO_DECIMAL:
        return f"{prefix}{amount:,}"
    return f"{prefix}{amount // 100:,}.{amount % 100:02d}"


# ---------------------------------------------------------------------------------------------------------------
# State


@dataclasses.dataclass
class Delivery:
    """One attempt series to deliver one event (a redelivery is a new `Delivery` of the same event id)."""

    event_id: str
    type: str
    session_id: str
    state: str  # pending | delivered | failed | disabled | withheld | no_endpoint
    attempts: int = 0
    status_code: int | None = None
    error: str | None = None
    redelivery: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class StripeDouble:
    """State and behaviour of the double; `self.app` is the WSGI app serving it."""

    def __init__(
        self,
        *,
        webhook_url: str | None,
        webhook_secret: str,
        public_base: str,
        deliver: bool = True,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        webhook_timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ):
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.public_base = public_base.rstrip("/")
        self.retry_delays = tuple(retry_delays)
        self.webhook_timeout = webhook_timeout
        self.clock = clock
        self._initial_deliver = deliver
        self._lock = threading.RLock()
        self._settled = threading.Condition(self._lock)
        self._http = requests.Session()
        self._http.trust_env = False  # never route webhook posts through an environment proxy
        self._reset_state()
        self.app = _build_app(self)

    def _reset_state(self) -> None:
        self._sessions: dict[str, dict[str, Any]] = {}
        self._line_items: dict[str, list[dict[str, Any]]] = {}
        self._idempotency: dict[str, tuple[str, list, int, dict]] = {}
        self._events: list[dict[str, Any]] = []
        self._deliveries: list[Delivery] = []
        self._pending = 0
        self._generation = getattr(self, "_generation", 0) + 1
        self.delivery_enabled = self._initial_deliver

    # -- read access for tests ----------------------------------------------------------------------------------

    @property
    def deliveries(self) -> list[dict[str, Any]]:
        with self._lock:
            return [d.to_dict() for d in self._deliveries]

    @property
    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return json.loads(json.dumps(self._events))

    def sessions(self) -> list[dict[str, Any]]:
        with self._lock:
            return [self.get_session(sid) for sid in self._sessions]

    def reset(self) -> None:
        with self._lock:
            self._reset_state()
            self._settled.notify_all()

    def set_delivery(self, enabled: bool) -> None:
        with self._lock:
            self.delivery_enabled = bool(enabled)

    def wait_for_deliveries(self, timeout: float = 5.0) -> bool:
        """Block until no delivery is pending (retries included). False on timeout."""
        deadline = time.monotonic() + timeout
        with self._settled:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._settled.wait(remaining)
            return True

    # -- sessions -------------------------------------------------------------------------------------------------

    def create_session(self, params: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(params) - _CREATE_PARAMS)
        if unknown:
            raise StripeError.invalid(f"Received unknown parameter: {unknown[0]}", param=unknown[0])
        mode = params.get("mode") or "payment"
        if mode != "payment":
            raise StripeError.invalid(f"This double only supports mode=payment, not {mode!r}.", param="mode")
        now = int(self.clock())
        line_items = self._line_items_from(params)
        currency = line_items[0]["currency"]
        if any(item["currency"] != currency for item in line_items):
            raise StripeError.invalid("All line items must use the same currency.", param="line_items")
        expires_at = now + MAX_EXPIRY_SECONDS
        if params.get("expires_at") not in (None, ""):
            expires_at = _int(params["expires_at"], "expires_at")
            if expires_at - now < MIN_EXPIRY_SECONDS:
                raise StripeError.invalid(
                    "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.",
                    param="expires_at",
                )
            if expires_at - now > MAX_EXPIRY_SECONDS:
                raise StripeError.invalid(
                    "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
                    param="expires_at",
                )
        email = params.get("customer_email") or None
        if email is not None and ("@" not in email or len(email) > 512):
            raise StripeError.invalid(f"Invalid email address: {email}", param="customer_email", code="email_invalid")
        reference = params.get("client_reference_id") or None
        if reference is not None and len(reference) > 200:
            raise StripeError.invalid("Invalid string: must be at most 200 characters", param="client_reference_id")
        metadata = self._metadata_from(params.get("metadata"))
        allow_promotion_codes = None
        if params.get("allow_promotion_codes") not in (None, ""):
            allow_promotion_codes = _bool(params["allow_promotion_codes"], "allow_promotion_codes")
        for url_param in ("success_url", "cancel_url"):
            url = params.get(url_param)
            if url and not url.startswith(("http://", "https://")):
                raise StripeError.invalid("Not a valid URL", param=url_param, code="url_invalid")
        if isinstance(params.get("expand"), list):
            self._check_expand(params["expand"])

        session_id = _new_id("cs_test_", 58)
        amount = sum(item["amount_total"] for item in line_items)
        session = {
            "id": session_id,
            "object": "checkout.session",
            "after_expiration": None,
            "allow_promotion_codes": allow_promotion_codes,
            "amount_subtotal": amount,
            "amount_total": amount,
            "billing_address_collection": params.get("billing_address_collection"),
            "cancel_url": params.get("cancel_url") or None,
            "client_reference_id": reference,
            "created": now,
            "currency": currency,
            "customer": None,
            "customer_creation": params.get("customer_creation") or "if_required",
            "customer_details": None,
            "customer_email": email,
            "expires_at": expires_at,
            "livemode": False,
            "locale": params.get("locale"),
            "metadata": metadata,
            "mode": mode,
            "payment_intent": None,
            "payment_method_types": ["card"],
            "payment_status": "unpaid",
            "status": "open",
            "submit_type": params.get("submit_type"),
            "success_url": params.get("success_url") or None,
            "ui_mode": "hosted",
            "url": f"{self.public_base}/pay/{session_id}",
        }
        for item in line_items:
            item["id"] = _new_id("li_")
        with self._lock:
            self._sessions[session_id] = session
            self._line_items[session_id] = line_items
        return self.get_session(session_id, expand=params.get("expand"))

    def _line_items_from(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        raw = params.get("line_items")
        if not raw:
            raise StripeError.invalid(
                "You must provide at least one of `line_items`.", param="line_items", code="parameter_missing"
            )
        if not isinstance(raw, list):
            raise StripeError.invalid("Invalid array", param="line_items")
        items = []
        for i, entry in enumerate(raw):
            p = f"line_items[{i}]"
            if not isinstance(entry, dict):
                raise StripeError.invalid("Invalid object", param=p)
            quantity = _int(_required(entry, "quantity", f"{p}[quantity]"), f"{p}[quantity]", minimum=1)
            if entry.get("price"):
                price = {
                    "id": entry["price"],
                    "object": "price",
                    "active": True,
                    "currency": DEFAULT_PRICE_CURRENCY,
                    "livemode": False,
                    "product": "prod_test_ghostshell",
                    "type": "one_time",
                    "unit_amount": DEFAULT_PRICE_AMOUNT,
                }
                name = DEFAULT_PRODUCT_NAME
            elif isinstance(entry.get("price_data"), dict):
                data = entry["price_data"]
                q = f"{p}[price_data]"
                currency = str(_required(data, "currency", f"{q}[currency]")).lower()
                if len(currency) != 3 or not currency.isalpha():
                    raise StripeError.invalid(f"Invalid currency: {currency}.", param=f"{q}[currency]")
                unit_amount = _int(_required(data, "unit_amount", f"{q}[unit_amount]"), f"{q}[unit_amount]", minimum=0)
                product_data = data.get("product_data") if isinstance(data.get("product_data"), dict) else None
                if product_data is None and not data.get("product"):
                    raise StripeError.invalid(
                        f"Missing required param: {q}[product_data].",
                        param=f"{q}[product_data]",
                        code="parameter_missing",
                    )
                name = (
                    _required(product_data, "name", f"{q}[product_data][name]")
                    if product_data
                    else DEFAULT_PRODUCT_NAME
                )
                price = {
                    "id": _new_id("price_"),
                    "object": "price",
                    "active": False,
                    "currency": currency,
                    "livemode": False,
                    "product": data.get("product") or _new_id("prod_"),
                    "type": "one_time",
                    "unit_amount": unit_amount,
                }
            else:
                raise StripeError.invalid(
                    f"Missing required param: {p}[price].", param=f"{p}[price]", code="parameter_missing"
                )
            total = price["unit_amount"] * quantity
            items.append(
                {
                    "object": "item",
                    "amount_discount": 0,
                    "amount_subtotal": total,
                    "amount_tax": 0,
                    "amount_total": total,
                    "currency": price["currency"],
                    "description": name,
                    "price": price,
                    "quantity": quantity,
                }
            )
        return items

    @staticmethod
    def _metadata_from(raw: Any) -> dict[str, str]:
        if raw in (None, ""):
            return {}
        if not isinstance(raw, dict):
            raise StripeError.invalid("Invalid object", param="metadata")
        if len(raw) > 50:
            raise StripeError.invalid("Metadata can have at most 50 keys.", param="metadata")
        for key, value in raw.items():
            if len(key) > 40:
                raise StripeError.invalid("Metadata keys can be at most 40 characters.", param=f"metadata[{key}]")
            if not isinstance(value, str) or len(value) > 500:
                raise StripeError.invalid("Metadata values can be at most 500 characters.", param=f"metadata[{key}]")
        return {k: v for k, v in raw.items() if v != ""}

    @staticmethod
    def _check_expand(expand: Sequence[str]) -> None:
        for i, field in enumerate(expand):
            if field not in _EXPANDABLE:
                raise StripeError.invalid(f"This property cannot be expanded ({field}).", param=f"expand[{i}]")

    def get_session(self, session_id: str, *, expand: Sequence[str] | None = None) -> dict[str, Any]:
        expand = list(expand or [])
        self._check_expand(expand)
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                raise StripeError.missing("checkout.session", session_id)
            if session["status"] == "open" and self.clock() >= session["expires_at"]:
                self._set_expired(session)
                # Safe under the lock: an async delivery only books the attempt and starts a thread.
                self._deliver(self._new_event("checkout.session.expired", session), sync=False)
            snapshot = json.loads(json.dumps(session))
            items = json.loads(json.dumps(self._line_items[session_id]))
        if "line_items" in expand:
            snapshot["line_items"] = {
                "object": "list",
                "data": items,
                "has_more": False,
                "url": f"/v1/checkout/sessions/{session_id}/line_items",
            }
        if "payment_intent" in expand and snapshot["payment_intent"]:
            snapshot["payment_intent"] = {
                "id": snapshot["payment_intent"],
                "object": "payment_intent",
                "amount": snapshot["amount_total"],
                "amount_received": snapshot["amount_total"],
                "currency": snapshot["currency"],
                "livemode": False,
                "metadata": {},
                "status": "succeeded",
            }
        return snapshot

    def line_items(self, session_id: str) -> dict[str, Any]:
        session = self.get_session(session_id, expand=["line_items"])
        return session["line_items"]

    def _set_expired(self, session: dict[str, Any]) -> None:
        session.update(status="expired", url=None)

    def expire(self, session_id: str, *, sync: bool = False) -> dict[str, Any]:
        """Expire an open session and deliver `checkout.session.expired` (from a background thread unless sync)."""
        with self._lock:
            session = self._open_session(session_id, action="expire")
            self._set_expired(session)
            event = self._new_event("checkout.session.expired", session)
        self._deliver(event, sync=sync)
        return self.get_session(session_id)

    def complete(self, session_id: str, *, email: str | None = None, deliver: bool = True) -> dict[str, Any]:
        """Mark an open session paid. With deliver=False the event is made but withheld (see `redeliver`)."""
        with self._lock:
            session = self._open_session(session_id, action="complete")
            email = session["customer_email"] or email
            if not email:
                raise StripeError.invalid("An email address is required to complete this session.", param="email")
            session.update(
                status="complete",
                payment_status="paid",
                payment_intent=_new_id("pi_test_"),
                url=None,
                customer_details={
                    "address": None,
                    "email": email,
                    "name": None,
                    "phone": None,
                    "tax_exempt": "none",
                    "tax_ids": [],
                },
            )
            event = self._new_event("checkout.session.completed", session)
            if not deliver:
                self._deliveries.append(Delivery(event["id"], event["type"], session_id, state="withheld"))
        if deliver:
            self._deliver(event, sync=True)
        return self.get_session(session_id)

    def redeliver(self, session_id: str) -> dict[str, Any]:
        """Send the session's latest event again, same event id (Stripe's at-least-once replay)."""
        with self._lock:
            if session_id not in self._sessions:
                raise StripeError.missing("checkout.session", session_id)
            events = [e for e in self._events if e["data"]["object"]["id"] == session_id]
            if not events:
                raise StripeError.invalid(f"No event to redeliver for checkout.session '{session_id}'.", param="id")
            event = events[-1]
        return self._deliver(event, sync=True, redelivery=True, force=True).to_dict()

    def _open_session(self, session_id: str, *, action: str) -> dict[str, Any]:
        self.get_session(session_id)  # applies lazy expiry
        session = self._sessions[session_id]
        if session["status"] != "open":
            raise StripeError.invalid(
                f"You can only {action} a Checkout Session that is open; this one is {session['status']}.",
                code="checkout_session_not_open" if action == "complete" else None,
            )
        return session

    # -- events and delivery -------------------------------------------------------------------------------------

    def _new_event(self, type_: str, session: dict[str, Any]) -> dict[str, Any]:
        event = {
            "id": _new_id("evt_test_"),
            "object": "event",
            "api_version": API_VERSION,
            "created": int(self.clock()),
            "data": {"object": json.loads(json.dumps(session))},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": type_,
        }
        self._events.append(event)
        return event

    def _deliver(self, event: dict[str, Any], *, sync: bool, redelivery: bool = False, force: bool = False) -> Delivery:
        session_id = event["data"]["object"]["id"]
        with self._lock:
            delivery = Delivery(event["id"], event["type"], session_id, state="pending", redelivery=redelivery)
            self._deliveries.append(delivery)
            if not self.webhook_url:
                delivery.state = "no_endpoint"
                return delivery
            if not (self.delivery_enabled or force):
                delivery.state = "disabled"
                return delivery
            self._pending += 1
            generation = self._generation
        payload = json.dumps(event, indent=2)
        if sync:
            if self._attempt(delivery, payload, generation):
                return delivery
            threading.Thread(
                target=self._retry, args=(delivery, payload, generation, self.retry_delays), daemon=True
            ).start()
        else:
            threading.Thread(
                target=self._retry, args=(delivery, payload, generation, (0.0,) + self.retry_delays), daemon=True
            ).start()
        return delivery

    def _retry(self, delivery: Delivery, payload: str, generation: int, delays: Sequence[float]) -> None:
        for delay in delays:
            time.sleep(delay)
            with self._lock:
                if generation != self._generation:
                    return
                if not self.delivery_enabled and not delivery.redelivery:
                    delivery.state = "disabled"
                    self._finish(generation)
                    return
            if self._attempt(delivery, payload, generation):
                return
        with self._lock:
            if generation == self._generation:
                delivery.state = "failed"
                self._finish(generation)

    def _attempt(self, delivery: Delivery, payload: str, generation: int) -> bool:
        """One signed POST; True (and the delivery finished) on a 2xx."""
        header = stripe.WebhookSignature.generate_signature_header(payload, self.webhook_secret)
        status, error = None, None
        try:
            response = self._http.post(
                self.webhook_url,
                data=payload.encode("utf-8"),
                timeout=self.webhook_timeout,
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "Stripe-Signature": header,
                    "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                },
            )
            status = response.status_code
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"
        ok = status is not None and 200 <= status < 300
        with self._lock:
            if generation != self._generation:
                return True
            delivery.attempts += 1
            delivery.status_code = status
            delivery.error = error if error else (None if ok else f"HTTP {status}")
            if ok:
                delivery.state = "delivered"
                self._finish(generation)
        return ok

    def _finish(self, generation: int) -> None:
        if generation == self._generation:
            self._pending -= 1
            self._settled.notify_all()

    # -- idempotency ----------------------------------------------------------------------------------------------

    def idempotent(
        self, key: str | None, endpoint: str, fingerprint: list, run: Callable[[], dict[str, Any]]
    ) -> tuple[int, dict[str, Any], bool]:
        """Run `run` once per key; replay its saved result for the same endpoint and params."""
        if key is None:
            return 200, run(), False
        if len(key) > 255:
            raise StripeError.invalid("Idempotency keys can be at most 255 characters.", code="idempotency_key_invalid")
        with self._lock:  # held throughout so a concurrent retry with the same key waits and replays
            saved = self._idempotency.get(key)
            if saved is not None:
                saved_endpoint, saved_fingerprint, status, body = saved
                if saved_endpoint != endpoint or saved_fingerprint != fingerprint:
                    raise StripeError(
                        400,
                        "idempotency_error",
                        "Keys for idempotent requests can only be used with the same parameters they were first "
                        f"used with. Try using a key other than '{key}' if you meant to execute a different request.",
                    )
                return status, json.loads(json.dumps(body)), True
            body = run()  # validation errors propagate and are not saved, as on Stripe
            self._idempotency[key] = (endpoint, fingerprint, 200, json.loads(json.dumps(body)))
            return 200, body, False


# ---------------------------------------------------------------------------------------------------------------
# HTTP layer


class _DoubleApp(falcon.App):
    """A falcon.App that can carry `.double` (falcon.App itself has __slots__)."""


def _authenticate(req: falcon.Request) -> None:
    auth = req.get_header("Authorization") or ""
    scheme, _, credentials = auth.partition(" ")
    key = None
    if scheme.lower() == "bearer":
        key = credentials.strip()
    elif scheme.lower() == "basic":
        try:
            key = base64.b64decode(credentials).decode().partition(":")[0]
        except (ValueError, UnicodeDecodeError):
            key = ""
    if not key:
        raise StripeError(
            401,
            "invalid_request_error",
            "You did not provide an API key. You need to provide your API key in the Authorization "
            "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
            headers={"WWW-Authenticate": 'Basic realm="Stripe"'},
        )
    if not key.startswith("sk_test_"):
        shown = key[:8] + "*" * max(0, len(key) - 12) + key[-4:] if len(key) > 12 else "*" * len(key)
        raise StripeError(
            401,
            "invalid_request_error",
            f"Invalid API Key provided: {shown}",
            headers={"WWW-Authenticate": 'Basic realm="Stripe"'},
        )


def _form(req: falcon.Request) -> tuple[dict[str, Any], list]:
    raw = req.bounded_stream.read().decode("utf-8") if req.method == "POST" else req.query_string
    pairs = [(k, v) for k, v in urllib.parse.parse_qsl(raw, keep_blank_values=True)]
    return parse_stripe_form(pairs), sorted(pairs)


def _query_expand(req: falcon.Request) -> list[str]:
    params, _ = _form(req) if req.method == "GET" else ({}, [])
    expand = params.get("expand") or []
    return expand if isinstance(expand, list) else [expand]


class _ApiResource:
    def __init__(self, double: StripeDouble):
        self.double = double


class _Sessions(_ApiResource):
    def on_post(self, req, resp):
        _authenticate(req)
        params, fingerprint = _form(req)
        status, body, replayed = self.double.idempotent(
            req.get_header("Idempotency-Key"),
            "POST /v1/checkout/sessions",
            fingerprint,
            lambda: self.double.create_session(params),
        )
        resp.status = status
        resp.media = body
        if replayed:
            resp.set_header("Idempotent-Replayed", "true")


class _Session(_ApiResource):
    def on_get(self, req, resp, session_id):
        _authenticate(req)
        resp.media = self.double.get_session(session_id, expand=_query_expand(req))

    def on_get_line_items(self, req, resp, session_id):
        _authenticate(req)
        resp.media = self.double.line_items(session_id)

    def on_post_expire(self, req, resp, session_id):
        _authenticate(req)
        params, fingerprint = _form(req)
        expand = params.get("expand") or []
        self.double._check_expand(expand)

        def run():
            self.double.expire(session_id)
            return self.double.get_session(session_id, expand=expand)

        status, body, replayed = self.double.idempotent(
            req.get_header("Idempotency-Key"), f"POST /v1/checkout/sessions/{session_id}/expire", fingerprint, run
        )
        resp.status = status
        resp.media = body
        if replayed:
            resp.set_header("Idempotent-Replayed", "true")


def _unrecognized(req, resp):
    raise StripeError(404, "invalid_request_error", f"Unrecognized request URL ({req.method}: {req.path}).")


# -- hosted checkout page ------------------------------------------------------------------------------------------

_STYLE = """
body { font-family: Georgia, "Times New Roman", serif; background: #f6f4ef; color: #1d1d1b; margin: 0; }
main { max-width: 30rem; margin: 3rem auto; background: #fff; border: 1px solid #b9b4a8; padding: 2rem; }
.banner { border: 2px solid #7a4b00; background: #fff4dc; color: #4a2e00; padding: .6rem .8rem; font-weight: bold; }
h1 { font-size: 1.4rem; margin: 1.4rem 0 .4rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .4rem 1rem; }
dt { font-weight: bold; } dd { margin: 0; overflow-wrap: anywhere; }
code { overflow-wrap: anywhere; }
.actions { display: flex; gap: 1rem; margin-top: 1.6rem; }
button { font: inherit; padding: .5rem 1.4rem; border: 1px solid #1d1d1b; background: #1d1d1b; color: #fff; }
button.secondary { background: #fff; color: #1d1d1b; }
button:focus-visible, input:focus-visible { outline: 3px solid #7a4b00; outline-offset: 2px; }
input { font: inherit; padding: .4rem; width: 100%; box-sizing: border-box; }
.error { color: #8b0000; font-weight: bold; }
""".strip()
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
_PAGE_CSP = f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; base-uri 'none'; frame-ancestors 'none'"


def _send_page(resp: falcon.Response, status: int, title: str, body: str) -> None:
    send_page(
        resp,
        status=status,
        title=title,
        body=body,
        banner="Test mode — local Stripe double, no real payment",
        style=_STYLE,
        csp=_PAGE_CSP,
    )


def _not_open_page(resp: falcon.Response, session: dict[str, Any]) -> None:
    """What the hosted page says once a session cannot be paid (for instance after the back button from the
    registry's post-payment page): paid sessions say so and link back to where the payment led; only sessions
    that were never paid say that no payment was taken."""
    session_id = html.escape(session["id"])
    if session["status"] == "complete":
        back = (session.get("success_url") or "").replace("{CHECKOUT_SESSION_ID}", session["id"])
        body = (
            "<h1>This checkout session has already been paid</h1>\n"
            f"<p>Session <code>{session_id}</code> is complete; it cannot be paid twice.</p>"
        )
    else:
        reason = "has expired" if session["status"] == "expired" else "is no longer open"
        back = session.get("cancel_url") or ""
        body = (
            f"<h1>This checkout session {reason}</h1>\n"
            f"<p>Session <code>{session_id}</code> cannot be paid any more. No payment was taken.</p>"
        )
    if back:
        body += f'\n<p><a href="{html.escape(back)}">Return to the registry</a></p>'
    _send_page(resp, 409, "Checkout session not open", body)


class _PayPage:
    def __init__(self, double: StripeDouble):
        self.double = double

    def _session(self, resp, session_id):
        try:
            return self.double.get_session(session_id, expand=["line_items"])
        except StripeError:
            _send_page(
                resp,
                404,
                "Checkout session not found",
                "<h1>Checkout session not found</h1>\n<p>There is no checkout session at this address.</p>",
            )
            return None

    def _render(self, req, resp, session, *, status=200, error=None):
        item = session["line_items"]["data"][0]
        base = f"{req.root_path}/pay/{urllib.parse.quote(session['id'])}"
        email = session["customer_email"]
        if email:
            email_row = f"<dt>Email</dt><dd>{html.escape(email)}</dd>"
            email_field = ""
        else:
            email_row = ""
            email_field = (
                '<p><label for="email">Email</label>\n'
                '<input id="email" name="email" type="email" autocomplete="email" required></p>\n'
            )
        error_html = f'<p class="error" role="alert">{html.escape(error)}</p>\n' if error else ""
        cancel = ""
        if session["cancel_url"]:
            cancel = (
                f'<form method="post" action="{html.escape(base)}/cancel">'
                f'<button type="submit" class="secondary">Cancel</button></form>'
            )
        body = (
            f"<h1>Pay GhostShell Registry</h1>\n{error_html}<dl>\n"
            f"<dt>Product</dt><dd>{html.escape(item['description'])}</dd>\n"
            f"<dt>Quantity</dt><dd>{item['quantity']}</dd>\n"
            f"<dt>Total</dt><dd>{html.escape(format_amount(session['amount_total'], session['currency']))}</dd>\n"
            f"{email_row}\n</dl>\n"
            f'<div class="actions">\n<form method="post" action="{html.escape(base)}/pay">\n{email_field}'
            f'<button type="submit">Pay {html.escape(format_amount(session["amount_total"], session["currency"]))}'
            f"</button></form>\n{cancel}\n</div>"
        )
        _send_page(resp, status, "Pay GhostShell Registry — test mode", body)

    def on_get(self, req, resp, session_id):
        session = self._session(resp, session_id)
        if session is None:
            return
        if session["status"] != "open":
            return _not_open_page(resp, session)
        self._render(req, resp, session)

    def on_post_pay(self, req, resp, session_id):
        session = self._session(resp, session_id)
        if session is None:
            return
        if session["status"] != "open":
            return _not_open_page(resp, session)
        form = dict(urllib.parse.parse_qsl(req.bounded_stream.read().decode("utf-8", "replace")))
        email = session["customer_email"] or form.get("email", "").strip()
        if "@" not in email:
            return self._render(req, resp, session, status=422, error="Enter the email address for the receipt.")
        try:
            paid = self.double.complete(session_id, email=email)
        except StripeError:  # lost a race with expiry or another tab
            return _not_open_page(resp, self.double.get_session(session_id))
        if paid["success_url"]:
            raise falcon.HTTPSeeOther(paid["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id))
        _send_page(resp, 200, "Payment complete", "<h1>Payment complete</h1>\n<p>No real payment was taken.</p>")

    def on_post_cancel(self, req, resp, session_id):
        session = self._session(resp, session_id)
        if session is None:
            return
        if session["status"] != "open" or not session["cancel_url"]:
            return _not_open_page(resp, session)
        raise falcon.HTTPSeeOther(session["cancel_url"])


# -- control -----------------------------------------------------------------------------------------------------


class _Control:
    def __init__(self, double: StripeDouble):
        self.double = double

    def on_post_complete(self, req, resp, session_id):
        body = req.get_media(default_when_empty={}) or {}
        resp.media = self.double.complete(session_id, email=body.get("email"), deliver=False)

    def on_post_expire(self, req, resp, session_id):
        resp.media = self.double.expire(session_id, sync=True)

    def on_post_redeliver(self, req, resp, session_id):
        resp.media = self.double.redeliver(session_id)

    def on_post_delivery(self, req, resp):
        body = req.get_media(default_when_empty={}) or {}
        if not isinstance(body.get("enabled"), bool):
            raise StripeError.invalid('Send {"enabled": true|false}.', param="enabled")
        self.double.set_delivery(body["enabled"])
        resp.media = {"enabled": self.double.delivery_enabled}

    def on_get_events(self, req, resp):
        resp.media = self.double.deliveries

    def on_get_sessions(self, req, resp):
        resp.media = self.double.sessions()

    def on_post_settle(self, req, resp):
        body = req.get_media(default_when_empty={}) or {}
        settled = self.double.wait_for_deliveries(float(body.get("timeout", 5)))
        resp.media = {"settled": settled, "deliveries": self.double.deliveries}

    def on_post_reset(self, req, resp):
        self.double.reset()
        resp.media = {"reset": True}


def _handle_stripe_error(req, resp, ex: StripeError, params):
    resp.status = ex.status
    resp.media = {"error": ex.body}
    for name, value in ex.headers.items():
        resp.set_header(name, value)


def _handle_http_error(req, resp, ex: falcon.HTTPError, params):
    # Stripe-shaped errors on the API; Falcon's plain ones elsewhere (e.g. 405 on the hosted page).
    resp.status = ex.status
    for name, value in (ex.headers or {}).items():
        resp.set_header(name, value)
    if req.path.startswith("/v1/") or req.path.startswith("/_control/"):
        resp.media = {"error": {"type": "invalid_request_error", "message": ex.description or ex.title}}
    else:
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = ex.title


class _RequestId:
    def process_response(self, req, resp, resource, req_succeeded):
        if req.path.startswith("/v1/"):
            resp.set_header("Request-Id", _new_id("req_", 14))
            resp.set_header("Stripe-Version", API_VERSION)


def _build_app(double: StripeDouble) -> _DoubleApp:
    app = _DoubleApp(middleware=[_RequestId()])
    app.resp_options.xml_error_serialization = False
    sessions, session = _Sessions(double), _Session(double)
    app.add_route("/v1/checkout/sessions", sessions)
    app.add_route("/v1/checkout/sessions/{session_id}", session)
    app.add_route("/v1/checkout/sessions/{session_id}/line_items", session, suffix="line_items")
    app.add_route("/v1/checkout/sessions/{session_id}/expire", session, suffix="expire")
    app.add_sink(_unrecognized, "/v1/")
    page = _PayPage(double)
    app.add_route("/pay/{session_id}", page)
    app.add_route("/pay/{session_id}/pay", page, suffix="pay")
    app.add_route("/pay/{session_id}/cancel", page, suffix="cancel")
    control = _Control(double)
    app.add_route("/_control/sessions", control, suffix="sessions")
    app.add_route("/_control/sessions/{session_id}/complete", control, suffix="complete")
    app.add_route("/_control/sessions/{session_id}/expire", control, suffix="expire")
    app.add_route("/_control/sessions/{session_id}/redeliver", control, suffix="redeliver")
    app.add_route("/_control/delivery", control, suffix="delivery")
    app.add_route("/_control/events", control, suffix="events")
    app.add_route("/_control/settle", control, suffix="settle")
    app.add_route("/_control/reset", control, suffix="reset")
    app.add_error_handler(falcon.HTTPError, _handle_http_error)
    app.add_error_handler(StripeError, _handle_stripe_error)
    app.double = double
    return app


def create_app(
    *,
    webhook_url: str | None,
    webhook_secret: str,
    public_base: str,
    deliver: bool = True,
    retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
    webhook_timeout: float = 10.0,
    clock: Callable[[], float] = time.time,
) -> falcon.App:
    """The Stripe double as a WSGI app; `app.double` is its `StripeDouble` (state, log, controls)."""
    return StripeDouble(
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        public_base=public_base,
        deliver=deliver,
        retry_delays=retry_delays,
        webhook_timeout=webhook_timeout,
        clock=clock,
    ).app
