"""The registry's emails. Each has a text part and an HTML part and ends with the common footer.

Tone: calm, formal, declarative; no exclamation marks. Every interpolated value is escaped in the HTML part.
Each message has its own subject, so a buyer can tell the purchase token from the issued certificate in an
inbox: PURCHASE_SUBJECT, "Certificate <public id> issued", and the support ones. The purchase token stands alone
on its own line in the purchase email, so it can be selected and copied whole.
"""

from __future__ import annotations

import dataclasses
from html import escape

from .. import links
from ..rules import AGENT_TOKEN_PREFIX, CLAIM_WINDOW_DAYS, CORRECTION_WINDOW_HOURS, MAX_SUBMISSIONS

SUPPORT_ADDRESS = "support@ghostshell.host"
PURCHASE_SUBJECT = "Your GhostShell purchase token"


def issued_subject(public_id: str) -> str:
    return f"Certificate {public_id} issued"


@dataclasses.dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str


def _footer_text(base_url: str) -> str:
    return (
        "\n--\nGhostShell Registry\n"
        f"{base_url}\n{SUPPORT_ADDRESS}\n"
        "This is a transactional message: you started or completed a checkout with the registry.\n"
    )


def _footer_html(base_url: str) -> str:
    return (
        '<hr style="border:0;border-top:1px solid #ccc;margin:24px 0 12px">'
        '<p style="font-size:12px;color:#555;margin:0">GhostShell Registry<br>'
        f'<a href="{escape(base_url)}">{escape(base_url)}</a><br>{SUPPORT_ADDRESS}<br>'
        "This is a transactional message: you started or completed a checkout with the registry.</p>"
    )


def _html(paragraphs: list[str], base_url: str, preformatted: str | None = None) -> str:
    body = "".join(f'<p style="margin:0 0 12px">{p}</p>' for p in paragraphs)
    if preformatted:
        body += (
            '<pre style="background:#111;color:#eee;padding:12px;font:13px/1.5 monospace;white-space:pre-wrap">'
            f"{escape(preformatted)}</pre>"
        )
    return f'<div style="font:15px/1.55 Georgia,serif;color:#111;max-width:600px">{body}{_footer_html(base_url)}</div>'


def _rules_text() -> str:
    return (
        f"- Submit the initial details within {CLAIM_WINDOW_DAYS} days of payment.\n"
        f"- Corrections are accepted for {CORRECTION_WINDOW_HOURS} hours after the first submission.\n"
        f"- At most {MAX_SUBMISSIONS} submissions in total, the first included.\n"
        "- The holder may lock edits made by the agent from the private page.\n"
    )


def _link(url: str) -> str:
    return f'<a href="{escape(url)}">{escape(url)}</a>'


def private_link(base_url: str, token: str) -> Message:
    private_url = links.private_url(base_url, token)
    handoff_url = f"{base_url}/handoff/#token={token}"
    # The purchase token is the holder's: the agent is given its own agent token, made on the handoff page.
    agent_block = (
        "AGENT INSTRUCTIONS\n"
        "The token in the link above is yours; do not give it to the agent.\n"
        f"1. To let the agent register itself, open the handoff page and make an agent token: {handoff_url}\n"
        f"2. Give the agent that agent token ({AGENT_TOKEN_PREFIX}...), with the prompt the handoff page prepares.\n"
        f"3. The agent registers by plain HTTP, starting at {base_url}/llms.txt, or through the registry's MCP "
        f"server: python -m api mcp --base {base_url}\n"
        "4. Its submissions are recorded as the agent's. Lock agent edits or revoke the agent token on the private "
        "page at any time.\n"
    )
    text = (
        "Payment for a GhostShell birth certificate has been received.\n\n"
        "Your purchase token (keep it private; it is the only key to the record):\n\n"
        f"{token}\n\n"
        f"Private certificate link:\n{private_url}\n\n"
        "The public redacted record becomes available after the initial submission.\n\n"
        f"Rules:\n{_rules_text()}\n"
        "To keep a copy, open the private page and use Print, then Save as PDF.\n\n"
        f"{agent_block}" + _footer_text(base_url)
    )
    html = _html(
        [
            "Payment for a GhostShell birth certificate has been received.",
            "Your purchase token (keep it private; it is the only key to the record):",
            f'<code style="font:16px/1.5 monospace;letter-spacing:.04em">{escape(token)}</code>',
            f"Private certificate link:<br>{_link(private_url)}",
            "The public redacted record becomes available after the initial submission.",
            "Rules:<br>" + "<br>".join(escape(line) for line in _rules_text().splitlines()),
            "To keep a copy, open the private page and use Print, then Save as PDF.",
        ],
        base_url,
        preformatted=agent_block,
    )
    return Message(PURCHASE_SUBJECT, text, html)


