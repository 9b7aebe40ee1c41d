"""The durable outbox and the Resend transport.

`queue()` writes a message in the caller's transaction, so a message exists exactly when the change that
caused it was committed. `OutboxSender.send_due()` (run by a background thread under `serve`) claims due
messages one at a time and sends them through the transport:

- sent: status `sent`, the sealed payload is cleared (it held the address and maybe a token);
- 429, 5xx or a network failure: retried with exponential backoff (honouring `Retry-After`) up to MAX_ATTEMPTS,
  then `failed`;
- any other 4xx: `failed` at once, never retried;
- no Resend key configured: `held` — kept sealed and readable with `python -m api outbox show ID`, never dropped.

A claim (`sending`) lapses after CLAIM_LEASE: every pass of every running sender takes lapsed claims back into the
queue, so a message whose sender crashed waits minutes, not until a restart. A delivery whose `sent` update fails
(a database blip) is kept in memory and recorded on the next pass, and its claim is not taken back meanwhile: the
message is not sent twice. Each send also carries `Idempotency-Key: <message key>`, so a resend after a crash
between delivery and record is answered by the provider with the first delivery: the last line, not the first.
Logs name the message id and kind only: never an address, a token or a body.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import threading

import requests

from ..crypto import Keyring
from ..db import insert, write_transaction
from ..models import OutboxMessage
from ..states import OutboxStatus
from .messages import Message

log = logging.getLogger("ghostshell.mail")

MAX_ATTEMPTS = 8
CLAIM_LEASE = dt.timedelta(minutes=2)  # longer than a send can take (15 s timeout); then the claim lapses
BASE_BACKOFF_SECONDS = 30
MAX_BACKOFF_SECONDS = 3600
PAYLOAD_PURPOSE = "outbox"
_EMAIL_LIKE = re.compile(r"[^\s@<>\"']+@[^\s@<>\"']+")


class TransientSendError(Exception):
    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class PermanentSendError(Exception):
    pass


class NotConfigured(Exception):
    pass


class ResendTransport:
    """POST /emails on the Resend HTTP API with `requests`."""

    def __init__(
        self,
        api_key: str | None,
        from_email: str,
        api_base: str,
        session: requests.Session | None = None,
        timeout: float = 15.0,
    ):
        self._api_key = api_key
        self._from = from_email
        self._url = api_base.rstrip("/") + "/emails"
        self._session = session or requests.Session()
        self._timeout = timeout

    def send(self, to: str, message: Message, idempotency_key: str) -> str:
        if not self._api_key:
            raise NotConfigured("RESEND_API_KEY is not set")
        try:
            response = self._session.post(
                self._url,
                json={
                    "from": self._from,
                    "to": [to],
                    "subject": message.subject,
                    "text": message.text,
                    "html": message.html,
                },
                headers={
                    "Authorization": f"Bearer {self._api_key}",
                    "Idempotency-Key": idempotency_key,
                    "User-Agent": "ghostshell-registry/1.0",
                },
                timeout=self._timeout,
            )
        except requests.RequestException as exc:
            raise TransientSendError(f"network error: {type(exc).__name__}") from exc
        if 200 <= response.status_code < 300:
            return str(response.json().get("id", ""))
        detail = f"HTTP {response.status_code}: {response.text[:300]}"
        if response.status_code == 429 or response.status_code >= 500:
            retry_after = response.headers.get("retry-after")
            raise TransientSendError(detail, float(retry_after) if retry_after and retry_after.isdigit() else None)
        raise PermanentSendError(detail)


def queue(
    keyring: Keyring, *, kind: str, to: str, message: Message, idempotency_key: str, now: dt.datetime, purchase=None
) -> OutboxMessage:
    """Queue a message. Call inside the transaction that makes the change the message reports."""
    payload = json.dumps({"to": to, "text": message.text, "html": message.html})
    return insert(
        OutboxMessage(
            kind=kind,
            purchase=purchase,
            to_hash=keyring.email_hash(to),
            subject=message.subject,
            payload_enc=keyring.seal(PAYLOAD_PURPOSE, payload),
            idempotency_key=idempotency_key,
            status=OutboxStatus.QUEUED,
            next_attempt_at=now,
            created_at=now,
        )
    )


def read_payload(keyring: Keyring, message: OutboxMessage) -> dict | None:
    """The sealed address and body of a message not yet sent (for `outbox show`), or None once cleared."""
    if not message.payload_enc:
        return None
    payload = json.loads(keyring.open(PAYLOAD_PURPOSE, message.payload_enc))
    payload["subject"] = message.subject
    return payload


def backoff_seconds(attempts: int, retry_after: float | None = None) -> float:
    delay = min(MAX_BACKOFF_SECONDS, BASE_BACKOFF_SECONDS * (2 ** max(0, attempts - 1)))
    return max(delay, retry_after or 0)


def next_due(now: dt.datetime):
    """The queued messages due by `now`, the oldest first: one step down the (status, next_attempt_at, id) index
    (migration 0011), however many are queued."""
    return (
        OutboxMessage.select()
        .where(OutboxMessage.status == OutboxStatus.QUEUED, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
    )


class OutboxSender:
    def __init__(self, db, keyring: Keyring, transport, clock):
        self._db = db
        self._keyring = keyring
        self._transport = transport
        self._clock = clock
        # Deliveries the provider accepted whose `sent` update the database refused (an outage): recorded first
        # thing on every later pass, and never taken back into the queue meanwhile, so never delivered twice.
        self._unrecorded: dict[int, dict] = {}

    def _claim_next(self) -> OutboxMessage | None:
        now = self._clock()
        with self._db.connection_context(), write_transaction(self._db):
            candidate = next_due(now).first()
            if candidate is None:
                return None
            # A conditional update, so two senders (two instances) never claim the same message.
            claimed = (
                # While sending, next_attempt_at is when the claim lapses: after it, any sender takes it back.
                OutboxMessage.update(
                    status=OutboxStatus.SENDING,
                    attempts=OutboxMessage.attempts + 1,
                    next_attempt_at=now + CLAIM_LEASE,
                )
                .where(OutboxMessage.id == candidate.id, OutboxMessage.status == OutboxStatus.QUEUED)
                .execute()
            )
            if not claimed:
                return None
            return OutboxMessage.get_by_id(candidate.id)

    def _finish(self, message_id: int, **fields) -> None:
        if fields.get("last_error"):
            # Provider errors may echo the recipient; the outbox keeps no plaintext address.
            fields["last_error"] = _EMAIL_LIKE.sub("[address]", fields["last_error"])[:500]
        with self._db.connection_context(), self._db.atomic():
            OutboxMessage.update(**fields).where(OutboxMessage.id == message_id).execute()

    def send_one(self) -> bool:
        """Claim and send the next due message; False when none is due."""
        message = self._claim_next()
        if message is None:
            return False
        payload = read_payload(self._keyring, message)
        assert payload is not None  # a message keeps its sealed payload until it is sent
        now = self._clock()
        try:
            provider_id = self._transport.send(
                payload["to"], Message(message.subject, payload["text"], payload["html"]), message.idempotency_key
            )
        except NotConfigured:
            self._finish(
                message.id, status=OutboxStatus.HELD, last_error="RESEND_API_KEY not set; message kept in the outbox"
            )
            log.warning(
                "email %s (%s) held: no Resend key; read it with `python -m api outbox show %s`",
                message.id,
                message.kind,
                message.id,
            )
        except TransientSendError as exc:
            if message.attempts >= MAX_ATTEMPTS:
                self._finish(message.id, status=OutboxStatus.FAILED, last_error=str(exc))
                log.error("email %s (%s) failed after %s attempts", message.id, message.kind, message.attempts)
            else:
                retry_at = now + dt.timedelta(seconds=backoff_seconds(message.attempts, exc.retry_after))
                self._finish(message.id, status=OutboxStatus.QUEUED, last_error=str(exc), next_attempt_at=retry_at)
                log.warning("email %s (%s) will be retried: %s", message.id, message.kind, str(exc)[:80])
        except PermanentSendError as exc:
            self._finish(message.id, status=OutboxStatus.FAILED, last_error=str(exc))
            log.error("email %s (%s) rejected by the provider", message.id, message.kind)
        except Exception as exc:  # an unexpected failure must not leave the message stuck in `sending`
            retry_at = now + dt.timedelta(seconds=backoff_seconds(message.attempts))
            self._finish(
                message.id, status=OutboxStatus.QUEUED, last_error=type(exc).__name__, next_attempt_at=retry_at
            )
            log.exception("email %s (%s) send crashed; will retry", message.id, message.kind)
        else:
            delivered = dict(
                status=OutboxStatus.SENT, sent_at=now, provider_id=provider_id[:100], payload_enc=None, last_error=None
            )
            try:
                self._finish(message.id, **delivered)
            except Exception:
                self._unrecorded[message.id] = delivered
                log.error("email %s (%s) sent, but not yet recorded as sent; will record it", message.id, message.kind)
                raise
            log.info("email %s (%s) sent", message.id, message.kind)
        return True

    def _record_unrecorded(self) -> None:
        for message_id, delivered in list(self._unrecorded.items()):
            self._finish(message_id, **delivered)
            del self._unrecorded[message_id]
            log.info("email %s recorded as sent", message_id)

    def send_due(self, limit: int = 50) -> int:
        """One pass: record deliveries not yet recorded, take back lapsed claims, then send what is due, at most
        `limit` messages. Returns how many were processed (sent, retried or failed)."""
        self._record_unrecorded()
        self.recover_stuck()
        processed = 0
        while processed < limit and self.send_one():
            processed += 1
        return processed

    def recover_stuck(self) -> int:
        """Claims that lapsed (their sender crashed or lost the database) go back to the queue. A resend after a
        delivery that was never recorded carries the same Idempotency-Key, which the provider answers with the first
        delivery: the last line against a duplicate, after the in-process record above."""
        with self._db.connection_context(), self._db.atomic():
            query = OutboxMessage.update(status=OutboxStatus.QUEUED).where(
                OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.next_attempt_at <= self._clock()
            )
            if self._unrecorded:
                query = query.where(OutboxMessage.id.not_in(list(self._unrecorded)))
            return query.execute()


class BackgroundSender:
    """Runs `OutboxSender.send_due()` every few seconds in a daemon thread (under `serve`)."""

    def __init__(self, sender: OutboxSender, interval: float = 2.0):
        self._sender = sender
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-sender", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._sender.send_due()
            except Exception:
                log.exception("outbox pass failed")
            self._stop.wait(self._interval)
