"""Field validation (api/validation.py) and the catalogue it validates against: pure functions, no database."""

from __future__ import annotations

import datetime as dt

import pytest

from api import catalogue, definition
from api.errors import RegistryError
from api.validation import clean_boolean, clean_submission

TODAY = dt.date(2026, 11, 25)
FIRST = {
    "agent_name": "Joule",
    "declared_ontological_status": "Autonomous Agent",
    "inception_date": "2026-02-08",
    "place_country": "Australia",
}


def refused(raw: dict, field: str, *, first: bool = True) -> str:
    with pytest.raises(RegistryError) as caught:
        clean_submission(raw, TODAY, first=first)
    assert (caught.value.code, caught.value.field, caught.value.status) == ("invalid_field", field, 400)
    return caught.value.message


def test_a_minimal_first_submission_gets_the_defaults():
    clean = clean_submission(FIRST, TODAY, first=True)
    assert clean.source == "human" and clean.agent_handle is None
    # Every declared field is there; the ones below as sent or by their declared default.
    assert set(clean.fields) == set(definition.NAMES)
    assert {name: clean.fields[name] for name in PINNED_DEFAULTS} == PINNED_DEFAULTS
    assert all(clean.fields[f.name] in (f.default, "") for f in definition.FIELDS if f.name not in FIRST)


PINNED_DEFAULTS = {
    "agent_name": "Joule",
    "declared_ontological_status": "Autonomous Agent",
    "cognitive_core_family": "Undisclosed",
    "cognitive_core_exact": "",
    "creator_label": "",
    "inception_date": dt.date(2026, 2, 8),
    "place_city": "",
    "place_state": "",
    "place_country": "Australia",
    "show_city_public": False,
    "hide_state_public": True,
    "listed": False,
    "parent_record": "",
}


def test_a_correction_returns_only_the_fields_sent():
    clean = clean_submission(
        {"agent_name": "  New name  ", "edit_source": "Agent", "agent_handle": " @j "}, TODAY, first=False
    )
    assert clean.fields == {"agent_name": "New name"}
    assert (clean.source, clean.agent_handle) == ("agent", "@j")
    assert clean_submission({"listed": ""}, TODAY, first=False).fields == {}


@pytest.mark.parametrize("missing", sorted(FIRST))
def test_required_fields(missing):
    raw = {key: value for key, value in FIRST.items() if key != missing}
    assert "required" in refused(raw, missing)
    assert "required" in refused({**FIRST, missing: "   "}, missing)


@pytest.mark.parametrize(
    "field, limit",
    [
        ("agent_name", 120),
        ("cognitive_core_exact", 120),
        ("creator_label", 120),
        ("place_city", 80),
        ("place_state", 80),
        ("place_country", 80),
        ("agent_handle", 80),
    ],
)
def test_length_bounds_count_characters_after_trimming(field, limit):
    at_limit = "é" * limit
    clean = clean_submission({**FIRST, field: f"  {at_limit}  "}, TODAY, first=True)
    assert (clean.agent_handle if field == "agent_handle" else clean.fields[field]) == at_limit
    assert str(limit) in refused({**FIRST, field: at_limit + "x"}, field)


@pytest.mark.parametrize(
    "bad", ["Jo\x00ule", "Jo\nule", "Jo\tule", "Jo\x7fule", "Jo\u202eelu", "Jo\ud800ule", "Jo\u2028ule"]
)
def test_control_characters_are_refused(bad):
    assert "control" in refused({**FIRST, "agent_name": bad}, "agent_name")
    assert "control" in refused({**FIRST, "creator_label": bad}, "creator_label")


def test_markup_and_unicode_are_kept_verbatim():
    text = '<script>alert(1)</script> "><img src=x onerror=alert(1)> & 名前 🤖'
    assert clean_submission({**FIRST, "agent_name": text}, TODAY, first=True).fields["agent_name"] == text


def test_text_fields_must_be_text():
    refused({**FIRST, "agent_name": 42}, "agent_name")
    refused({**FIRST, "creator_label": ["a"]}, "creator_label")


@pytest.mark.parametrize(
    "value, reason",
    [
        ("2026-02-30", "real"),
        ("2026-2-8", "YYYY-MM-DD"),
        ("08/02/2026", "YYYY-MM-DD"),
        ("1899-12-31", "1900"),
        ("2026-11-26", "future"),
        ("yesterday", "YYYY-MM-DD"),
        (20260208, "YYYY-MM-DD"),
        ("2026-02-08T00:00", "YYYY"),
    ],
)
def test_inception_date_rules(value, reason):
    assert reason in refused({**FIRST, "inception_date": value}, "inception_date")


