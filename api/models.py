"""Peewee models: the registry's tables.

Times are naive UTC `datetime`s. Nothing here stores a plaintext email or token: emails and pending tokens
are AES-GCM sealed (`*_enc`) and looked up by keyed hash (`*_hash`); see `api/crypto.py`.
The schema is created and upgraded only by `python -m api migrate` (`api/migrations/`), never at request time.
The certificate's declared columns are made from `api/definition.py`; states are the enums of `api/states.py`.
The models are bound to a database by the `Context` that owns it (`bind_models`); there is no global database.
Queries used by more than one module live here as classmethods (query scopes).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import peewee as pw

from . import definition
from . import public_id as ids
from .definition import Kind
from .states import AmendmentStatus, CertificateStatus, OutboxStatus, PurchaseStatus


def next_prefix(prefix: str) -> str | None:
    """The smallest string above every string that starts with `prefix` (code-point order, which is the byte
    order of UTF-8 and so of SQLite's BINARY and PostgreSQL's "C" collation). None when there is none."""
    for index in range(len(prefix) - 1, -1, -1):
        code = ord(prefix[index]) + 1
        if 0xD800 <= code <= 0xDFFF:
            code = 0xE000
        if code <= 0x10FFFF:
            return prefix[:index] + chr(code)
    return None


def name_key(name: str) -> str:
    """An agent name as stored in `Certificate.name_key`: case-folded, runs of spaces collapsed."""
    return " ".join(name.casefold().split())


class EnumField(pw.CharField):
    """A state column: stored as the enum's value, read back as the enum member."""

    def __init__(self, enum: type[StrEnum], **kwargs: Any):
        self.enum = enum
        kwargs.setdefault("max_length", max(len(member.value) for member in enum))
        super().__init__(**kwargs)

    def db_value(self, value: Any) -> Any:
        return None if value is None else self.enum(value).value

    def python_value(self, value: Any) -> Any:
        return None if value is None else self.enum(value)

    if TYPE_CHECKING:  # on a model instance, the column's value (an enum member), not the field

        def __get__(self, instance: Any, owner: Any) -> Any: ...
        def __set__(self, instance: Any, value: Any) -> None: ...


class BaseModel(pw.Model):
    class Meta:
        legacy_table_names = False


class Certificate(BaseModel):
    """A birth certificate: the full record. Its declared fields (agent_name, ..., parent_record) are added below
    from `api/definition.py`; public and private views are derived in `api/records.py`."""

    public_id = pw.CharField(max_length=ids.MAX_LENGTH, unique=True)
    public_id_key = pw.CharField(max_length=ids.MAX_LENGTH, unique=True)  # ids.key(public_id): prefix search
    card_year = pw.IntegerField()
    card_seq = pw.IntegerField()
    registration_source = pw.CharField(max_length=8)  # human | agent, from the first submission
    issued_at = pw.DateTimeField()
    status = EnumField(CertificateStatus, max_length=12, default=CertificateStatus.ACTIVE)
    revoked_at = pw.DateTimeField(null=True)
    revoked_reason = pw.TextField(null=True)
    name_key = pw.CharField(max_length=200)  # name_key(agent_name): name search
    parent_record_status = pw.CharField(max_length=12, null=True)  # verified | claimed, set with parent_record

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
    # Paid amendments (migration 0008, api/amendments.py): the record's version, and when it was last amended.
    version = pw.IntegerField(default=1)
    amended_at = pw.DateTimeField(null=True)

    @property
    def is_revoked(self) -> bool:
        return self.status == CertificateStatus.REVOKED

    @classmethod
    def with_public_id(cls, raw: str | None) -> pw.ModelSelect:
        """The record with that public id, given in any accepted form (any case, dashes and spaces optional).
        Text that cannot be an id (NUL, other symbols, over 40 characters) matches nothing, without reaching the
        database (PostgreSQL refuses NUL outright)."""
        key = ids.key(raw or "")
        if not re.fullmatch(rf"[0-9A-Z]{{1,{ids.MAX_LENGTH}}}", key):
            return cls.select().where(pw.SQL("1 = 0"))
        return cls.select().where(cls.public_id_key == key)

    @classmethod
    def with_id_prefix(cls, key: str, after: str | None = None) -> pw.ModelSelect:
        """Every record whose public id starts with `key` (key form), in `public_id_key` order, after `after`:
        a range on its unique index."""
        return cls.id_range(*id_prefix_bounds(key, after))

    @classmethod
    def id_range(cls, lower, strict: bool, upper=None, columns: tuple = ()) -> pw.ModelSelect:
        """The walk behind `with_id_prefix`, from its bounds (values or placeholders: see `Prepared`)."""
        query = cls.select(*columns).where(cls.public_id_key > lower if strict else cls.public_id_key >= lower)
        if upper is not None:
            query = query.where(cls.public_id_key < upper)
        return query.order_by(cls.public_id_key)

    @classmethod
    def listed_with_name_prefix(
        cls, prefix: str, after: tuple[str, int] | None = None, exclude_id_key: str | None = None
    ) -> pw.ModelSelect:
        """Listed, active records whose name starts with `prefix` (name_key form), in (name_key, id) order: a range
        on the (listed, name_key, id) index. `exclude_id_key` leaves out records whose id starts with it."""
        return cls.name_range(**name_prefix_bounds(prefix, after, exclude_id_key))

    @classmethod
    def name_range(
        cls,
        lower=None,
        upper=None,
        after_name=None,
        after_id=None,
        exclude_lower=None,
        exclude_upper=None,
        columns: tuple = (),
    ) -> pw.ModelSelect:
        """The walk behind `listed_with_name_prefix`, from its bounds (values or placeholders: see `Prepared`)."""
        query = cls.select(*columns).where(cls.listed == True)  # noqa: E712
        if lower is not None:  # an empty prefix (the directory) walks the index from its start
            query = query.where(cls.name_key >= lower)
        if upper is not None:
            query = query.where(cls.name_key < upper)
        if after_name is not None:
            query = query.where((cls.name_key > after_name) | (cls.id > after_id))
        query = query.where(cls.status == CertificateStatus.ACTIVE)
        if exclude_lower is not None:
            excluded = cls.public_id_key >= exclude_lower
            if exclude_upper is not None:
                excluded &= cls.public_id_key < exclude_upper
            query = query.where(~excluded)
        return query.order_by(cls.name_key, cls.id)

    class Meta:
        indexes = (
            (("listed", "name_key", "id"), False),
            (("card_year", "card_seq"), True),
        )


