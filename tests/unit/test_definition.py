"""Every field of the definition (api/definition.py) reaches every place that handles the certificate, and no public
view carries a private one. The checks walk `definition.FIELDS`; none names a field, so a field added to the
definition is checked the moment it exists:

- validation accepts a valid value, refuses a wrong one (naming the field) and applies the default;
- the public view shows a public field at its path (a holder's-choice field only when its selector says so) and
  never a private value or name; the private view shows every field under its view name;
- the public fingerprint covers exactly the public view's record content: it moves with a public value and never
  with a private one;
- the OpenAPI document describes it in the submission (limits, choices, description, example), the first
  submission requires exactly the required fields, and the public and private record schemas place it;
- the stored column has the definition's length and kind (tests/unit/test_migrations.py: the database's too);
- the register form renders it with the definition's label, hint, limit and requiredness.
"""

from __future__ import annotations

import datetime as dt
import json
from html.parser import HTMLParser

import peewee
import pytest

from api import catalogue, definition, openapi, records, validation
from api.definition import Field, Kind, Visibility
from api.errors import RegistryError
from api.models import Certificate

from .support import FIXED_NOW, bearer, redeem

pytestmark = pytest.mark.usefixtures("fixed_clock")
TODAY = FIXED_NOW.date()
FIELDS = definition.FIELDS


def valid_value(field: Field, variant: int = 0) -> object:
    """A valid, recognisable value of the field's kind (variant 1: a different one)."""
    index = definition.NAMES.index(field.name)
    if field.kind is Kind.TEXT:
        return f"V{variant}x{index}q"[: field.max_length]
    if field.kind is Kind.CHOICE:
        return definition.choices(field)[variant]
    if field.kind is Kind.DATE:
        return dt.date(2001 + variant, 1, 1 + index).isoformat()
    if field.kind is Kind.BOOLEAN:
        return (not field.default) if variant == 0 else bool(field.default)
    return None  # a reference: another record's public id, supplied by the test that needs one


def other_value(field: Field, current: object) -> object:
    """A valid value of the field different from `current` (a stored value)."""
    if field.kind is Kind.BOOLEAN:
        return not current
    if field.kind is Kind.CHOICE:
        return next(choice for choice in definition.choices(field) if choice != current)
    if field.kind is Kind.DATE:
        return dt.date.fromisoformat(valid_value(field, 1))
    if field.kind is Kind.REFERENCE:
        return definition.public_id.EXAMPLE if current != definition.public_id.EXAMPLE else None
    return valid_value(field, 1)


def invalid_values(field: Field) -> list[object]:
    """Values the field must refuse."""
    wrong: list[object] = [["a list"], {"an": "object"}]
    if field.max_length:
        wrong.append("x" * (field.max_length + 1))
    if field.kind is Kind.CHOICE:
        wrong.append("not one of the choices")
    if field.kind is Kind.DATE:
        wrong += ["2001-02-30", (TODAY + dt.timedelta(days=1)).isoformat(), "1899-12-31", "yesterday"]
    if field.kind is Kind.BOOLEAN:
        wrong.append("perhaps")
    if field.kind is Kind.TEXT:
        wrong.append("line\nbreak")
    return wrong


def public_paths() -> set[tuple[str, ...]]:
    """Where the public record content sits: each public field at its path, a composite under its name."""
    paths = {("public_id",), ("registration_date",)}
    for field in definition.public_fields():
        composite = definition.composite_of(field)
        paths.add((composite.name,) if composite else field.path)
    return paths


def leaves(tree: dict, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], object]:
    found: dict[tuple[str, ...], object] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            found.update(leaves(value, (*prefix, key)))
        else:
            found[(*prefix, key)] = value
    return found


def keys_anywhere(value: object) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {key for item in value.values() for key in keys_anywhere(item)}
    if isinstance(value, list):
        return {key for item in value for key in keys_anywhere(item)}
    return set()


def at(tree: dict, path: tuple[str, ...]) -> object:
    for part in path:
        tree = tree[part]
    return tree


