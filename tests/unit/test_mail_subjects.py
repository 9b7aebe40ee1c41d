"""The two emails a buyer receives are told apart by their subjects, and the purchase token stands on its own line
in the purchase email (issue 13, "the moments")."""

from __future__ import annotations

import re

from api.mail import messages

BASE = "https://registry.test"
TOKEN = "GSTK-" + "7K3M9QX2VD4N8PRT6WHJ0BCY"


def test_purchase_and_issued_emails_have_different_subjects():
    purchase = messages.private_link(BASE, TOKEN)
    issued = messages.certificate_issued(BASE, TOKEN, "GS-BC-H-26-1")
    assert purchase.subject == "Your GhostShell purchase token"
    assert issued.subject == "Certificate GS-BC-H-26-1 issued"
    assert purchase.subject != issued.subject


def test_the_token_stands_on_its_own_line_in_the_purchase_email():
    message = messages.private_link(BASE, TOKEN)
    lines = message.text.splitlines()
    assert TOKEN in lines  # a line that is the token and nothing else
    at = lines.index(TOKEN)
    assert lines[at - 1] == "" and lines[at + 1] == ""  # set apart by blank lines
    assert re.search(rf"<code[^>]*>{TOKEN}</code>", message.html)


def test_the_issued_email_carries_both_links():
    issued = messages.certificate_issued(BASE, TOKEN, "GS-BC-H-26-1")
    assert f"{BASE}/r/GS-BC-H-26-1" in issued.text and f"{BASE}/p/#{TOKEN}" in issued.text
    assert TOKEN not in issued.subject and "GS-BC-H-26-1" in issued.subject