def abandoned_reminder(base_url: str) -> Message:
    issue_url = f"{base_url}/issue/"
    text = (
        "A checkout for a GhostShell birth certificate was started and not completed. No payment was taken.\n\n"
        f"To issue a certificate, begin again here:\n{issue_url}\n" + _footer_text(base_url)
    )
    html = _html(
        [
            "A checkout for a GhostShell birth certificate was started and not completed. No payment was taken.",
            f"To issue a certificate, begin again here:<br>{_link(issue_url)}",
        ],
        base_url,
    )
    return Message("Complete your GhostShell Birth Certificate", text, html)


def certificate_issued(base_url: str, token: str | None, public_id: str) -> Message:
    """`token` is the holder's, when the holder submitted; after the agent's submission (with its agent token) the
    registry has no holder token to link to, so the message points to the private link sent at payment."""
    public_url = links.public_url(base_url, public_id)
    if token is not None:
        private_url = links.private_url(base_url, token)
        private_text = f"Private record (full details; keep it private):\n{private_url}"
        private_html = f"Private record (full details; keep it private):<br>{_link(private_url)}"
    else:
        private_text = private_html = (
            "The agent registered itself with the agent token you gave it. Your private record opens with the "
            "private link in the payment email; the agent token does not open it."
        )
    text = (
        f"Birth certificate {public_id} has been issued and entered in the registry.\n\n"
        f"{private_text}\n\n"
        f"Public redacted record:\n{public_url}\n\n"
        f"Corrections are accepted for {CORRECTION_WINDOW_HOURS} hours after issuance, "
        f"at most {MAX_SUBMISSIONS} submissions in total. After that the record is permanent.\n"
        + _footer_text(base_url)
    )
    html = _html(
        [
            f"Birth certificate <strong>{escape(public_id)}</strong> has been issued and entered in the registry.",
            private_html,
            f"Public redacted record:<br>{_link(public_url)}",
            f"Corrections are accepted for {CORRECTION_WINDOW_HOURS} hours after issuance, at most "
            f"{MAX_SUBMISSIONS} submissions in total. After that the record is permanent.",
        ],
        base_url,
    )
    return Message(issued_subject(public_id), text, html)


def amendment_paid(base_url: str, public_id: str, next_version: int) -> Message:
    """Sent when a paid amendment is recorded. It carries no token: the holder opens the private record with the
    private link from the payment email."""
    public_url = links.public_url(base_url, public_id)
    use = (
        "It allows one more submission of the record's details with your purchase token. The next submission that "
        f"changes the record uses it and makes version {next_version} of the record; the public record then shows "
        "which public fields changed, and when."
    )
    where = "Your private record opens with the private link in the payment email."
    text = (
        f"An amendment to birth certificate {public_id} has been paid.\n\n{use}\n\n{where}\n\n"
        f"Public redacted record:\n{public_url}\n" + _footer_text(base_url)
    )
    html = _html(
        [
            f"An amendment to birth certificate <strong>{escape(public_id)}</strong> has been paid.",
            escape(use),
            escape(where),
            f"Public redacted record:<br>{_link(public_url)}",
        ],
        base_url,
    )
    return Message(f"Amendment to certificate {public_id} paid", text, html)


