"""Peewee models: the registry's tables.

Times are naive UTC `datetime`s. Nothing here stores a plaintext email or token: emails and pending tokens
are AES-GCM sealed (`*_enc`) and looked up by keyed hash (`*_hash`); see `api/crypto.py`.
The schema is created and upgraded only by `python -m api migrate` (`api/migrations/`), never at request time.
"""

from __future__ import annotations

import re

import peewee as pw

database_proxy = pw.DatabaseProxy()


def public_id_key(raw: str) -> str:
    """A public id as stored in `Certificate.public_id_key`: upper case, without dashes or spaces."""
    return re.sub(r"[\s\-]", "", raw).upper()


def name_key(name: str) -> str:
    """An agent name as stored in `Certificate.name_key`: case-folded, runs of spaces collapsed."""
    return " ".join(name.casefold().split())


class BaseModel(pw.Model):
    class Meta:
        database = database_proxy
        legacy_table_names = False


class Certificate(BaseModel):
    """A birth certificate: the full record. Public views are derived in `api/records.py`."""

    public_id = pw.CharField(max_length=40, unique=True)
    public_id_key = pw.CharField(max_length=40, unique=True)  # upper-case, no dashes: prefix search
    card_year = pw.IntegerField()
    card_seq = pw.IntegerField()
    registration_source = pw.CharField(max_length=8)  # human | agent, from the first submission
    issued_at = pw.DateTimeField()
    status = pw.CharField(max_length=12, default="active")  # active | revoked
    revoked_at = pw.DateTimeField(null=True)
    revoked_reason = pw.TextField(null=True)

    agent_name = pw.CharField(max_length=200)
    name_key = pw.CharField(max_length=200)  # case-folded, spaces collapsed: name search
    listed = pw.BooleanField(default=False)
    declared_ontological_status = pw.CharField(max_length=40)
    cognitive_core_family = pw.CharField(max_length=60)
    cognitive_core_exact = pw.CharField(max_length=200, default="")
    creator_label = pw.CharField(max_length=200, default="")
    inception_date = pw.DateField()
    place_city = pw.CharField(max_length=120, default="")
    place_state = pw.CharField(max_length=120, default="")
    place_country = pw.CharField(max_length=120)
    show_city_public = pw.BooleanField(default=False)
    hide_state_public = pw.BooleanField(default=True)
    parent_record = pw.CharField(max_length=60, null=True)
    parent_record_status = pw.CharField(max_length=12, null=True)  # verified | claimed

    edit_count = pw.IntegerField(default=0)
    human_edit_count = pw.IntegerField(default=0)
    agent_edit_count = pw.IntegerField(default=0)
    last_edited_at = pw.DateTimeField()
    last_edit_source = pw.CharField(max_length=8)
    lock_agent_edits = pw.BooleanField(default=False)

    record_nonce = pw.CharField(max_length=64)
    record_hash = pw.CharField(max_length=64)
    public_fingerprint = pw.CharField(max_length=64)
    hash_version = pw.IntegerField(default=1)

    @classmethod
    def with_public_id(cls, raw: str | None) -> pw.ModelSelect:
        """The record with that public id, given in any accepted form (any case, dashes and spaces optional)."""
        return cls.select().where(cls.public_id_key == public_id_key(raw or ""))

    class Meta:
        indexes = (
            (("listed", "name_key", "id"), False),
            (("card_year", "card_seq"), True),
        )


class Purchase(BaseModel):
    """One paid (or pending) purchase and its token. `ref` is the only identifier that leaves for Stripe."""

    ref = pw.CharField(max_length=40, unique=True)
    token_hash = pw.CharField(max_length=64, unique=True)
    token_last4 = pw.CharField(max_length=4)
    token_enc = pw.TextField(null=True)  # sealed until the private-link email is queued
    email_hash = pw.CharField(max_length=64, index=True)
    email_enc = pw.TextField()
    status = pw.CharField(max_length=12, default="pending", index=True)  # pending|paid|abandoned|failed
    is_test = pw.BooleanField(default=False)
    stripe_session_id = pw.CharField(max_length=255, unique=True, null=True)
    stripe_payment_intent = pw.CharField(max_length=255, null=True)
    handoff_binding_hash = pw.CharField(max_length=64, null=True)
    handoff_token_enc = pw.TextField(null=True)
    created_at = pw.DateTimeField(index=True)
    paid_at = pw.DateTimeField(null=True)
    abandoned_at = pw.DateTimeField(null=True)
    payment_failed_at = pw.DateTimeField(null=True)
    used_at = pw.DateTimeField(null=True)
    certificate = pw.ForeignKeyField(Certificate, null=True, unique=True, backref="purchases", on_delete="RESTRICT")