def id_prefix_bounds(key: str, after: str | None) -> tuple[str, bool, str | None]:
    """(lower, strict, upper) of the id walk for records whose id starts with `key`, after `after`."""
    if after is not None and after >= key:
        return after, True, next_prefix(key)
    return key, False, next_prefix(key)


def name_prefix_bounds(prefix: str, after: tuple[str, int] | None, exclude_id_key: str | None) -> dict:
    """The bounds of the name walk (`Certificate.name_range`) for names starting with `prefix`, after `after`,
    leaving out ids that start with `exclude_id_key`; absent bounds are None."""
    lower = prefix if after is None or after[0] < prefix else after[0]
    return {
        "lower": lower or None,
        "upper": next_prefix(prefix),
        "after_name": after[0] if after is not None else None,
        "after_id": after[1] if after is not None else None,
        "exclude_lower": exclude_id_key or None,
        "exclude_upper": next_prefix(exclude_id_key) if exclude_id_key else None,
    }


def declared_column(field: definition.Field) -> pw.Field:
    """The stored column of a declared field."""
    if field.kind is Kind.DATE:
        return pw.DateField()
    if field.kind is Kind.BOOLEAN:
        return pw.BooleanField(default=field.default)
    if field.kind is Kind.REFERENCE:
        return pw.CharField(max_length=field.column_length, null=True)
    if field.default is not None:
        return pw.CharField(max_length=field.column_length, default=field.default)
    return pw.CharField(max_length=field.column_length)


for _field in definition.FIELDS:
    Certificate._meta.add_field(_field.name, declared_column(_field))