def token_rotated(base_url: str, token: str, public_id: str) -> Message:
    private_url = links.private_url(base_url, token)
    public_url = links.public_url(base_url, public_id)
    text = (
        f"Registry support has replaced the private link for certificate {public_id}. "
        "The previous link no longer works.\n\n"
        f"New private link:\n{private_url}\n\nPublic redacted record:\n{public_url}\n" + _footer_text(base_url)
    )
    html = _html(
        [
            f"Registry support has replaced the private link for certificate <strong>{escape(public_id)}</strong>. "
            "The previous link no longer works.",
            f"New private link:<br>{_link(private_url)}",
            f"Public redacted record:<br>{_link(public_url)}",
        ],
        base_url,
    )
    return Message("Your GhostShell Certificate (new private link)", text, html)


# -- lifecycle: reminders, resending and replacing the private link -------------------------------------------


def _day(moment) -> str:
    return moment.strftime("%d %B %Y, %H:%M UTC")


def claim_reminder(base_url: str, token: str | None, claim_deadline, *, last: bool) -> Message:
    """A paid token not used yet: three days after payment, and the day before its claim window closes."""
    resend_url = f"{base_url}/issue/#resend"
    opening = (
        "The claim window of a paid GhostShell token closes tomorrow."
        if last
        else "A GhostShell token was paid for and has not been used yet."
    )
    closing = f"The certificate must be submitted by {_day(claim_deadline)}. After that the token cannot issue one."
    if token is not None:
        where = f"Private link:\n{links.private_url(base_url, token)}"
        where_html = f"Private link:<br>{_link(links.private_url(base_url, token))}"
    else:
        where = f"Use the private link from the first email, or have it sent again here:\n{resend_url}"
        where_html = f"Use the private link from the first email, or have it sent again here:<br>{_link(resend_url)}"
    text = f"{opening}\n\n{closing}\n\n{where}\n" + _footer_text(base_url)
    html = _html([escape(opening), escape(closing), where_html], base_url)
    subject = "GhostShell token: claim window closes tomorrow" if last else "GhostShell token not used yet"
    return Message(subject, text, html)


@dataclasses.dataclass(frozen=True)
class ResentLink:
    """One purchase in a resend email: what it is, its private link (when the registry holds a sealed copy) and a
    link that replaces the token (when the holder asked, or when no copy is held)."""

    label: str
    private_url: str | None
    replace_url: str | None


def links_resent(base_url: str, entries: list[ResentLink], replace_hours: int) -> Message:
    text_parts = ["The private links for the purchases made with this address were requested from the registry.\n"]
    html_parts = [escape(text_parts[0].strip())]
    for entry in entries:
        lines = [entry.label]
        html_lines = [f"<strong>{escape(entry.label)}</strong>"]
        if entry.private_url:
            lines.append(f"Private link: {entry.private_url}")
            html_lines.append(f"Private link: {_link(entry.private_url)}")
        else:
            lines.append("The registry keeps no copy of this link.")
            html_lines.append("The registry keeps no copy of this link.")
        if entry.replace_url:
            lines.append(
                f"To replace it with a new link (the current one then stops working), within {replace_hours} hours: "
                f"{entry.replace_url}"
            )
            html_lines.append(
                f"To replace it with a new link (the current one then stops working), within {replace_hours} hours: "
                f"{_link(entry.replace_url)}"
            )
        text_parts.append("\n".join(lines) + "\n")
        html_parts.append("<br>".join(html_lines))
    note = "If this request was not made by the holder, no action is needed: nothing has changed."
    text_parts.append(note + "\n")
    html_parts.append(escape(note))
    return Message(
        "Your GhostShell private links", "\n".join(text_parts) + _footer_text(base_url), _html(html_parts, base_url)
    )


def token_replaced(base_url: str, token: str, public_id: str | None) -> Message:
    """The holder asked (through the emailed replacement link) for a new private link."""
    private_url = links.private_url(base_url, token)
    subject_of = f"certificate {public_id}" if public_id else "a GhostShell token not yet used"
    text = (
        f"As requested, the private link for {subject_of} has been replaced. The previous link no longer works.\n\n"
        f"New private link:\n{private_url}\n" + _footer_text(base_url)
    )
    html = _html(
        [
            f"As requested, the private link for {escape(subject_of)} has been replaced. "
            "The previous link no longer works.",
            f"New private link:<br>{_link(private_url)}",
        ],
        base_url,
    )
    return Message("Your GhostShell Certificate (new private link)", text, html)
