"""The record pages lay out every field api/definition.py declares, under the definition's labels.

The public record (site/theme/static/js/record.js) shows every public field; the holder's record (private.js)
shows every field. A field counts as shown when the script reads its value and puts a row for it: a
`{label:NAME}` placeholder for the field or for the composite value it is part of, or a `{legend:KEY}` placeholder
for its group (the place of inception is one row). No script or page types a label itself, so a label changed in
the definition changes on every page at the next build.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import build
from api import definition

ROOT = Path(build.__file__).resolve().parent
SCRIPTS = ROOT / "site" / "theme" / "static" / "js"
RECORD = (SCRIPTS / "record.js").read_text(encoding="utf-8")
PRIVATE = (SCRIPTS / "private.js").read_text(encoding="utf-8")
HOME = (ROOT / "site" / "content" / "pages" / "home.html").read_text(encoding="utf-8")
LABELS = [field.label for field in definition.FIELDS] + [c.label for c in definition.COMPOSITES]
LEGENDS = list(definition.GROUPS.values())


def _placed(source: str) -> set[str]:
    return {f"{kind}:{name}" for kind, name in re.findall(r"\{(label|legend):([a-z_]+)\}", source)}


def _row_for(field: definition.Field, source: str) -> bool:
    placed = _placed(source)
    composite = definition.composite_of(field)
    return (
        f"label:{field.name}" in placed
        or (composite is not None and f"label:{composite.name}" in placed)
        or (field.group != "" and f"legend:{field.group}" in placed)
    )


def _reads(source: str, variable: str, *names: str) -> bool:
    return any(re.search(rf"\b{variable}\.{name}\b", source) for name in names)


@pytest.mark.parametrize("field", definition.public_fields(), ids=lambda field: field.name)
def test_the_public_record_shows_every_public_field(field):
    assert _reads(RECORD, "rec", field.path[0]), f"record.js never reads rec.{field.path[0]}"
    assert _row_for(field, RECORD), f"record.js has no row labelled for {field.name}"


@pytest.mark.parametrize("field", definition.FIELDS, ids=lambda field: field.name)
def test_the_holders_record_shows_every_field(field):
    composite = definition.composite_of(field)
    names = [field.view_name] + ([composite.name] if composite else [])
    assert _reads(PRIVATE, "c", *names), f"private.js never reads c.{field.view_name}"
    assert _row_for(field, PRIVATE), f"private.js has no row labelled for {field.name}"


def test_the_checks_find_a_field_the_pages_leave_out():
    missing = definition.Field("agent_motto", definition.Kind.TEXT, "Motto", max_length=80)
    assert not _reads(RECORD, "rec", missing.name) and not _row_for(missing, RECORD)
    assert not _row_for(missing, PRIVATE)


@pytest.mark.parametrize("label", LABELS + LEGENDS)
def test_no_label_is_typed_on_the_record_pages(label):
    for name, source in (("record.js", RECORD), ("private.js", PRIVATE)):
        assert f'"{label}"' not in source, f"{name} types {label!r}: write its placeholder"
    assert f">{label}<" not in HOME, f"home.html types {label!r}: write its placeholder"


def test_the_build_fills_labels_and_legends():
    assert build.fill_placeholders("<dt>{label:agent_name}</dt>", "x.html") == "<dt>Agent name</dt>"
    assert build.fill_placeholders('"{label:cognitive_core}"', "x.js", script=True) == '"Cognitive core at inception"'
    assert build.fill_placeholders("{legend:place}", "x.html") == definition.GROUPS["place"]
    for unknown in ("{label:no_such_field}", "{legend:no_such_group}"):
        with pytest.raises(SystemExit, match="unknown placeholder"):
            build.fill_placeholders(unknown, "page.html")


def test_the_built_record_pages_carry_the_definitions_labels(built_site):
    scripts = {path.name.split(".")[0]: path.read_text(encoding="utf-8") for path in built_site.rglob("*.js")}
    field = definition.BY_NAME["declared_ontological_status"]
    for name in ("record", "private"):
        assert f'"{field.label}"' in scripts[name]
        assert "{label:" not in scripts[name] and "{legend:" not in scripts[name]
    assert f"<dt>{definition.GROUPS['place']}</dt>" in (built_site / "index.html").read_text(encoding="utf-8")
