"""/api/openapi.json is a valid OpenAPI 3.1 document, and every enumerated field carries its allowed values."""

from __future__ import annotations

from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from api import definition


def redeem_schema(document: dict) -> dict:
    content = document["paths"]["/api/cert/redeem-token"]["post"]["requestBody"]["content"]
    schema = content["application/json"]["schema"]
    return document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]] if "$ref" in schema else schema


def test_the_document_validates_against_the_openapi_3_1_schema(client):
    document = client.simulate_get("/api/openapi.json").json
    validate(document)  # raises OpenAPIValidationError with the path of the first problem


def test_a_broken_document_is_caught(client):
    """The validator is really looking: a response without a description is refused."""
    document = client.simulate_get("/api/openapi.json").json
    del document["paths"]["/api/health"]["get"]["responses"]["200"]["description"]
    try:
        validate(document)
    except OpenAPIValidationError:
        return
    raise AssertionError("an invalid document passed validation")


def test_every_enumerated_field_has_its_enum(client):
    document = client.simulate_get("/api/openapi.json").json
    properties = redeem_schema(document)["properties"]
    enumerated = [field for field in definition.FIELDS if definition.choices(field)]
    assert enumerated, "the definition has enumerated fields"
    for field in enumerated:
        schema = properties[field.name]
        allowed = set(definition.choices(field))
        assert allowed <= set(schema["enum"]), field.name
        # Nothing else, except the empty value an optional field may send to mean its default.
        assert set(schema["enum"]) - allowed <= ({""} if not field.required else set()), field.name
    assert set(properties["edit_source"]["enum"]) == {"human", "agent"}