class Purchase(BaseModel):
    """One paid (or pending) purchase and its token. `ref` is the only identifier that leaves for Stripe."""

    ref = pw.CharField(max_length=40, unique=True)
    token_hash = pw.CharField(max_length=64, unique=True)
    token_last4 = pw.CharField(max_length=4)
    token_enc = pw.TextField(null=True)  # sealed until the private-link email is queued
    email_hash = pw.CharField(max_length=64, index=True)  # '' once purged (api/retention.py)
    email_enc = pw.TextField()  # '' once purged
    status = EnumField(PurchaseStatus, max_length=12, default=PurchaseStatus.PENDING, index=True)
    is_test = pw.BooleanField(default=False)
    stripe_session_id = pw.CharField(max_length=255, unique=True, null=True)
    stripe_payment_intent = pw.CharField(max_length=255, null=True)
    handoff_binding_hash = pw.CharField(max_length=64, null=True)
    handoff_token_enc = pw.TextField(null=True)
    created_at = pw.DateTimeField(index=True)
    paid_at = pw.DateTimeField(null=True, index=True)
    abandoned_at = pw.DateTimeField(null=True)
    payment_failed_at = pw.DateTimeField(null=True)
    used_at = pw.DateTimeField(null=True)
    certificate = pw.ForeignKeyField(Certificate, null=True, unique=True, backref="purchases", on_delete="RESTRICT")
    # Lifecycle (migration 0007): the current token sealed so the link can be re-sent (deleted by purge), the last
    # replacement of the token, and when the recovery address was deleted under the retention policy.
    link_token_enc = pw.TextField(null=True)
    token_rotated_at = pw.DateTimeField(null=True)
    email_purged_at = pw.DateTimeField(null=True)

    @property
    def is_paid(self) -> bool:
        return self.status == PurchaseStatus.PAID

    @property
    def is_unfinished(self) -> bool:
        """The checkout ended without payment (abandoned or failed)."""
        return PurchaseStatus(self.status).is_unfinished

    @property
    def has_certificate(self) -> bool:
        return self.certificate_id is not None


class AgentToken(BaseModel):
    """A token the holder minted for the agent (`api/delegation.py`): hashed like the purchase token, never stored
    in plaintext. At most one per purchase is active (`revoked_at` null); minting another revokes the previous."""

    purchase = pw.ForeignKeyField(Purchase, backref="agent_tokens", on_delete="RESTRICT")
    token_hash = pw.CharField(max_length=64, unique=True)
    token_last4 = pw.CharField(max_length=4)
    created_at = pw.DateTimeField()
    revoked_at = pw.DateTimeField(null=True)
    last_used_at = pw.DateTimeField(null=True)


class CardCounter(BaseModel):
    """Per-year card sequence. Incremented inside the issuing transaction, so numbers have no gaps."""

    year = pw.IntegerField(primary_key=True)
    seq = pw.IntegerField(default=0)


class AuditEvent(BaseModel):
    """Every submission, lock change, rotation and revocation, written in the transaction that made it."""

    certificate = pw.ForeignKeyField(Certificate, backref="audit_events", on_delete="RESTRICT")
    action = pw.CharField(max_length=20)  # issue | correct | lock | unlock | rotate_token | revoke | agent_token
    source = pw.CharField(max_length=8)  # human | agent | support
    agent_handle = pw.CharField(max_length=200, null=True)
    agent_token = pw.ForeignKeyField(AgentToken, null=True, backref="audit_events", on_delete="RESTRICT")
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
    )  # private_link | abandoned_reminder | certificate_issued | token_rotated | claim_reminder | link_resent | ...
    purchase = pw.ForeignKeyField(Purchase, null=True, backref="messages", on_delete="RESTRICT")
    to_hash = pw.CharField(max_length=64)  # '' once purged
    subject = pw.CharField(max_length=200)
    payload_enc = pw.TextField(null=True)  # sealed {to, text, html}; cleared once sent, or by purge
    idempotency_key = pw.CharField(max_length=200, unique=True)
    status = EnumField(OutboxStatus, max_length=10, default=OutboxStatus.QUEUED)  # indexed with next_attempt_at
    attempts = pw.IntegerField(default=0)
    last_error = pw.CharField(max_length=500, null=True)
    next_attempt_at = pw.DateTimeField()
    created_at = pw.DateTimeField(index=True)
    sent_at = pw.DateTimeField(null=True)
    provider_id = pw.CharField(max_length=100, null=True)

    class Meta:
        # The sender's claim (`status = 'queued' AND next_attempt_at <= now ORDER BY next_attempt_at, id LIMIT 1`)
        # is one step down this index (migration 0011); on `status` alone it sorted every queued message.
        indexes = ((("status", "next_attempt_at", "id"), False),)


class SchemaMigration(BaseModel):
    version = pw.IntegerField(primary_key=True)
    name = pw.CharField(max_length=100)
    applied_at = pw.DateTimeField()


MODELS = [Certificate, Purchase, AgentToken, CardCounter, AuditEvent, WebhookEvent, OutboxMessage, SchemaMigration]


class SigningKey(BaseModel):
    """A registry signing key's public half and validity period (api/signing.py). The private half is never here."""

    public_key_multibase = pw.CharField(max_length=64, unique=True)
    valid_from = pw.DateTimeField()
    valid_until = pw.DateTimeField(null=True)  # null: the current key


