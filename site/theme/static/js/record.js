/* Public record /r/<id>: the redacted certificate (printable: paper.css prints it alone on one landscape page).
 * Withheld values are bars of one fixed width, so their length is never revealed. Every value is inserted as text. */
"use strict";

(function () {
  var status = GS.$("record-status");
  var paper = GS.$("record");
  var fields = GS.$("record-fields");
  var stamp = GS.$("record-stamp");
  var actions = GS.$("record-actions");
  var shareStatus = GS.$("share-status");

  function recordId() {
    var match = location.pathname.match(/^\/r\/([^/]+)\/?$/);
    var raw = match ? GS.decode(match[1]) : new URLSearchParams(location.search).get("id");
    return GS.normalizeRecordId(raw);
  }

  function bar() {
    var el = GS.node("span", "bar");
    el.appendChild(GS.node("span", "sr", "redacted"));
    return el;
  }

  function row(label, value) {
    fields.appendChild(GS.node("dt", null, label));
    var dd = GS.node("dd");
    if (value instanceof Node) dd.appendChild(value); else GS.text(dd, value == null || value === "" ? "—" : value);
    fields.appendChild(dd);
    return dd;
  }

  function place(loc) {
    loc = loc || {};
    var out = document.createDocumentFragment();
    var parts = [loc.city_withheld ? null : loc.city, loc.state_withheld ? null : loc.state];
    [["city", parts[0], loc.city_withheld], ["state", parts[1], loc.state_withheld]].forEach(function (p) {
      if (p[2]) out.appendChild(bar());
      else if (p[1]) out.appendChild(document.createTextNode(p[1]));
      else return;
      out.appendChild(document.createTextNode(", "));
    });
    out.appendChild(document.createTextNode(loc.country || "Unknown"));
    return out;
  }

  function machineLines(hash, url) {
    GS.text(GS.$("f-hash"), hash ? "record_hash: sha256 " + hash : "");
    GS.text(GS.$("f-url"), "public_record: " + url);
  }

  function showRecord(rec) {
    var url = rec.public_url || location.origin + "/r/" + rec.public_id;
    document.title = rec.public_id + " · Public record · GhostShell Registry";
    GS.text(GS.$("record-title"), "Public record " + rec.public_id);
    GS.text(GS.$("f-card"), rec.public_id);
    fields.textContent = "";
    if (rec.status === "revoked") {
      row("Status", "REVOKED");
      row("Revoked", GS.formatUTC(rec.revoked_at));
      GS.text(stamp, "Revoked");
      machineLines(null, url);
    } else {
      var a = rec.amendments || {};
      GS.text(GS.$("f-issue"), "Entered in the registry " + GS.formatUTC(rec.registration_date) + ".");
      // The labels are the definition's (api/definition.py), filled in by the build.
      row("{label:agent_name}", rec.agent_name);
      row("{label:inception_date}", GS.formatDate(rec.inception_date));
      row("{label:declared_ontological_status}", rec.declared_ontological_status);
      row("{legend:place}", place(rec.location));
      row("{label:cognitive_core}", rec.cognitive_core);
      row("{label:creator_label}", bar());
      row("Submissions", "Human: " + (a.human || 0) + " · Agent: " + (a.agent || 0) + " · Total: " + (a.total || 0));
      // A paid amendment makes a new version; earlier ones stay at ?version=N.
      if (rec.version > 1 || rec.latest_version > rec.version) {
        row("Status", (rec.latest_version > rec.version ? "SUPERSEDED" : "AMENDED") + ", version " + rec.version +
          (rec.amended_at ? ", " + GS.formatUTC(rec.amended_at) : ""));
      }
      (rec.history || []).forEach(function (h) {
        row("Version " + h.version, GS.formatUTC(h.date) + (h.version > 1 ? ", changed: " + (h.changed.join(", ") || "no public field") : ""));
      });
      machineLines(rec.record_hash, url);
    }
    status.hidden = true;
    paper.hidden = false;
    actions.hidden = false;
    return url;
  }

  function showNotFound(id) {
    document.title = "Record not found · GhostShell Registry";
    GS.text(GS.$("record-title"), "Record not found");
    GS.text(GS.$("f-card"), id);
    GS.text(GS.$("f-pill"), "RECORD NOT FOUND");
    fields.textContent = "";
    row("Record id", id);
    row("Status", "RECORD NOT FOUND");
    GS.text(stamp, "Record not found");
    machineLines(null, location.origin + "/r/" + id);
    GS.say(status, "No record has the id " + id + ". Check the id, or search the registry.", "error");
    paper.hidden = false;
  }

  /* The transparency log: where the record's latest entry sits, with a link to its inclusion proofs. */
  function showLogPosition(publicId) {
    var line = GS.$("f-log");
    if (!line) return;
    GS.api("GET", "/api/cert/log?id=" + encodeURIComponent(publicId)).then(function (result) {
      var entries = result.status === 200 && result.data.entries;
      if (!entries || !entries.length) return;
      var last = entries[entries.length - 1];
      line.textContent = "";
      line.appendChild(document.createTextNode("Logged at index " + last.index + " of " + result.data.size + " · "));
      var link = GS.node("a", null, "proof");
      link.href = "/api/cert/log?id=" + encodeURIComponent(publicId);
      line.appendChild(link);
    });
  }

  function wireActions(url) {
    GS.$("copy-link").addEventListener("click", function () {
      GS.copyText(url).then(function () { GS.say(shareStatus, "Link copied.", "ok"); },
        function () { GS.say(shareStatus, "Copying failed. The link is " + url, "error"); });
    });
    GS.$("share").addEventListener("click", function () {
      if (navigator.share) {
        navigator.share({ title: document.title, url: url }).catch(function () { /* dismissed */ });
        return;
      }
      GS.copyText(url).then(function () { GS.say(shareStatus, "Sharing is not available here; the link was copied.", "ok"); },
        function () { GS.say(shareStatus, "The link is " + url, ""); });
    });
    GS.$("print").addEventListener("click", function () { window.print(); });
  }

  var id = recordId();
  if (!id) {
    GS.say(status, "Enter a record id below to look it up.", "");
    return;
  }
  var version = new URLSearchParams(location.search).get("version");
  GS.api("GET", "/api/cert/lookup?id=" + encodeURIComponent(id) + (version ? "&version=" + encodeURIComponent(version) : "")).then(function (result) {
    if (result.status === 200 && result.data.public_id) {
      var url = showRecord(result.data);
      wireActions(url);
      showLogPosition(result.data.public_id);
      // An agent's first submission lands here (it has no private page): the moment of issue, said once.
      if (location.hash === "#issued") {
        GS.say(status, "Certificate " + result.data.public_id + " issued. It is entered in the registry: share, copy " +
          "or print it below.", "ok");
        history.replaceState(null, "", location.pathname);
      }
      if (location.pathname !== "/r/" + result.data.public_id) {
        history.replaceState(null, "", "/r/" + encodeURIComponent(result.data.public_id));
      }
    } else if (result.status === 404 || result.status === 400) {
      showNotFound(id);
    } else {
      GS.say(status, GS.fallbackMessage(result, "The record could not be loaded.") + " Reload to try again.", "error");
    }
  });
})();
