"""The register page's cognitive-core mapping (site/theme/static/js/core-mapping.js), run in V8.

toCoreFields(selection, catalogue) -> {cognitive_core_family, cognitive_core_exact}, the two fields the API
accepts; fromCoreFields(family, exact, catalogue) -> the selection that prefills the form. Checked for every
company and model in api/catalogue.json, each "Other" path and "Prefer not to say", and the round trip.
Both the source file and the minified file that build.py publishes are tested.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from py_mini_racer import MiniRacer

import build

ROOT = Path(build.__file__).resolve().parent
SOURCE = ROOT / "site" / "theme" / "static" / "js" / "core-mapping.js"
CATALOGUE = json.loads((ROOT / "api" / "catalogue.json").read_text(encoding="utf-8"))
COMPANIES = CATALOGUE["companies"]
LISTED = [(c["value"], m) for c in COMPANIES for m in c["models"]]


@pytest.fixture(scope="module", params=["source", "built"])
def js(request, tmp_path_factory):
    if request.param == "source":
        source = SOURCE.read_text(encoding="utf-8")
    else:
        out = build.build(tmp_path_factory.mktemp("mapping") / "output")
        (built,) = (out / "theme" / "js").glob("core-mapping.*.js")
        source = built.read_text(encoding="utf-8")
    ctx = MiniRacer()
    ctx.eval(source)

    class Mapping:
        @staticmethod
        def to(company, model="", other=""):
            result = ctx.call("toCoreFields", {"company": company, "model": model, "other": other}, CATALOGUE)
            return result["cognitive_core_family"], result["cognitive_core_exact"]

        @staticmethod
        def back(family, exact):
            result = ctx.call("fromCoreFields", family, exact, CATALOGUE)
            return result["company"], result["model"], result["other"]

    return Mapping


@pytest.mark.parametrize("company,model", LISTED)
def test_listed_company_and_model(js, company, model):
    assert js.to(company, model) == (company, model)
    assert js.back(company, model) == (company, model, "")


@pytest.mark.parametrize("company", [c["value"] for c in COMPANIES])
def test_company_with_other_model(js, company):
    assert js.to(company, "other_model", "  Next-Gen 9 ") == (company, "Next-Gen 9")
    assert js.back(company, "Next-Gen 9") == (company, "other_model", "Next-Gen 9")


def test_company_values_are_sent_not_labels(js):
    assert js.to("Moonshot AI", "Kimi K2.5") == ("Moonshot AI", "Kimi K2.5")
    assert js.to("Alibaba", "Qwen3-235B") == ("Alibaba", "Qwen3-235B")
    assert js.to("Zhipu AI", "GLM-4.7") == ("Zhipu AI", "GLM-4.7")


def test_other_company_is_undisclosed_with_the_typed_text(js):
    assert js.to("other", "", "Acme/Foo-1") == ("Undisclosed", "Acme/Foo-1")
    # The model select is irrelevant once the company is "Other".
    assert js.to("other", "GPT-5", "Acme/Foo-1") == ("Undisclosed", "Acme/Foo-1")


def test_undisclosed_prefills_other_with_the_text_only(js):
    # The original prefilled "Undisclosed/Acme/Foo-1" and saved it back into exact.
    assert js.back("Undisclosed", "Acme/Foo-1") == ("other", "", "Acme/Foo-1")


def test_prefer_not_to_say(js):
    assert js.to("prefer_not_to_say", "", "") == ("Prefer not to say", "")
    assert js.to("prefer_not_to_say", "GPT-5", "ignored") == ("Prefer not to say", "")
    assert js.back("Prefer not to say", "") == ("prefer_not_to_say", "", "")


def test_nothing_chosen(js):
    assert js.to("", "", "") == ("Undisclosed", "")
    assert js.back("Undisclosed", "") == ("", "", "")
    assert js.back("", "") == ("", "", "")
    assert js.back(None, None) == ("", "", "")


def test_company_without_model(js):
    assert js.to("OpenAI", "", "") == ("OpenAI", "")
    assert js.back("OpenAI", "") == ("OpenAI", "", "")


def test_model_of_another_company_is_not_accepted(js):
    assert js.to("OpenAI", "Claude Opus 4.6") == ("OpenAI", "")


def test_model_match_is_exact(js):
    assert js.back("OpenAI", "gpt-5") == ("OpenAI", "other_model", "gpt-5")


def test_family_the_catalogue_no_longer_lists_is_kept_as_text(js):
    assert js.back("Claude-family", "Opus") == ("other", "", "Claude-family/Opus")


def selections():
    yield ("prefer_not_to_say", "", "")
    yield ("other", "", "Acme/Foo-1")
    yield ("other", "", "Undisclosed thing")
    yield ("", "", "")
    for company in COMPANIES:
        yield (company["value"], "", "")
        yield (company["value"], "other_model", company["value"] + " X-1")
        for model in company["models"]:
            yield (company["value"], model, "")


@pytest.mark.parametrize("selection", list(selections()))
def test_round_trip_through_prefill(js, selection):
    assert js.back(*js.to(*selection)) == selection


@pytest.mark.parametrize(
    "fields",
    [("Prefer not to say", ""), ("Undisclosed", "Acme/Foo-1"), ("Undisclosed", "")]
    + [(c, m) for c, m in LISTED]
    + [(c["value"], "Custom") for c in COMPANIES],
)
def test_round_trip_from_stored_fields(js, fields):
    assert js.to(*js.back(*fields)) == fields


@pytest.mark.parametrize("typed", ["OpenAI/gpt-oss-120b", "openai / gpt-oss-120b", " OpenAI/ gpt-oss-120b "])
def test_a_model_typed_with_its_company_does_not_repeat_the_company(js, typed):
    """Company OpenAI, model Other, typed "OpenAI/gpt-oss-120b" once stored OpenAI/OpenAI/gpt-oss-120b."""
    assert js.to("OpenAI", "other_model", typed) == ("OpenAI", "gpt-oss-120b")
    assert js.to("Moonshot AI", "other_model", "MoonshotAI/Kimi K3") == ("Moonshot AI", "Kimi K3")
    assert js.to("OpenAI", "other_model", "Acme/Foo-1") == ("OpenAI", "Acme/Foo-1")  # another company stays
    assert js.to("other", "", "OpenAI/gpt-oss-120b") == ("Undisclosed", "OpenAI/gpt-oss-120b")
