"""Races: the same token submitted at once, many issuances at once, corrections racing the cap.

Each thread has its own database connection (Peewee's are thread-local) and calls the domain directly. A barrier
placed just before the write transaction makes every thread pass the read-only checks first, so the transaction
alone has to decide: that is the case the original got wrong (inventory §8, bugs 18-20).
"""

from __future__ import annotations

import threading

import pytest

from api import certificates
from api.errors import RegistryError
from api.models import AuditEvent, CardCounter, Certificate, OutboxMessage, Purchase

from .support import agent_token_for, submission

pytestmark = pytest.mark.usefixtures("fixed_clock")


def race(ctx, count: int, work) -> list:
    """Run `work(index)` in `count` threads, each on its own connection; return results or error codes."""
    results: list = [None] * count

    def run(index: int) -> None:
        ctx.db.connect(reuse_if_open=True)
        try:
            results[index] = work(index)
        except RegistryError as exc:
            results[index] = exc.code
        except Exception as exc:  # reported by the assertion below, not lost in the thread
            results[index] = repr(exc)
        finally:
            ctx.db.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def gate(monkeypatch, name: str, parties: int) -> None:
    """Hold every caller of `certificates.<name>` until all `parties` have arrived."""
    barrier = threading.Barrier(parties)
    original = getattr(certificates, name)

    def gated(*args, **kwargs):
        barrier.wait(timeout=30)
        return original(*args, **kwargs)

    monkeypatch.setattr(certificates, name, gated)


def test_twenty_concurrent_first_submissions_of_one_token_issue_exactly_one(ctx, paid_token, monkeypatch):
    token = paid_token()
    gate(monkeypatch, "_issue", 20)
    results = race(ctx, 20, lambda index: certificates.redeem(ctx, submission(token, agent_name=f"Racer {index}")))
    created = [r for r in results if isinstance(r, certificates.Redeemed)]
    assert len(created) == 1 and created[0].created, results
    assert sorted(r for r in results if isinstance(r, str)) == ["token_already_used"] * 19
    assert Certificate.select().count() == 1
    assert Purchase.get().certificate_id == created[0].certificate.id
    assert CardCounter.get().seq == 1
    assert OutboxMessage.select().where(OutboxMessage.kind == "certificate_issued").count() == 1
    assert AuditEvent.select().count() == 1


def test_fifty_concurrent_issuances_get_fifty_consecutive_numbers(ctx, paid_token):
    tokens = [paid_token(f"buyer{n}@example.com") for n in range(50)]
    tokens = [agent_token_for(ctx, token) if n % 2 else token for n, token in enumerate(tokens)]
    barrier = threading.Barrier(50)

    def issue(index):
        barrier.wait(timeout=30)
        return certificates.redeem(ctx, submission(tokens[index], edit_source=...))

    results = race(ctx, 50, issue)
    assert all(isinstance(r, certificates.Redeemed) and r.created for r in results), results
    public_ids = {r.certificate.public_id for r in results}
    assert len(public_ids) == 50
    assert sorted(r.certificate.card_seq for r in results) == list(range(1, 51))
    assert sorted(c.card_seq for c in Certificate.select()) == list(range(1, 51))
    assert CardCounter.get().seq == 50


def test_twenty_racing_corrections_cannot_pass_the_cap(ctx, issued, monkeypatch):
    token, cert = issued()
    gate(monkeypatch, "_correct", 20)
    results = race(ctx, 20, lambda index: certificates.redeem(ctx, {"token": token, "agent_name": f"Edit {index}"}))
    assert sum(isinstance(r, certificates.Redeemed) for r in results) == 4, results
    assert sorted(r for r in results if isinstance(r, str)) == ["submission_cap_reached"] * 16
    cert = Certificate.get_by_id(cert.id)
    assert (cert.edit_count, cert.human_edit_count) == (5, 5)
    assert AuditEvent.select().where(AuditEvent.action == "correct").count() == 4


def test_racing_corrections_after_the_window_all_fail(ctx, issued, clock, monkeypatch):
    token, cert = issued()
    clock.advance(hours=24, seconds=1)
    gate(monkeypatch, "_correct", 10)
    results = race(ctx, 10, lambda index: certificates.redeem(ctx, {"token": token, "agent_name": "Late"}))
    assert results == ["correction_window_closed"] * 10
    assert Certificate.get_by_id(cert.id).edit_count == 1
