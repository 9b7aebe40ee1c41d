"""Statements written once (api/db.py `Prepared`): their rows are what Peewee's own queries give, on both databases.

`joined_rows` reads a purchase with its certificate in one statement; each side must equal the row Peewee reads
alone, and a purchase with no certificate comes with None.
"""

from __future__ import annotations

from api import delegation
from api.models import Certificate, Purchase
from api.purchases import BY_TOKEN_HASH_WITH_CERTIFICATE


def test_a_joined_read_gives_both_rows_as_peewee_reads_them(ctx, issued):
    token, cert = issued(agent_name="Joined Read")
    [(purchase, certificate)] = BY_TOKEN_HASH_WITH_CERTIFICATE.joined_rows(
        Certificate, None, ctx.keyring.token_hash(token)
    )
    assert purchase.__data__ == Purchase.get_by_id(purchase.id).__data__
    assert certificate.__data__ == Certificate.get_by_id(cert.id).__data__
    assert certificate.issued_at == cert.issued_at and certificate.agent_name == "Joined Read"


def test_a_joined_read_without_a_certificate_gives_none(ctx, paid_token):
    token = paid_token()
    [(purchase, certificate)] = BY_TOKEN_HASH_WITH_CERTIFICATE.joined_rows(
        Certificate, None, ctx.keyring.token_hash(token)
    )
    assert certificate is None
    assert purchase.__data__ == Purchase.get_by_id(purchase.id).__data__
    assert BY_TOKEN_HASH_WITH_CERTIFICATE.joined_rows(Certificate, None, "no such hash") == []


def test_the_holder_credential_carries_the_certificate_it_was_read_with(ctx, issued):
    token, cert = issued()
    credential = delegation.resolve(ctx, token)
    assert credential.issued is not None and credential.certificate().id == cert.id
