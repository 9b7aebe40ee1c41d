"""The registry's rules, in one place.

- A paid token may be used for the first submission within CLAIM_WINDOW_DAYS of payment.
- After issuance, corrections are accepted for CORRECTION_WINDOW_HOURS, and at most MAX_SUBMISSIONS
  submissions are accepted in total, the first included.
- A Stripe Checkout Session counts as paid when `payment_status` is `paid` or `no_payment_required`, or when
  its `status` is `complete` and `amount_total` is 0 (a 100 % promotion code).
- The price is US$9.99 unless STRIPE_PRICE_ID names a Stripe price; checkout sessions expire after
  CHECKOUT_EXPIRY_MINUTES.
"""

from __future__ import annotations

import datetime as dt
import re

CLAIM_WINDOW_DAYS = 7
CORRECTION_WINDOW_HOURS = 24
MAX_SUBMISSIONS = 5
PRICE_CENTS = 999
PRICE_CURRENCY = "usd"
PRICE_DISPLAY = "US$9.99"
PRODUCT_NAME = "GhostShell birth certificate"
CHECKOUT_EXPIRY_MINUTES = 60

MAX_EMAIL_LENGTH = 254
# The same rule the site's JavaScript applies before posting.
EMAIL_PATTERN = re.compile(r"^[^\s@<>()\[\],;:\"]+@[^\s@<>()\[\],;:\"]+\.[^\s@<>()\[\],;:\"]+$")


def claim_deadline(paid_at: dt.datetime) -> dt.datetime:
    return paid_at + dt.timedelta(days=CLAIM_WINDOW_DAYS)


def correction_deadline(issued_at: dt.datetime) -> dt.datetime:
    return issued_at + dt.timedelta(hours=CORRECTION_WINDOW_HOURS)


def session_is_paid(session) -> bool:
    payment_status = session.get("payment_status")
    if payment_status in ("paid", "no_payment_required"):
        return True
    return session.get("status") == "complete" and (session.get("amount_total") or 0) == 0


def normalize_email(raw) -> str | None:
    """The lower-cased address, or None when it is not a plausible email address."""
    if not isinstance(raw, str):
        return None
    email = raw.strip().lower()
    if not email or len(email) > MAX_EMAIL_LENGTH or not EMAIL_PATTERN.match(email):
        return None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in email):
        return None
    return email