# -- validation ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", [f for f in FIELDS if f.kind is not Kind.REFERENCE], ids=lambda f: f.name)
def test_validation_accepts_the_field_and_refuses_wrong_values(field):
    value = valid_value(field)
    cleaned = validation.clean_field(field, value, TODAY)
    assert (cleaned.isoformat() if isinstance(cleaned, dt.date) else cleaned) == value
    for wrong in invalid_values(field):
        with pytest.raises(RegistryError) as refused:
            validation.clean_field(field, wrong, TODAY)
        assert refused.value.field == field.name, wrong


@pytest.mark.parametrize("field", FIELDS, ids=lambda f: f.name)
def test_a_first_submission_needs_the_required_fields_and_defaults_the_others(field):
    complete = {f.name: valid_value(f) for f in FIELDS if f.required}
    if field.required:
        del complete[field.name]
        with pytest.raises(RegistryError) as refused:
            validation.clean_submission(complete, TODAY, first=True)
        assert refused.value.field == field.name
    else:
        cleaned = validation.clean_submission(complete, TODAY, first=True).fields
        # A reference left out is empty: no other record (resolved to none when stored).
        assert cleaned[field.name] == ("" if field.kind is Kind.REFERENCE else field.default)


def test_a_reference_longer_than_its_limit_is_refused():
    for field in (f for f in FIELDS if f.kind is Kind.REFERENCE):
        with pytest.raises(RegistryError) as refused:
            validation.clean_field(field, "G" * (field.max_length + 1), TODAY)
        assert refused.value.field == field.name


# -- the public and private views, through the API ----------------------------------------------------------------


def first_submission(token: str, parent_id: str, *, shown: bool) -> dict:
    """Every field with a recognisable value; `shown`: each selector set so that its field is public."""
    body: dict[str, object] = {"token": token}
    for field in FIELDS:
        body[field.name] = parent_id if field.kind is Kind.REFERENCE else valid_value(field)
    for name, governed in definition.SELECTORS.items():
        body[name] = governed.selector.shown_when if shown else not governed.selector.shown_when
    return body


@pytest.fixture
def records_issued(client, paid_token):
    """Three records through the API: a parent, one with every holder's-choice field shown, one with them hidden.
    Returns (submission, public view, private view) for the last two."""
    parent = redeem(client, paid_token()).json["public_id"]
    made = {}
    for shown in (True, False):
        token = paid_token()
        body = first_submission(token, parent, shown=shown)
        issued = client.simulate_post("/api/cert/redeem-token", json=body)
        assert issued.status_code == 201, issued.text
        public = client.simulate_get("/api/cert/lookup", params={"id": issued.json["public_id"]}).json
        private = client.simulate_get("/api/cert/private", headers=bearer(token)).json["certificate"]
        made[shown] = (body, public, private)
    return made


def test_every_public_field_reaches_the_public_view_at_its_path(records_issued):
    body, public, _ = records_issued[True]
    for field in definition.public_fields():
        composite = definition.composite_of(field)
        if composite is not None:
            expected = composite.render(*(body[name] for name in composite.fields))
            assert public[composite.name] == expected, field.name
        else:
            assert at(public, field.path) == body[field.name], field.name


def test_a_holders_choice_field_is_withheld_by_its_selector(records_issued):
    body, public, _ = records_issued[False]
    for field in (f for f in FIELDS if f.visibility is Visibility.HOLDER):
        assert at(public, field.path) is None, field.name
        assert at(public, (*field.path[:-1], field.path[-1] + "_withheld")) is True
        assert json.dumps(body[field.name]) not in json.dumps(public)


@pytest.mark.parametrize("shown", [True, False])
def test_no_public_view_contains_a_private_field(records_issued, client, shown):
    body, public, _ = records_issued[shown]
    search = client.simulate_get("/api/registry/search", params={"q": public["public_id"]}).json["results"]
    assert search == [public]
    for view in (public, *search):
        names = keys_anywhere(view)
        text = json.dumps(view)
        for field in definition.private_fields():
            assert field.name not in names and field.view_name not in names, field.name
            if isinstance(body[field.name], str) and field.kind is not Kind.REFERENCE:
                assert body[field.name] not in text, field.name


