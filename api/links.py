"""Absolute links the registry hands out. Tokens travel only in the fragment, which browsers never send to a
server or put in a Referer."""

from __future__ import annotations


def private_url(base_url: str, token: str) -> str:
    return f"{base_url}/p/#{token}"


def register_url(base_url: str, token: str, by: str = "human") -> str:
    return f"{base_url}/register/#token={token}&by={by}"


def public_url(base_url: str, public_id: str) -> str:
    return f"{base_url}/r/{public_id}"


def token_links(base_url: str, token: str) -> dict:
    """The holder's links. The agent's link is made with an agent token (api/delegation.py), never this one."""
    return {
        "token": token,
        "private_url": private_url(base_url, token),
        "human_url": register_url(base_url, token, "human"),
    }
