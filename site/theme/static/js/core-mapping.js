/* Cognitive core: form selection <-> API fields (cognitive_core_family / cognitive_core_exact).
 *
 * Pure functions, no DOM: the register page calls them, and tests/unit/test_site_mapping.py runs
 * this file in V8. The catalogue is {companies: [{value, models: [...]}, ...]} as in api/catalogue.json.
 * A selection is {company, model, other}:
 *   company: a catalogue company value, "other", "prefer_not_to_say" or "" (nothing chosen)
 *   model:   a model of that company, "other_model" or ""
 *   other:   free text, used with company "other" or model "other_model", else ""
 */
"use strict";

var CORE_OTHER = "other";
var CORE_OTHER_MODEL = "other_model";
var CORE_PREFER_NOT = "prefer_not_to_say";
var FAMILY_UNDISCLOSED = "Undisclosed";
var FAMILY_PREFER_NOT = "Prefer not to say";

function findCompany(catalogue, value) {
  var companies = (catalogue && catalogue.companies) || [];
  for (var i = 0; i < companies.length; i++) {
    if (companies[i].value === value) return companies[i];
  }
  return null;
}

/* "OpenAI/gpt-oss-120b" typed as the model of company OpenAI is the model gpt-oss-120b: the company is not
 * stored twice (it would read OpenAI/OpenAI/gpt-oss-120b). Spacing and letter case of the company are ignored. */
function withoutCompany(text, company) {
  var slash = text.indexOf("/");
  var squash = function (s) { return s.toLowerCase().replace(/\s+/g, ""); };
  return slash > 0 && squash(text.slice(0, slash)) === squash(company) ? text.slice(slash + 1).trim() : text;
}

function toCoreFields(selection, catalogue) {
  var company = (selection && selection.company) || "";
  var model = (selection && selection.model) || "";
  var other = String((selection && selection.other) || "").trim();
  if (company === CORE_PREFER_NOT) {
    return { cognitive_core_family: FAMILY_PREFER_NOT, cognitive_core_exact: "" };
  }
  if (company === CORE_OTHER) {
    return { cognitive_core_family: FAMILY_UNDISCLOSED, cognitive_core_exact: other };
  }
  var listed = findCompany(catalogue, company);
  if (!listed) {
    return { cognitive_core_family: FAMILY_UNDISCLOSED, cognitive_core_exact: "" };
  }
  if (model === CORE_OTHER_MODEL) {
    return { cognitive_core_family: listed.value, cognitive_core_exact: withoutCompany(other, listed.value) };
  }
  return {
    cognitive_core_family: listed.value,
    cognitive_core_exact: listed.models.indexOf(model) >= 0 ? model : ""
  };
}

function fromCoreFields(family, exact, catalogue) {
  family = family == null ? "" : String(family);
  exact = exact == null ? "" : String(exact);
  if (family === FAMILY_PREFER_NOT) {
    return { company: CORE_PREFER_NOT, model: "", other: "" };
  }
  var listed = findCompany(catalogue, family);
  if (listed) {
    if (exact === "") return { company: listed.value, model: "", other: "" };
    if (listed.models.indexOf(exact) >= 0) return { company: listed.value, model: exact, other: "" };
    return { company: listed.value, model: CORE_OTHER_MODEL, other: exact };
  }
  if (family === FAMILY_UNDISCLOSED || family === "") {
    if (exact === "") return { company: "", model: "", other: "" };
    return { company: CORE_OTHER, model: "", other: exact };
  }
  // A family the catalogue no longer lists: keep what was recorded as free text.
  return { company: CORE_OTHER, model: "", other: exact ? family + "/" + exact : family };
}