def test_every_field_reaches_the_private_view(records_issued):
    for body, _, private in records_issued.values():
        for field in FIELDS:
            if field.kind is Kind.REFERENCE:
                assert private[field.view_name].startswith(definition.public_id.export()["prefix"])
            else:
                assert private[field.view_name] == body[field.name], field.name


# -- the fingerprint ------------------------------------------------------------------------------------------------


def test_the_fingerprint_covers_exactly_the_public_record_content(issued):
    _, cert = issued(show_city_public=True, hide_state_public=False)
    assert set(leaves(records.public_fields(cert))) == public_paths()


@pytest.mark.parametrize("field", FIELDS, ids=lambda f: f.name)
def test_the_fingerprint_moves_with_public_values_only(issued, field):
    _, cert = issued(show_city_public=True, hide_state_public=False)
    before = records.public_fingerprint(cert)
    changed = other_value(field, getattr(cert, field.name))
    setattr(cert, field.name, changed)
    after = records.public_fingerprint(cert)
    if field.name in definition.SELECTORS:
        # A selector is private, but it decides whether its field's value is public: only that path moves.
        governed = definition.SELECTORS[field.name]
        assert after != before
        assert leaves(records.public_fields(cert))[governed.path] is None
    else:
        assert (after != before) == field.is_public, field.name


# -- OpenAPI --------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def document():
    return openapi.build_document()