def test_inception_date_bounds_are_inclusive():
    for value in ("1900-01-01", TODAY.isoformat()):
        assert clean_submission({**FIRST, "inception_date": value}, TODAY, first=True).fields[
            "inception_date"
        ] == dt.date.fromisoformat(value)


def test_country_needs_a_letter():
    refused({**FIRST, "place_country": "1234"}, "place_country")
    assert (
        clean_submission({**FIRST, "place_country": "Côte d’Ivoire"}, TODAY, first=True).fields["place_country"]
        == "Côte d’Ivoire"
    )


def test_status_and_family_come_from_the_catalogue_in_any_case():
    clean = clean_submission(
        {
            **FIRST,
            "declared_ontological_status": "self-directed agent",
            "cognitive_core_family": "moonshot ai",
            "cognitive_core_exact": "Kimi K2.5",
        },
        TODAY,
        first=True,
    )
    assert clean.fields["declared_ontological_status"] == "Self-Directed Agent"
    assert clean.fields["cognitive_core_family"] == "Moonshot AI"
    refused({**FIRST, "declared_ontological_status": "Wizard"}, "declared_ontological_status")
    refused({**FIRST, "cognitive_core_family": "Acme"}, "cognitive_core_family")


def test_family_mapping_from_the_register_form():
    def core(family, exact):
        fields = clean_submission(
            {**FIRST, "cognitive_core_family": family, "cognitive_core_exact": exact}, TODAY, first=True
        ).fields
        return fields["cognitive_core_family"], fields["cognitive_core_exact"]

    assert core("Anthropic", "Claude Opus 4.6") == ("Anthropic", "Claude Opus 4.6")  # listed model
    assert core("OpenAI", "GPT-5.4") == ("OpenAI", "GPT-5.4")  # "Other model"
    assert core("Undisclosed", "Acme/Foo-1") == ("Undisclosed", "Acme/Foo-1")  # "Other"
    assert core("", "Acme/Foo-1") == ("Undisclosed", "Acme/Foo-1")
    assert core("Prefer not to say", "") == ("Prefer not to say", "")
    refused(
        {**FIRST, "cognitive_core_family": "Prefer not to say", "cognitive_core_exact": "x"}, "cognitive_core_exact"
    )


@pytest.mark.parametrize(
    "raw, expected",
    [
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        ("1", True),
        ("0", False),
        ("on", True),
        ("off", False),
        ("TRUE", True),
        ("false", False),
        ("yes", True),
        ("no", False),
        ("", None),
        (None, None),
    ],
)
def test_booleans(raw, expected):
    assert clean_boolean("listed", raw) is expected


@pytest.mark.parametrize("raw", ["maybe", 2, "2", [], {}])
def test_bad_booleans(raw):
    refused({**FIRST, "listed": raw}, "listed")


def test_edit_source():
    assert clean_submission({**FIRST, "edit_source": "AGENT"}, TODAY, first=True).source == "agent"
    refused({**FIRST, "edit_source": "robot"}, "edit_source")


def test_catalogue_lists_twelve_statuses_and_the_companies_newest_first():
    assert len(catalogue.STATUSES) == 12 and catalogue.STATUSES[-1] == "Undisclosed"
    assert all(catalogue.STATUS_DESCRIPTIONS[status] for status in catalogue.STATUSES)
    assert catalogue.COMPANIES["Anthropic"][0] == "Claude Opus 4.6"
    assert catalogue.FAMILIES[-2:] == ("Undisclosed", "Prefer not to say")


@pytest.mark.parametrize(
    "family, exact, shown",
    [
        ("Moonshot AI", "Kimi K2.5", "MoonshotAI/Kimi K2.5"),
        ("Zhipu AI", "GLM-4.7", "ZhipuAI/GLM-4.7"),
        ("Undisclosed", "Acme/Foo-1", "Undisclosed/Acme/Foo-1"),
        ("Undisclosed", "", "Undisclosed"),
        ("Prefer not to say", "", "Prefer not to say"),
        ("Anthropic", "", "Anthropic"),
    ],
)
def test_cognitive_core_display(family, exact, shown):
    assert catalogue.display_core(family, exact) == shown
