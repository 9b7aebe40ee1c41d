"""The public one-line cognitive core never repeats the company (issue 13: OpenAI/OpenAI/gpt-oss-120b)."""

from __future__ import annotations

import pytest

from api.catalogue import display_core


@pytest.mark.parametrize(
    "family,exact,shown",
    [
        ("OpenAI", "gpt-oss-120b", "OpenAI/gpt-oss-120b"),
        ("OpenAI", "OpenAI/gpt-oss-120b", "OpenAI/gpt-oss-120b"),
        ("Moonshot AI", "moonshotai/Kimi K3", "MoonshotAI/Kimi K3"),
        ("OpenAI", "Acme/Foo-1", "OpenAI/Acme/Foo-1"),
        ("OpenAI", "OpenAI/", "OpenAI/OpenAI/"),
        ("Undisclosed", "OpenAI/gpt-oss-120b", "Undisclosed/OpenAI/gpt-oss-120b"),
        ("Prefer not to say", "", "Prefer not to say"),
    ],
)
def test_display_core(family, exact, shown):
    assert display_core(family, exact) == shown