class CardCounter(BaseModel):
    """Per-year card sequence. Incremented inside the issuing transaction, so numbers have no gaps."""

    year = pw.IntegerField(primary_key=True)
    seq = pw.IntegerField(default=0)


class AuditEvent(BaseModel):
    """Every submission, lock change, rotation and revocation, written in the transaction that made it."""

    certificate = pw.ForeignKeyField(Certificate, backref="audit_events", on_delete="RESTRICT")
    action = pw.CharField(max_length=20)  # issue | correct | lock | unlock | rotate_token | revoke
    source = pw.CharField(max_length=8)  # human | agent | support
    agent_handle = pw.CharField(max_length=200, null=True)
    user_agent = pw.CharField(max_length=300, null=True)
    detail = pw.TextField(null=True)
    created_at = pw.DateTimeField()


class WebhookEvent(BaseModel):
    """A processed Stripe event id, recorded in the same transaction as the event's effects."""

    event_id = pw.CharField(max_length=255, primary_key=True)
    event_type = pw.CharField(max_length=100)
    processed_at = pw.DateTimeField()


class OutboxMessage(BaseModel):
    """A transactional email, queued with the change that caused it and sent in the background."""

    kind = pw.CharField(
        max_length=30, index=True
    )  # private_link | abandoned_reminder | certificate_issued | token_rotated
    purchase = pw.ForeignKeyField(Purchase, null=True, backref="messages", on_delete="RESTRICT")
    to_hash = pw.CharField(max_length=64)
    subject = pw.CharField(max_length=200)
    payload_enc = pw.TextField(null=True)  # sealed {to, text, html}; cleared once sent
    idempotency_key = pw.CharField(max_length=200, unique=True)
    status = pw.CharField(max_length=10, default="queued", index=True)  # queued|sending|sent|failed|held
    attempts = pw.IntegerField(default=0)
    last_error = pw.CharField(max_length=500, null=True)
    next_attempt_at = pw.DateTimeField(index=True)
    created_at = pw.DateTimeField(index=True)
    sent_at = pw.DateTimeField(null=True)
    provider_id = pw.CharField(max_length=100, null=True)


class SchemaMigration(BaseModel):
    version = pw.IntegerField(primary_key=True)
    name = pw.CharField(max_length=100)
    applied_at = pw.DateTimeField()


MODELS = [Certificate, Purchase, CardCounter, AuditEvent, WebhookEvent, OutboxMessage, SchemaMigration]


class SigningKey(BaseModel):
    """A registry signing key's public half and validity period (api/signing.py). The private half is never here."""

    public_key_multibase = pw.CharField(max_length=64, unique=True)
    valid_from = pw.DateTimeField()
    valid_until = pw.DateTimeField(null=True)  # null: the current key


class CredentialVersion(BaseModel):
    """One signed credential per certificate version, written in the transaction of the change (api/credentials.py)."""

    certificate = pw.ForeignKeyField(Certificate, backref="credential_versions", on_delete="RESTRICT")
    version = pw.IntegerField()
    event = pw.CharField(max_length=12)  # issue | correct | revoke
    status_index = pw.IntegerField(unique=True)
    signing_key = pw.ForeignKeyField(SigningKey, on_delete="RESTRICT")
    created_at = pw.DateTimeField()
    document = pw.TextField()

    class Meta:
        indexes = ((("certificate", "version"), True),)


class StatusList(BaseModel):
    """A Bitstring Status List (`revocation`, `refresh`): its bits, set in the transaction that changes a status.
    `allocated` counts the indexes handed out (kept on the revocation row; every list shares the indexes)."""

    purpose = pw.CharField(max_length=20, primary_key=True)
    bits = pw.BlobField()
    allocated = pw.IntegerField(default=0)
    updated_at = pw.DateTimeField()


MODELS += [SigningKey, CredentialVersion, StatusList]
