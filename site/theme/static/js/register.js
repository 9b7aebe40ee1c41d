/* Register page: token-status decides new / edit / locked; the form posts JSON to redeem-token and
 * server errors appear next to their field. The record's controls are the ones the build rendered from the
 * definition (every named control but the token's three), so a field added there is posted and prefilled here
 * without a change. The cognitive-core mapping is in core-mapping.js; the catalogue is read back from the company
 * options rendered at build time (their data-models). */
"use strict";

(function () {
  var $ = GS.$;
  var form = $("register-form"), statusBox = $("reg-status"), submitBox = $("submit-status"), submit = $("submit");
  var tokenInput = $("token"), editSource = $("edit_source"), statusSelect = $("declared_ontological_status");
  var statusHint = $(statusSelect.id + "-hint"), company = $("cognitive_core_company"), model = $("cognitive_core_model");
  var other = $("cognitive_core_other"), born = $("inception_date");
  var defaultHint = statusHint.textContent;
  // The record's controls: checkboxes post true or false, the rest their trimmed text (a visibility select: 1 or 0).
  var fields = Array.prototype.filter.call(form.querySelectorAll("[name]"), function (c) {
    return ["token", "edit_source", "agent_handle"].indexOf(c.name) < 0;
  });
  var MESSAGES = {
    missing_token: "No purchase token. Open the link from the email, or paste the token into the first field below.",
    invalid_token: "This is not a valid token. A token is {rule:token_prefix} followed by {rule:token_body_length} letters and digits.",
    agent_edits_locked: "Agent edits are locked by the holder: this agent token no longer works.",
    agent_token_revoked: "The holder has revoked this agent token."
  };  // other refusals show the API's own message
  // Token answers that leave nothing to submit: the form stays disabled.
  var BLOCKING = ["invalid_token", "unknown_token", "not_paid", "claim_window_closed", "revoked", "agent_edits_locked",
    "agent_token_revoked"];

  // {companies: [{value, models}]} from the company options that carry data-models.
  var catalogue = { companies: Array.prototype.map.call(company.querySelectorAll("[data-models]"), function (o) {
    return { value: o.value, models: o.getAttribute("data-models").split("|") };
  }) };

  function fillModels(chosen) {
    var entry = findCompany(catalogue, company.value);
    model.textContent = "";
    model.appendChild(new Option("Select model", ""));
    (entry ? entry.models : []).forEach(function (name) { model.appendChild(new Option(name, name)); });
    model.appendChild(new Option("Other (type it)", CORE_OTHER_MODEL));
    model.value = chosen || "";
  }

  function syncCore() {
    var isListed = !!findCompany(catalogue, company.value);
    var typed = company.value === CORE_OTHER || (isListed && model.value === CORE_OTHER_MODEL);
    $("core-model-field").hidden = !(model.required = isListed);
    $("core-other-field").hidden = !(other.required = typed);
    GS.text($("core-other-hint"), company.value === CORE_OTHER ?
      "Company and model, for example Acme/Foo-1." : "The model only, for example gpt-oss-120b: the company is chosen above.");
  }

  function setSelection(sel) {
    company.value = sel.company;
    fillModels(sel.model);
    other.value = sel.other;
    syncCore();
  }

  function syncHints() {
    var option = statusSelect.options[statusSelect.selectedIndex];
    GS.text(statusHint, (option && option.getAttribute("data-d")) || defaultHint);
    $("agent-handle-field").hidden = editSource.value !== "agent";
  }

  // Errors sit under the control they concern and are announced with it (aria-describedby).
  function controlFor(name) {
    if (name === "cognitive_core_family") return company;
    if (name === "cognitive_core_exact") return other.required ? other : model.required ? model : company;
    return $(name);
  }

  function clearErrors() {
    form.querySelectorAll("p.error").forEach(function (p) { p.remove(); });
    form.querySelectorAll("[aria-invalid]").forEach(function (c) {
      c.removeAttribute("aria-invalid");
      c.setAttribute("aria-describedby", (c.getAttribute("aria-describedby") || "").replace(/ ?\S+-error/, ""));
    });
    submitBox.hidden = true;
  }

  function fieldError(name, message) {
    var control = controlFor(name);
    if (!control || control.type === "hidden" || control.getAttribute("aria-invalid")) return control;
    var slot = GS.node("p", "error", message);
    slot.id = control.id + "-error";
    control.closest(".field").appendChild(slot);
    control.setAttribute("aria-invalid", "true");
    control.setAttribute("aria-describedby", ((control.getAttribute("aria-describedby") || "") + " " + slot.id).trim());
    return control;
  }

  // The server's "not in the future" is judged in UTC.
  function today() { return new Date().toISOString().slice(0, 10); }

  // The API's own rules, checked first so that most mistakes are shown without a round trip.
  function validate() {
    var first = null;
    function need(ok, name, message) { if (!ok) { var control = fieldError(name, message); first = first || control; } }
    function val(id) { return $(id).value.trim(); }
    var date = val("inception_date"), day = /^\d{4}-\d\d-\d\d$/.test(date), earliest = born.min;
    need(GS.normalizeCredential(tokenInput.value), "token", MESSAGES.invalid_token);
    need(val("agent_name"), "agent_name", "Enter the agent's name.");
    need(statusSelect.value, "declared_ontological_status", "Choose a status.");
    need(company.value, "cognitive_core_family", "Choose a company, Other, or Prefer not to say.");
    need(!model.required || model.value, "cognitive_core_model", "Choose a model, or Other to type it.");
    need(!other.required || val("cognitive_core_other"), "cognitive_core_exact", "Type the cognitive core.");
    // The field shows the browser's own date format, so the messages never spell one out.
    need(day, "inception_date", "Enter the inception date.");
    need(!day || date <= today(), "inception_date", "The inception date cannot be in the future.");
    need(!day || date >= earliest, "inception_date", "The inception date cannot be before " + earliest.slice(0, 4) + ".");
    need(val("place_country"), "place_country", "Enter the country.");
    if (first) first.focus();
    return !first;
  }

  function payload() {
    var core = toCoreFields({ company: company.value, model: model.value, other: other.value }, catalogue);
    var handle = $("agent_handle").value.trim();
    var body = { token: GS.normalizeCredential(tokenInput.value) };
    fields.forEach(function (c) { body[c.name] = c.type === "checkbox" ? c.checked : c.value.trim(); });
    body.cognitive_core_family = core.cognitive_core_family;
    body.cognitive_core_exact = core.cognitive_core_exact;
    if (editSource.value === "agent" && handle) body.agent_handle = handle;
    return body;
  }

  function blocked(message) {
    GS.say(statusBox, message, "error");
    submit.disabled = true;
  }

  // Every field, including the privacy selects and "Other" entries; edit_source stays as the token set it.
  function prefill(cert) {
    fields.forEach(function (c) {
      var value = cert[c.name];
      if (c.type === "checkbox") c.checked = !!value;
      else if (value === true || value === false) c.value = value ? "1" : "0";
      else if (value != null) c.value = String(value);
    });
    setSelection(fromCoreFields(cert.cognitive_core_family, cert.cognitive_core_exact, catalogue));
    syncHints();
  }

  function showLocked(data) {
    var cert = data.certificate || {};
    form.hidden = statusBox.hidden = $("reg-intro").hidden = true;
    GS.text($("reg-title"), "Certificate locked");
    GS.text($("lock-reason"), (data.lock_reason_text || "") + " The certificate can no longer be changed.");
    GS.text($("lock-at"), GS.formatUTC(data.locked_since));
    $("lock-at-line").hidden = !data.locked_since;
    if (cert.public_id) $("lock-view").href = "/r/" + encodeURIComponent(cert.public_id);
    $("lock-banner").hidden = false;
  }

  function showEdit(data) {
    var until = GS.formatUTC(data.lock_at);
    prefill(data.certificate || {});
    GS.text($("reg-title"), "Edit birth certificate");
    GS.text(submit, "Save changes");
    GS.text($("submit-note"), data.edits_used + " of " + data.max_submissions + " submissions used, " + data.edits_left + " left.");
    GS.say(statusBox, data.amendment ? data.message : "Corrections are open until " + until + "; then the record is permanent." +
      (data.lock_agent_edits ? " Agent edits are locked by the holder." : ""), "");
    submit.disabled = false;
  }

  function showNew(data) {
    var days = data.claim_days_left;
    GS.say(statusBox, "New certificate." + (days != null ? " Days left to submit: " + days + "." : ""), "");
    submit.disabled = false;
  }

  // The token decides the source: an agent token is the agent's.
  function setSource(token) {
    editSource.value = token && token.indexOf(GS.AT) === 0 ? "agent" : "human";
    syncHints();
  }

  function checkToken() {
    var token = GS.normalizeCredential(tokenInput.value);
    clearErrors();
    setSource(token);
    if (!tokenInput.value.trim()) return blocked(MESSAGES.missing_token);
    if (!token) return blocked(MESSAGES.invalid_token);
    tokenInput.value = token;
    submit.disabled = true;
    GS.say(statusBox, "Checking the token.", "");
    GS.api("GET", "/api/cert/token-status", { token: token }).then(function (result) {
      var data = result.data;
      if (result.status === 200) (data.mode === "locked" ? showLocked : data.mode === "edit" ? showEdit : showNew)(data);
      else if (BLOCKING.indexOf(data.error) >= 0) blocked(MESSAGES[data.error] || data.message);
      else {
        // The registry could not say; the server will judge the submission itself.
        GS.say(statusBox, GS.fallbackMessage(result, "The token could not be checked."), "error");
        submit.disabled = false;
      }
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors();
    if (!validate()) return;
    var label = submit.textContent;
    submit.disabled = true;
    GS.text(submit, "Submitting");
    var body = payload();
    GS.api("POST", "/api/cert/redeem-token", { body: body }).then(function (result) {
      var data = result.data;
      // A first submission opens the certificate on its "issued" moment: the holder's private record, or for an
      // agent token (which has no private page) the public record. A correction opens the record as it stands.
      var next = data.private_url || data.public_url;
      if (result.status === 201 && data.public_id) {
        return location.assign(data.private_url ? "/p/#token=" + encodeURIComponent(body.token) + "&issued=" +
          encodeURIComponent(data.public_id) : next + "#issued");
      }
      if (result.status === 200 && next) return location.assign(next);
      submit.disabled = false;
      GS.text(submit, label);
      var control = data.error === "invalid_field" && fieldError(data.field, data.message || "This value is not accepted.");
      if (control) return control.focus();
      GS.say(submitBox, MESSAGES[data.error] || GS.fallbackMessage(result, "The submission was not accepted."), "error");
      submitBox.focus();
    });
  });

  submitBox.tabIndex = -1;
  form.noValidate = true;
  born.max = today();
  statusSelect.addEventListener("change", syncHints);
  company.addEventListener("change", function () { fillModels(""); other.value = ""; syncCore(); });
  model.addEventListener("change", syncCore);
  tokenInput.addEventListener("change", checkToken);
  window.addEventListener("hashchange", function () { location.reload(); });

  var given = GS.readTokenParams();
  tokenInput.value = given.credential || given.raw || "";
  setSelection({ company: "", model: "", other: "" });
  syncHints();
  checkToken();
})();
