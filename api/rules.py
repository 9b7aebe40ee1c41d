"""The registry's rules, in one place.

- A paid token may be used for the first submission within CLAIM_WINDOW_DAYS of payment.
- After issuance, corrections are accepted for CORRECTION_WINDOW_HOURS, and at most MAX_SUBMISSIONS
  submissions are accepted in total, the first included.
- A Stripe Checkout Session counts as paid when `payment_status` is `paid` or `no_payment_required`, or when
  its `status` is `complete` and `amount_total` is 0 (a 100 % promotion code).
- The price is PRICE_DISPLAY unless STRIPE_PRICE_ID names a Stripe price; checkout sessions expire after
  CHECKOUT_EXPIRY_MINUTES.
- A locked record (window closed or cap reached) can be amended: each paid amendment (AMENDMENT_PRICE_DISPLAY
  unless GHOSTSHELL_AMENDMENT_PRICE_ID names a Stripe price) grants exactly one more submission and makes a new
  version of the record.
- A purchase token is TOKEN_PREFIX + TOKEN_BODY_LENGTH characters of Crockford base32 (TOKEN_ALPHABET).
- A recovery email is at most MAX_EMAIL_LENGTH characters and matches EMAIL_PATTERN.

`export()` publishes these numbers for the site build (api/definition.json, via `api.definition`), so page texts
and scripts never type them again.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

CLAIM_WINDOW_DAYS = 7
CORRECTION_WINDOW_HOURS = 24
MAX_SUBMISSIONS = 5
PRICE_CENTS = 999
PRICE_CURRENCY = "usd"
PRICE_DISPLAY = "US$9.99"
PRODUCT_NAME = "GhostShell birth certificate"
# A paid amendment (api/amendments.py): one more submission for a locked record, unless
# GHOSTSHELL_AMENDMENT_PRICE_ID names a Stripe price.
AMENDMENT_PRICE_CENTS = 499
AMENDMENT_PRICE_DISPLAY = "US$4.99"
AMENDMENT_PRODUCT_NAME = "GhostShell certificate amendment"
CHECKOUT_EXPIRY_MINUTES = 60

TOKEN_PREFIX = "GSTK-"
AGENT_TOKEN_PREFIX = "GSAT-"  # an agent token the holder minted (api/delegation.py): same alphabet and length
TOKEN_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
TOKEN_BODY_LENGTH = 24

MAX_EMAIL_LENGTH = 254
# The same rule the site's JavaScript applies before posting.
EMAIL_PATTERN = re.compile(r"^[^\s@<>()\[\],;:\"]+@[^\s@<>()\[\],;:\"]+\.[^\s@<>()\[\],;:\"]+$")


def _char_class(alphabet: str) -> str:
    """The characters of `alphabet` as a regular-expression class body with runs as ranges (0-9A-HJK...)."""
    runs: list[list[str]] = []
    for ch in sorted(alphabet):
        if runs and ord(ch) == ord(runs[-1][-1]) + 1:
            runs[-1].append(ch)
        else:
            runs.append([ch])
    return "".join(run[0] + "-" + run[-1] if len(run) > 2 else "".join(run) for run in runs)


# Either token in its compact form (no hyphen), as the site's scripts check it (JavaScript accepts it as written).
_PREFIXES = f"({TOKEN_PREFIX.rstrip('-')}|{AGENT_TOKEN_PREFIX.rstrip('-')})"
CREDENTIAL_PATTERN = f"^{_PREFIXES}[{_char_class(TOKEN_ALPHABET)}]{{{TOKEN_BODY_LENGTH}}}$"


def export() -> dict[str, object]:
    """The rules as the site build sees them (JSON-ready)."""
    return {
        "claim_window_days": CLAIM_WINDOW_DAYS,
        "correction_window_hours": CORRECTION_WINDOW_HOURS,
        "max_submissions": MAX_SUBMISSIONS,
        "price_cents": PRICE_CENTS,
        "price_currency": PRICE_CURRENCY,
        "price_display": PRICE_DISPLAY,
        "amendment_price_display": AMENDMENT_PRICE_DISPLAY,
        "checkout_expiry_minutes": CHECKOUT_EXPIRY_MINUTES,
        "token_prefix": TOKEN_PREFIX,
        "agent_token_prefix": AGENT_TOKEN_PREFIX,
        "token_alphabet": TOKEN_ALPHABET,
        "credential_pattern": CREDENTIAL_PATTERN,
        "token_body_length": TOKEN_BODY_LENGTH,
        "max_email_length": MAX_EMAIL_LENGTH,
        "email_pattern": EMAIL_PATTERN.pattern,
        "replace_link_hours": REPLACE_LINK_HOURS,
        "retention_days": RETENTION_DAYS,
    }


def claim_deadline(paid_at: dt.datetime) -> dt.datetime:
    return paid_at + dt.timedelta(days=CLAIM_WINDOW_DAYS)


def correction_deadline(issued_at: dt.datetime) -> dt.datetime:
    return issued_at + dt.timedelta(hours=CORRECTION_WINDOW_HOURS)


def session_is_paid(session: Mapping[str, object]) -> bool:
    payment_status = session.get("payment_status")
    if payment_status in ("paid", "no_payment_required"):
        return True
    return session.get("status") == "complete" and not session.get("amount_total")


def normalize_email(raw: object) -> str | None:
    """The lower-cased address, or None when it is not a plausible email address."""
    if not isinstance(raw, str):
        return None
    email = raw.strip().lower()
    if not email or len(email) > MAX_EMAIL_LENGTH or not EMAIL_PATTERN.match(email):
        return None
    if any(ord(ch) < 32 or ord(ch) == 127 or 0xD800 <= ord(ch) <= 0xDFFF for ch in email):
        return None  # controls, and lone surrogates (which no database or mail system can store)
    return email


# -- lifecycle ----------------------------------------------------------------------------------------------------
# A paid token not used yet is reminded FIRST_REMINDER_AFTER_DAYS after payment and once more
# LAST_REMINDER_BEFORE_CLOSE_DAYS before its claim window closes; never after it issued a certificate or was
# replaced. The holder may ask (by email) for a new private link: the emailed replacement link works for
# REPLACE_LINK_HOURS and once. Recovery addresses and message bodies are deleted RETENTION_DAYS after issuance
# (an unused token: after its claim window closed; a checkout never paid: after it started; a message: after it
# was written). See api/reminders.py, api/resend.py, api/retention.py.
FIRST_REMINDER_AFTER_DAYS = 3
LAST_REMINDER_BEFORE_CLOSE_DAYS = 1
REPLACE_LINK_HOURS = 24
RETENTION_DAYS = 90
# A stored answer to a request sent with an Idempotency-Key is kept this long (as Stripe keeps its keys), then
# `ops purge` deletes it; a retry after that is handled as a new request (api/idempotency.py).
IDEMPOTENCY_KEEP_HOURS = 24


def first_reminder_at(paid_at: dt.datetime) -> dt.datetime:
    return paid_at + dt.timedelta(days=FIRST_REMINDER_AFTER_DAYS)


def last_reminder_at(paid_at: dt.datetime) -> dt.datetime:
    return claim_deadline(paid_at) - dt.timedelta(days=LAST_REMINDER_BEFORE_CLOSE_DAYS)
