/* Private record /p/#<token>: the token stays in the fragment, so it never reaches a server log or a
 * Referer. Shows the full record, the correction countdown, the agent-edit lock and a print view. */
"use strict";

(function () {
  var status = GS.$("p-status");
  var tokenForm = GS.$("p-token-form");
  var fields = GS.$("p-fields");
  var lock = GS.$("p-lock");
  var lockStatus = GS.$("p-lock-status");
  var token = null;
  var issued = null;  // the public id just issued by the register page (#token=...&issued=<id>), shown once
  var timer = null;
  var amend = null;  // ?amendment=<session id> or "cancelled": back from an amendment's checkout

  function row(label, value) {
    fields.appendChild(GS.node("dt", null, label));
    fields.appendChild(GS.node("dd", null, value == null || value === "" ? "—" : value));
  }

  function duration(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return two(Math.floor(s / 3600)) + ":" + two(Math.floor((s % 3600) / 60)) + ":" + two(s % 60);
  }

  function countdown(lockAt) {
    var target = new Date(lockAt).getTime();
    var line = GS.$("p-window");
    function tick() {
      var left = target - Date.now();
      if (isNaN(target) || left <= 0) {
        GS.text(line, "The correction window has closed.");
        clearInterval(timer);
        setEditable(false);
        return;
      }
      line.textContent = "";
      line.appendChild(document.createTextNode("Corrections close in "));
      line.appendChild(GS.node("span", "countdown", duration(left)));
      line.appendChild(document.createTextNode(" (at " + GS.formatUTC(lockAt) + ")."));
    }
    clearInterval(timer);
    tick();
    timer = setInterval(tick, 1000);
  }

  function setEditable(open) {
    var edit = GS.$("p-edit-link");
    if (open) {
      edit.href = "/register/#token=" + encodeURIComponent(token) + "&by=human";
      edit.removeAttribute("aria-disabled");
    } else {
      edit.removeAttribute("href");
      edit.setAttribute("aria-disabled", "true");
      edit.setAttribute("role", "link");
    }
  }

  function fullPlace(c) {
    var parts = [c.place_city, c.place_state, c.place_country].filter(function (p) { return p; });
    return parts.length ? parts.join(", ") : "Unknown";
  }

  // The certificate's QR code to its public record: an SVG the API draws (segno), in the certificate's slot.
  function qr(slot, publicId) {
    var img = GS.node("img");
    img.src = "/api/cert/qr.svg?id=" + encodeURIComponent(publicId);
    img.alt = "QR code to the public record " + publicId;
    slot.textContent = "";
    slot.appendChild(img);
  }

  function showIssued(c) {
    var publicUrl = c.public_url || location.origin + "/r/" + c.public_id;
    GS.$("p-issued").hidden = false;
    GS.text(GS.$("p-title"), "Private record " + c.public_id);
    GS.text(GS.$("p-card"), c.public_id);
    GS.$("p-public-link").href = "/r/" + encodeURIComponent(c.public_id);
    var a = c.amendments || {};
    fields.textContent = "";
    GS.text(GS.$("p-issue"), "Entered in the registry " + GS.formatUTC(c.registration_date) + ".");
    qr(GS.$("p-qr"), c.public_id);
    // The labels are the definition's (api/definition.py), filled in by the build.
    row("{label:agent_name}", c.agent_name || "Unknown Agent");
    row("{label:inception_date}", GS.formatDate(c.inception_date));
    row("{label:declared_ontological_status}", c.declared_ontological_status || "Undisclosed");
    row("{legend:place}", fullPlace(c));
    row("Shown publicly", "city " + (c.show_city_public ? "public" : "redacted") + ", state " +
      (c.hide_state_public ? "redacted" : "public") + ", country public");
    row("{label:cognitive_core}", c.cognitive_core);
    row("{label:creator_label}", c.custodian || "Undisclosed");
    row("Submissions", "Human: " + (a.human || 0) + " · Agent: " + (a.agent || 0) + " · Total: " + (a.total || 0));
    row("{label:listed}", c.listed ? "Yes" : "No");
    if (c.parent_record) row("{label:parent_record}", c.parent_record + (c.parent_record_status ? " (" + c.parent_record_status + ")" : ""));
    GS.text(GS.$("p-hash"), "record_hash: sha256 " + (c.record_hash || ""));
    GS.text(GS.$("p-url"), "public_record: " + publicUrl);
    GS.text(GS.$("p-nonce"), c.record_nonce);
    GS.text(GS.$("p-record-hash"), c.record_hash);
    GS.text(GS.$("p-hash-input"), c.record_hash_input);

    GS.text(GS.$("p-edits"), "Edits remaining: " + (c.edits_left != null ? c.edits_left : 0) + " of " +
      c.max_submissions + " submissions.");
    if (c.locked) {
      GS.text(GS.$("p-window"), c.lock_reason === "cap_reached"
        ? "Locked: every allowed submission has been used."
        : "Locked: the correction window has closed.");
      setEditable(false);
    } else {
      setEditable(true);
      countdown(c.lock_at);
    }
    lock.checked = !!c.lock_agent_edits;
    // Once nothing can change, the agent lock has nothing left to guard.
    lock.disabled = !!c.locked;
    if (c.locked) GS.text(GS.$("p-lock-note"), "A locked record takes no agent edits.");
    status.hidden = true;
    loadAgentToken();
    if (issued === c.public_id) showMoment(c.public_id, publicUrl);
  }

  // A locked record takes one more submission through a paid amendment (Stripe Checkout).
  function showAmendment(d, c) {
    GS.$("p-amend-buy").hidden = !c.locked || d.available || !d.can_buy;
    if (c.locked && d.available) setEditable(true);
    GS.say(GS.$("p-amend"), c.locked ? (amend == "cancelled" ? "Checkout cancelled. " : "") + (d.available ?
      "Amendment paid: Edit details" : "An amendment (" + d.price + ")") + " allows one more submission, as version " +
      (d.version + 1) + "." : "", "");
  }

  // The agent's own token (made on the handoff page): its state, and the holder's revocation.
  function loadAgentToken() {
    var line = GS.$("p-agent-token"), revoke = GS.$("p-revoke-agent");
    GS.api("GET", "/api/cert/agent-token", { token: token }).then(function (result) {
      var d = result.data || {};
      line.textContent = "";
      revoke.hidden = !(result.status === 200 && d.active);
      if (result.status !== 200) return GS.text(line, GS.fallbackMessage(result, "The agent token's state could not be loaded."));
      if (d.active) return GS.text(line, "Agent token: active, ending " + d.token_last4 + ", made " + GS.formatUTC(d.created_at) +
        (d.last_used_at ? ", last used " + GS.formatUTC(d.last_used_at) : ", not used yet") + ".");
      line.appendChild(document.createTextNode("Agent token: none. Make one on "));
      var link = GS.node("a", null, "the handoff page");
      link.href = "/handoff/#token=" + encodeURIComponent(token);
      line.appendChild(link);
      line.appendChild(document.createTextNode("."));
    });
  }

  // The moment of issue: the confirmation, the public link, copy, share and print. Shown once, then the address
  // becomes the plain private link again.
  function showMoment(publicId, publicUrl) {
    var note = GS.$("p-moment-status");
    var link = GS.$("p-moment-link");
    GS.text(GS.$("p-moment-id"), publicId);
    GS.text(link, publicUrl);
    link.href = publicUrl;
    GS.$("p-moment").hidden = false;
    GS.$("p-moment-title").focus();
    history.replaceState(null, "", "/p/#" + token);
    GS.$("p-moment-copy").onclick = function () {
      GS.copyText(publicUrl).then(function () { GS.text(note, "Link copied."); },
        function () { GS.text(note, "Copying failed. The link is " + publicUrl); });
    };
    GS.$("p-moment-share").onclick = function () {
      if (navigator.share) navigator.share({ title: "Certificate " + publicId, url: publicUrl }).catch(function () {});
      else GS.copyText(publicUrl).then(function () { GS.text(note, "Sharing is not available here; the link was copied."); },
        function () { GS.text(note, "The link is " + publicUrl); });
    };
    GS.$("p-moment-print").onclick = function () { window.print(); };
  }

  function showNotIssued(d) {
    GS.$("p-not-issued").hidden = false;
    var link = GS.$("p-submit-link");
    if (d.claim_open) {
      var days = d.claim_days_left;
      GS.text(GS.$("p-claim"), "Initial submission window: open, about " + days + " day" + (days === 1 ? "" : "s") +
        " remaining (until " + GS.formatUTC(d.claim_deadline) + ").");
      link.href = "/register/#token=" + encodeURIComponent(token) + "&by=human";
    } else {
      GS.text(GS.$("p-claim"), "Initial submission window: closed. The {rule:claim_window_days}-day window has expired.");
      link.hidden = true;
    }
    status.hidden = true;
  }

  function showRevoked(c) {
    GS.$("p-revoked").hidden = false;
    GS.text(GS.$("p-revoked-text"), "Certificate " + (c.public_id || "") + " was revoked on " + GS.formatUTC(c.revoked_at) +
      ". The public record now shows only that it was revoked.");
    status.hidden = true;
  }

  function load() {
    GS.say(status, "Loading the record.", "");
    // Back from an amendment's checkout: the registry asks Stripe too, in case its event is late.
    GS.api("GET", "/api/cert/private" + (amend ? "?session_id=" + encodeURIComponent(amend) : ""), { token: token }).then(function (result) {
      var data = result.data;
      var retention = GS.$("p-retention");
      retention.hidden = !data.recovery_email_deleted_at;
      GS.text(retention, data.recovery_email_deleted_at ? "The recovery email address was deleted on " +
        GS.formatUTC(data.recovery_email_deleted_at) + " under the retention policy. The registry can no longer " +
        "email this link or replace it. Keep this link safe." : "");
      if (result.status === 200 && data.state === "not_issued") showNotIssued(data);
      else if (result.status === 200 && data.certificate && data.certificate.status === "revoked") showRevoked(data.certificate);
      else if (result.status === 200 && data.certificate) { showIssued(data.certificate); showAmendment(data.amendment, data.certificate); }
      else if (result.status === 404) GS.say(status, "This token is not recognised.", "error");
      else GS.say(status, GS.fallbackMessage(result, "The record could not be loaded.") + " Reload to try again.", "error");
    });
  }

  lock.addEventListener("change", function () {
    var wanted = lock.checked;
    lock.disabled = true;
    GS.api("POST", "/api/cert/lock-agent-edits", { body: { token: token, locked: wanted } }).then(function (result) {
      lock.disabled = false;
      if (result.status === 200) {
        lock.checked = !!result.data.lock_agent_edits;
        GS.say(lockStatus, lock.checked ? "Agent edits are locked." : "Agent edits are allowed.", "ok");
      } else {
        lock.checked = !wanted;
        GS.say(lockStatus, GS.fallbackMessage(result, "The setting could not be changed."), "error");
      }
    });
  });

  GS.$("p-revoke-agent").addEventListener("click", function () {
    GS.api("DELETE", "/api/cert/agent-token", { token: token }).then(function (result) {
      GS.say(lockStatus, result.status === 200 ? "The agent token is revoked; it no longer works." :
        GS.fallbackMessage(result, "The agent token could not be revoked."), result.status === 200 ? "ok" : "error");
      loadAgentToken();
    });
  });

  GS.$("p-print").addEventListener("click", function () { window.print(); });

  // The token never goes to Stripe: this tab keeps it until the checkout sends the holder back.
  GS.$("p-amend-buy").addEventListener("click", function () {
    try { sessionStorage.gs_amend = token; } catch (e) { /* storage may be disabled */ }
    GS.api("POST", "/api/cert/amendment", { token: token }).then(function (result) {
      if (result.status === 201) location.assign(result.data.checkout_url);
      else GS.say(GS.$("p-amend"), GS.fallbackMessage(result, "Checkout failed."), "error");
    });
  });

  tokenForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var typed = GS.normalizeToken(GS.$("p-token").value);
    if (!typed) { GS.say(status, "This is not a valid token. A token is {rule:token_prefix} followed by {rule:token_body_length} letters and digits.", "error"); return; }
    location.hash = typed;
  });

  function start() {
    ["p-issued", "p-not-issued", "p-revoked"].forEach(function (id) { GS.$(id).hidden = true; });
    amend = new URLSearchParams(location.search).get("amendment");
    token = GS.readTokenParams().token;
    if (amend) {
      try { token = token || GS.normalizeToken(sessionStorage.gs_amend); sessionStorage.gs_amend = ""; } catch (e) { /* none */ }
      if (token) history.replaceState(null, "", "/p/#" + token);
    }
    issued = GS.normalizeRecordId(new URLSearchParams(location.hash.slice(1)).get("issued"));
    tokenForm.hidden = !!token;
    if (token) load();
    else GS.say(status, location.hash ? "This link does not carry a valid token. Paste it below." : "Paste the token from your email to open the private record.", location.hash ? "error" : "");
  }

  window.addEventListener("hashchange", start);
  start();
})();