class CredentialVersion(BaseModel):
    """One signed credential per certificate version, written in the transaction of the change (api/credentials.py)."""

    certificate = pw.ForeignKeyField(Certificate, backref="credential_versions", on_delete="RESTRICT")
    version = pw.IntegerField()
    event = pw.CharField(max_length=12)  # issue | correct | revoke | backfill
    status_index = pw.IntegerField(unique=True)
    signing_key = pw.ForeignKeyField(SigningKey, on_delete="RESTRICT")
    created_at = pw.DateTimeField()
    document = pw.TextField()

    class Meta:
        indexes = ((("certificate", "version"), True),)


class StatusList(BaseModel):
    """A Bitstring Status List (`revocation`, `refresh`): its bits, set in the transaction that changes a status,
    and when they last changed. The indexes are handed out from `CredentialVersion.status_index` (api/credentials.py);
    an issuance never rewrites a list (migration 0010 dropped the count kept here)."""

    purpose = pw.CharField(max_length=20, primary_key=True)
    bits = pw.BlobField()
    updated_at = pw.DateTimeField()


MODELS += [SigningKey, CredentialVersion, StatusList]


class LogHead(BaseModel):
    """The transparency log's one head row (id 1): its size, root and frontier (api/transparency.py). Every append
    locks it, so leaf indices have no gaps."""

    size = pw.BigIntegerField()
    frontier = pw.BlobField()  # the hashes of the complete subtrees that make up the tree, left to right
    root_hash = pw.BlobField()
    updated_at = pw.DateTimeField(null=True)


class LogEntry(BaseModel):
    """One leaf of the transparency log: its exact bytes, and what they describe (for lookups by record)."""

    idx = pw.BigIntegerField(primary_key=True)
    leaf = pw.BlobField()
    kind = pw.CharField(max_length=20)  # issued | corrected | revoked | signing_key
    subject = pw.CharField(max_length=200, index=True)  # the public id, or the key's verification method
    version = pw.IntegerField()
    certificate = pw.ForeignKeyField(Certificate, null=True, backref="log_entries", on_delete="RESTRICT")
    created_at = pw.DateTimeField()


class LogNode(BaseModel):
    """The hash of a completed subtree, stored once when it completes; id = level << 48 | index."""

    id = pw.BigIntegerField(primary_key=True)
    hash = pw.BlobField()


MODELS += [LogHead, LogEntry, LogNode]


class IdempotentRequest(BaseModel):
    """The stored answer to a write sent with an Idempotency-Key (api/idempotency.py). No key, token or link in the
    clear: the scope is a keyed hash, the answer is sealed."""

    scope_hash = pw.CharField(max_length=64, unique=True)  # keyed hash of (route, token, client key)
    request_hash = pw.CharField(max_length=64)  # SHA-256 of the request's fields
    status = pw.IntegerField()
    answer_enc = pw.TextField()
    created_at = pw.DateTimeField(index=True)


MODELS += [IdempotentRequest]


class Amendment(BaseModel):
    """One paid amendment of a locked record (api/amendments.py). `ref` is the only identifier that leaves for
    Stripe; `paid` exactly once, then `used` by the one submission it grants (which made `version`)."""

    ref = pw.CharField(max_length=40, unique=True)
    certificate = pw.ForeignKeyField(Certificate, backref="amendment_purchases", on_delete="RESTRICT")
    status = EnumField(AmendmentStatus, max_length=12, default=AmendmentStatus.PENDING, index=True)
    stripe_session_id = pw.CharField(max_length=255, unique=True, null=True)
    stripe_payment_intent = pw.CharField(max_length=255, null=True)
    created_at = pw.DateTimeField()
    paid_at = pw.DateTimeField(null=True)
    ended_at = pw.DateTimeField(null=True)  # expired or failed
    used_at = pw.DateTimeField(null=True)
    version = pw.IntegerField(null=True)  # the record version its submission made


class CertificateVersion(BaseModel):
    """The public view of one version of an amended record, and the public fields that version changed. Written in
    the amending transaction; never holds a private value."""

    certificate = pw.ForeignKeyField(Certificate, backref="versions", on_delete="RESTRICT")
    version = pw.IntegerField()
    changed = pw.TextField()  # public field paths, comma-separated ("" for version 1)
    public_view = pw.TextField()  # JSON: records.public_view at that version, without its URL
    created_at = pw.DateTimeField()

    class Meta:
        indexes = ((("certificate", "version"), True),)


MODELS += [Amendment, CertificateVersion]


def bind_models(db: pw.Database) -> None:
    """Point every model at `db` (done by the `Context` that owns the database)."""
    db.bind(MODELS, bind_refs=False, bind_backrefs=False)
