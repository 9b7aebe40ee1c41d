/* Verification card /embed/<id>: a small page other sites may frame. It shows the record's name, id and dates
 * and the registry's verification result, and links to the public record in a new tab. Values are inserted as
 * text. */
"use strict";

(function () {
  var title = GS.$("embed-title");
  var status = GS.$("embed-status");
  var fields = GS.$("embed-fields");
  var link = GS.$("embed-link");

  function row(label, value) {
    fields.appendChild(GS.node("dt", null, label));
    fields.appendChild(GS.node("dd", null, value == null || value === "" ? "—" : value));
  }

  function verdict(answer) {
    if (answer.status === "valid") return ["Verified: signed by the registry on " + GS.formatUTC(answer.signed_at) + ".", "ok"];
    if (answer.status === "revoked") return ["Revoked by the registry.", "error"];
    if (answer.status === "superseded") return ["Superseded by a later version.", "warning"];
    return ["Not verified.", "error"];
  }

  var match = location.pathname.match(/^\/embed\/([^/]+)\/?$/);
  var id = GS.normalizeRecordId(match ? GS.decode(match[1]) : "");
  if (!id) {
    GS.say(status, "No record id was given.", "error");
    return;
  }
  link.href = "/r/" + encodeURIComponent(id);
  Promise.all([
    GS.api("GET", "/api/cert/lookup?id=" + encodeURIComponent(id)),
    GS.api("GET", "/api/cert/verify?id=" + encodeURIComponent(id)),
  ]).then(function (answers) {
    var record = answers[0], check = answers[1];
    if (record.status !== 200) {
      GS.text(title, id);
      GS.say(status, record.status === 404 || record.status === 400 ? "No record has the id " + id + "." :
        GS.fallbackMessage(record, "The record could not be loaded."), "error");
      return;
    }
    var rec = record.data;
    document.title = rec.public_id + " · Verification card · GhostShell Registry";
    GS.text(title, rec.public_id);
    link.href = "/r/" + encodeURIComponent(rec.public_id);
    if (rec.status === "revoked") {
      row("status", "revoked");
      row("revoked", GS.formatUTC(rec.revoked_at));
    } else {
      row("agent", rec.agent_name);
      row("registered", GS.formatUTC(rec.registration_date));
      row("core", rec.cognitive_core);
    }
    if (check.status === 200) {
      var words = verdict(check.data);
      GS.say(status, words[0], words[1]);
    } else {
      GS.say(status, GS.fallbackMessage(check, "The verification could not be loaded."), "error");
    }
  });
})();