def resolve(document: dict, schema: dict) -> dict:
    ref = schema.get("$ref")
    return document["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else schema


def test_the_submission_schema_describes_every_field(document):
    body = document["paths"]["/api/cert/redeem-token"]["post"]["requestBody"]["content"]
    schema = resolve(document, body["application/json"]["schema"])
    form = resolve(document, body["application/x-www-form-urlencoded"]["schema"])
    example = schema["examples"][0]
    for field in FIELDS:
        prop = schema["properties"][field.name]
        assert field.name in form["properties"]
        assert prop["description"].startswith(field.label), field.name
        if field.hint:
            assert field.hint in prop["description"]
        if field.max_length:
            assert prop["maxLength"] == field.max_length
        if definition.choices(field):
            assert set(prop["enum"]) - {""} == set(definition.choices(field))
            assert ("" in prop["enum"]) == (not field.required)
        if field.kind is Kind.DATE:
            assert prop["format"] == "date"
        if field.example is not None:
            assert example[field.name] == field.example
            validation.clean_field(field, field.example, TODAY)
    assert schema["required"] == []  # a correction sends any subset; the token may be the bearer instead
    first = document["components"]["schemas"]["FirstSubmission"]
    assert first["required"] == [f.name for f in FIELDS if f.required]
    assert {f.name for f in FIELDS if f.required} <= set(example)


def test_the_record_schemas_place_every_field(document):
    schemas = document["components"]["schemas"]
    public, private = schemas["PublicRecord"], schemas["PrivateRecord"]
    for path in public_paths():
        prop = public
        for part in path:
            assert part in prop["properties"], path
            prop = prop["properties"][part]
    assert not keys_anywhere(public["properties"]) & {
        name for f in definition.private_fields() for name in (f.name, f.view_name)
    }
    for field in FIELDS:
        assert field.view_name in private["properties"], field.name
        choices = definition.choices(field)
        if choices and field.is_public and definition.composite_of(field) is None:
            assert set(at_schema(public, field.path)["enum"]) == set(choices)
    statuses = schemas["PublicRecord"]["properties"]["declared_ontological_status"]["enum"]
    assert statuses == list(catalogue.STATUSES)


def at_schema(schema: dict, path: tuple[str, ...]) -> dict:
    for part in path:
        schema = schema["properties"][part]
    return schema


# -- the stored column ----------------------------------------------------------------------------------------------

COLUMN = {
    Kind.TEXT: peewee.CharField,
    Kind.CHOICE: peewee.CharField,
    Kind.REFERENCE: peewee.CharField,
    Kind.DATE: peewee.DateField,
    Kind.BOOLEAN: peewee.BooleanField,
}


@pytest.mark.parametrize("field", FIELDS, ids=lambda f: f.name)
def test_every_field_has_its_stored_column(field):
    column = Certificate._meta.fields[field.name]
    assert isinstance(column, COLUMN[field.kind])
    if isinstance(column, peewee.CharField):
        assert column.max_length == field.column_length
    assert column.null == (field.kind is Kind.REFERENCE)


# -- the register form ----------------------------------------------------------------------------------------------


class Form(HTMLParser):
    """The register page's controls (by id), labels (by `for`), texts with an id (hints), options and legends."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.controls: dict[str, dict[str, str | None]] = {}
        self.labels: dict[str, str] = {}
        self.texts: dict[str, str] = {}
        self.options: dict[str, list[list[str]]] = {}  # select id -> [value, text] (value: the text when absent)
        self.legends: list[str] = []
        self._into: list[tuple[dict, str] | None] = []
        self._select: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in ("input", "select", "textarea") and attributes.get("id"):
            self.controls[attributes["id"]] = attributes
            if tag == "select":
                self._select, self.options[attributes["id"]] = attributes["id"], []
        if tag == "option" and self._select:
            self.options[self._select].append([attributes.get("value"), ""])
        elif tag == "label":
            self._into.append((self.labels, attributes.get("for") or ""))
        elif tag == "p":
            self._into.append((self.texts, attributes.get("id") or ""))
        elif tag == "legend":
            self.legends.append("")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        if tag in ("label", "p") and self._into:
            self._into.pop()

    def handle_data(self, data):
        if self._select and self.options[self._select]:
            option = self.options[self._select][-1]
            option[1] += data.strip()
            option[0] = option[0] if option[0] is not None else option[1]
        elif self._into and self._into[-1] and self._into[-1][1]:
            target, key = self._into[-1]
            target[key] = target.get(key, "") + data
        elif self.legends and not self.legends[-1]:
            self.legends[-1] = data.strip()


@pytest.fixture(scope="module")
def form(built_site):
    return Form((built_site / "register" / "index.html").read_text(encoding="utf-8"))


@pytest.mark.parametrize("field", FIELDS, ids=lambda f: f.name)
def test_the_register_form_renders_the_field_from_the_definition(form, field):
    if field.control == "none":
        assert field.name not in form.controls
        return
    if field.control == "core":  # the company / model / typed widget that makes the composite's fields
        typed = form.controls["cognitive_core_other"]
        assert field.label in (form.labels["cognitive_core_company"], form.labels["cognitive_core_other"])
        if field.kind is Kind.TEXT:
            assert typed["maxlength"] == str(field.max_length)
        return
    control = form.controls[field.name]
    assert control["name"] == field.name
    label = form.labels[field.name]
    assert label.startswith(field.label), (label, field.label)
    assert ("required" in control) == field.required
    if field.control == "text":
        assert control["maxlength"] == str(field.max_length)
    if field.hint:
        assert form.texts[f"{field.name}-hint"] == field.hint
        assert f"{field.name}-hint" in control["aria-describedby"].split()
    if field.control == "date":
        assert control["type"] == "date" and control["min"] == definition.EARLIEST_INCEPTION.isoformat()
    if field.control == "select":
        assert [value for value, _ in form.options[field.name] if value] == list(definition.choices(field))
    if field.control == "checkbox":
        assert control["type"] == "checkbox"
    if field.control == "visibility":
        governed = next(f for f in FIELDS if f.selector and f.selector.field == field.name)
        shown = str(int(governed.selector.shown_when))
        assert form.options[field.name] == [[str(1 - int(shown)), "Redacted"], [shown, "Public"]]


def test_the_form_has_the_definitions_fieldsets(form):
    assert form.legends == list(definition.GROUPS.values())
